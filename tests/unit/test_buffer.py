import threading

from python_connector.records.buffer import Group, RecordBuffer


def group(n, last=None):
    return Group({"g": n}, [bytes([i]) for i in range(n)], last)


def test_take_splits_a_group_and_keeps_its_last_offset_on_the_final_part():
    buffer = RecordBuffer(100)
    buffer.put(group(5, {"done": True}))
    first = buffer.take(3, 0)
    second = buffer.take(3, 0)
    assert [(len(g.records), g.last_offset) for g in first] == [(3, None)]
    assert [(len(g.records), g.last_offset) for g in second] == [(2, {"done": True})]


def test_put_waits_until_in_flight_records_are_acknowledged():
    buffer = RecordBuffer(4)
    buffer.put(group(4))
    buffer.take(4, 0)  # all four are now in flight
    added = threading.Event()
    threading.Thread(target=lambda: (buffer.put(group(1)), added.set()), daemon=True).start()
    assert not added.wait(0.2)
    buffer.release(4)
    assert added.wait(5)


def test_take_returns_what_it_has_when_the_linger_runs_out():
    buffer = RecordBuffer(100)
    buffer.put(group(2))
    assert sum(len(g.records) for g in buffer.take(10, 0.05)) == 2


def test_a_reader_error_surfaces_in_take_and_close_wakes_a_waiting_put():
    buffer = RecordBuffer(1)
    buffer.put(group(1))
    result = []
    t = threading.Thread(target=lambda: result.append(buffer.put(group(1))))
    t.start()
    buffer.close()
    t.join(5)
    assert result == [False]
    failing = RecordBuffer(10)
    failing.fail(RuntimeError("boom"))
    try:
        failing.take(1, 1)
    except RuntimeError as e:
        assert str(e) == "boom"
    else:
        raise AssertionError("take did not raise")


def test_without_linger_an_empty_buffer_waits_briefly_for_the_first_group_instead_of_spinning():
    buffer = RecordBuffer(100)
    threading.Timer(0.03, lambda: buffer.put(group(1))).start()
    assert sum(len(g.records) for g in buffer.take(10, 0)) == 1  # came within the empty wait, returned at once
    assert buffer.take(10, 0) == []  # nothing comes: empty after the short wait
