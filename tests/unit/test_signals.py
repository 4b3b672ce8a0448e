"""Signals: parsing Debezium's format, acting once per table, and where a task's channel starts."""

import orjson
import pytest

from python_connector.records.buffer import RecordBuffer
from python_connector.records.offsets import SignalDecision, TableSnapshot, read_signals
from python_connector.task import signals as signals_module
from python_connector.task.signals import BadSignal, SignalProcessor, SignalScope, consumer_settings, parse


def value(**body):
    return orjson.dumps(body)


EXECUTE = value(id="s1", type="execute-snapshot", data={"data-collections": ["orders"], "type": "incremental"})


def test_an_execute_snapshot_signal_parses():
    signal = parse(b"c1", EXECUTE, "c1", 7)
    assert (signal.id, signal.type, signal.tables, signal.offset) == ("s1", "execute-snapshot", ("orders",), 7)
    stop = parse(b"c1", value(id="s2", type="stop-snapshot", data={"data-collections": ["a", "a", "b"]}), "c1", 8)
    assert stop.type == "stop-snapshot" and stop.tables == ("a", "b")  # "type" defaults to incremental


def test_a_signal_for_another_connector_is_not_ours():
    assert parse(b"other", EXECUTE, "c1", 0) is None
    assert parse(None, EXECUTE, "c1", 0) is None


@pytest.mark.parametrize(("raw", "signal_id", "reason"), [
    (b"not json", None, "not JSON"),
    (b"[1]", None, "not a JSON object"),
    (value(type="execute-snapshot", data={"data-collections": ["t"]}), None, "no \"id\""),
    (value(id="x", type="log", data={}), "x", "'log' is not supported"),
    (value(id="x", type="execute-snapshot"), "x", "no \"data\""),
    (value(id="x", type="execute-snapshot", data={"data-collections": []}), "x", "data-collections"),
    (value(id="x", type="execute-snapshot", data={"data-collections": [3]}), "x", "data-collections"),
    (value(id="x", type="execute-snapshot", data={"data-collections": ["t"], "type": "blocking"}), "x",
     "'blocking' is not supported"),
])
def test_a_malformed_signal_is_refused_with_its_id(raw, signal_id, reason):
    with pytest.raises(BadSignal, match=reason) as error:
        parse(b"c1", raw, "c1", 0)
    assert error.value.signal_id == signal_id
    assert (signal_id or "(no id)") in str(error.value)


def test_consumer_settings_pass_signal_consumer_properties_on():
    settings = consumer_settings({"signal.consumer.security.protocol": "SASL_SSL", "signal.consumer.sasl.password":
                                  "s3cret", "aws.secret.access.key": "no"}, "k:9092", "c1")
    assert settings["security.protocol"] == "SASL_SSL" and settings["sasl.password"] == "s3cret"
    assert settings["bootstrap.servers"] == "k:9092" and "aws.secret.access.key" not in settings
    assert settings["enable.auto.commit"] is False


class Actions:
    def __init__(self):
        self.running = {}
        self.started, self.stopped = [], []

    def running_snapshot(self, table):
        return self.running.get(table)

    def start_snapshot(self, table, snapshot):
        self.started.append((table, snapshot))
        self.running[table] = snapshot

    def stop_snapshot(self, table):
        self.stopped.append(table)
        self.running.pop(table, None)


def processor(actions, decisions=None, owned=("orders",), reports=True):
    buffer = RecordBuffer(100)
    scope = SignalScope("sig", "hb", owned, ("orders", "items"), reports)
    return SignalProcessor(scope, decisions or {}, {"orders": 1}, actions, buffer.put, lambda: 5_000_000_000), buffer


def decisions_in(buffer):
    groups = buffer.take(100, 0)
    return read_signals([{"partition": g.header["partition"], "offset": g.header["offset"]} for g in groups], "sig")


def test_an_execute_snapshot_is_decided_then_started_with_the_next_count():
    actions = Actions()
    proc, buffer = processor(actions)
    proc.handle(parse(b"c", EXECUTE, "c", 3))
    assert actions.started == [("orders", TableSnapshot(5000, 2))]
    assert decisions_in(buffer) == {"orders": SignalDecision(4, "s1", "execute-snapshot", TableSnapshot(5000, 2))}


def test_a_signal_handled_before_a_restart_is_not_acted_on_again():
    actions = Actions()
    handled = {"orders": SignalDecision(4, "s1", "execute-snapshot", TableSnapshot(4000, 2))}
    proc, buffer = processor(actions, handled)
    assert proc.start_offset() == 4
    proc.handle(parse(b"c", EXECUTE, "c", 3))
    assert actions.started == [] and buffer.take(100, 0) == []


def test_stop_snapshot_stops_the_running_one_and_is_stored():
    actions = Actions()
    proc, buffer = processor(actions)
    proc.handle(parse(b"c", EXECUTE, "c", 0))
    proc.handle(parse(b"c", value(id="s2", type="stop-snapshot", data={"data-collections": ["orders"]}), "c", 1))
    assert actions.stopped == ["orders"]
    assert decisions_in(buffer)["orders"] == SignalDecision(2, "s2", "stop-snapshot", TableSnapshot(5000, 2))


class Log:
    """The module's logger, recorded (import-linter, run by another test, leaves logging disabled)."""

    def __init__(self):
        self.lines = []

    def warning(self, message, *args):
        self.lines.append(message % args)

    info = warning


def test_unknown_tables_and_tables_of_other_tasks_are_skipped(monkeypatch):
    log = Log()
    monkeypatch.setattr(signals_module, "log", log)
    actions = Actions()
    proc, buffer = processor(actions)
    signal = parse(b"c", value(id="s9", type="execute-snapshot", data={"data-collections": ["nope", "items"]}), "c", 0)
    proc.handle(signal)
    assert actions.started == [] and buffer.take(100, 0) == []
    [line] = log.lines
    assert "s9" in line and "nope" in line and "items" not in line


def test_a_channel_starts_at_the_earliest_next_signal_of_its_tables():
    decided = SignalDecision(9, "x", "execute-snapshot", TableSnapshot(1, 2))
    assert processor(Actions(), {"orders": decided})[0].start_offset() == 9
    assert processor(Actions(), {"orders": decided}, owned=("orders", "items"))[0].start_offset() is None


def test_planning_follows_signal_decisions():
    from python_connector import config as cfg
    from python_connector.connector.planning import plan_tasks
    from python_connector.records.offsets import SegmentProgress
    from python_connector.snapshot.plan import decide_table_snapshots
    from python_connector.task.task_config import Unit

    raw = {"name": "c", "dynamodb.table.includelist": "aaa,bbb", "dynamodb.snapshot.total.segments": "2",
           "signal.kafka.topic": "sig", "signal.kafka.bootstrap.servers": "k:9092"}
    config = cfg.parse({**raw, "dynamodb.table.sync.mode": "CDC"})
    done = {("aaa", s): SegmentProgress(100, 1, None, True) for s in range(2)}
    execute = {"aaa": SignalDecision(5, "s", "execute-snapshot", TableSnapshot(900, 2))}
    snapshots = decide_table_snapshots(["aaa", "bbb"], done, 1000, signals=execute)
    assert snapshots["aaa"] == TableSnapshot(900, 2)
    # a signal's snapshot in progress: its segments (of count 2) and its stream on one task; each stream on one task
    assert plan_tasks(config, ["aaa", "bbb"], snapshots, done, 2, execute) == [
        [Unit("aaa", 0), Unit("aaa", 1), Unit.stream("aaa")], [Unit.stream("bbb")]]
    stopped = {"aaa": SignalDecision(6, "t", "stop-snapshot", TableSnapshot(900, 2))}
    assert plan_tasks(config, ["aaa", "bbb"], snapshots, done, 2, stopped) == [[Unit.stream("aaa")],
                                                                                [Unit.stream("bbb")]]


def test_stop_snapshot_after_the_scan_ended_still_drops_what_it_holds():
    actions = Actions()
    proc, buffer = processor(actions)
    proc.handle(parse(b"c", value(id="s3", type="stop-snapshot", data={"data-collections": ["orders"]}), "c", 0))
    assert actions.stopped == ["orders"]  # the task drops the pages the last snapshot still holds
    assert decisions_in(buffer)["orders"].snapshot.count == 1  # the last snapshot, stopped


def test_signal_settings_are_validated():
    from python_connector import config as cfg

    base = {"name": "c", "dynamodb.table.includelist": "aaa", "signal.kafka.topic": "sig"}
    assert "signal.kafka.bootstrap.servers" in cfg.validate(base)
    assert "signal.kafka.topic" in cfg.validate({**base, "signal.kafka.bootstrap.servers": "k:9092",
                                                 "dynamodb.table.sync.mode": "SNAPSHOT"})
    assert cfg.validate({**base, "signal.kafka.bootstrap.servers": "k:9092"}) == {}
    assert cfg.unknown_property_warnings({**base, "signal.consumer.sasl.password": "x"}) == []
    assert "dynamodb.snapshot.strategy" in cfg.validate({**base, "signal.kafka.bootstrap.servers": "k:9092",
                                                         "dynamodb.snapshot.strategy": "FAST"})


def test_signal_decisions_are_among_the_offsets_the_connector_and_its_tasks_read(monkeypatch):
    from python_connector.aws.tables import TableNotFound
    from python_connector.connector import offsets_admin
    from python_connector.records import offsets
    from python_connector.records.offsets import TableSnapshot as Snapshot
    from python_connector.task.task_config import Unit, task_config

    def not_found(*_):
        raise TableNotFound("aaa", "http://nowhere")

    monkeypatch.setattr(offsets_admin, "describe", not_found)  # a task's shard listing is not what this tests
    raw = {"name": "c", "dynamodb.table.includelist": "aaa", "dynamodb.table.sync.mode": "SNAPSHOT_CDC",
           "signal.kafka.topic": "sig", "signal.kafka.bootstrap.servers": "k:9092",
           "dynamodb.service.endpoint": "http://127.0.0.1:9", "aws.access.key.id": "x", "aws.secret.access.key": "x"}
    assert offsets.signal_partition("sig", "aaa") in offsets_admin.offset_partitions(raw)
    task = task_config(raw, [Unit("aaa", 0), Unit.stream("aaa")], {"aaa": Snapshot(1, 1)}, {}, 0)
    assert offsets.signal_partition("sig", "aaa") in offsets_admin.offset_partitions(task)


def test_a_task_started_with_an_older_configuration_follows_the_later_snapshot_its_offsets_show():
    from python_connector.records.offsets import SegmentProgress
    from python_connector.snapshot.plan import latest_snapshots, stopped_by_signal

    planned = {"aaa": TableSnapshot(100, 1), "bbb": TableSnapshot(100, 1)}
    # aaa: a signal's snapshot 3 was stopped since the configuration was made; bbb: nothing newer stored
    stored = {("aaa", 0): SegmentProgress(700, 3, None, False), ("bbb", 0): SegmentProgress(100, 1, None, True)}
    stop = {"aaa": SignalDecision(9, "stop-2", "stop-snapshot", TableSnapshot(700, 3))}
    latest = latest_snapshots(planned, stored, stop)
    assert latest == {"aaa": TableSnapshot(700, 3), "bbb": TableSnapshot(100, 1)}
    assert stopped_by_signal("aaa", latest["aaa"], stop) and not stopped_by_signal("aaa", planned["aaa"], stop)
    # a configuration newer than the offsets (a fresh snapshot planned) stands
    assert latest_snapshots({"aaa": TableSnapshot(900, 4)}, stored, stop) == {"aaa": TableSnapshot(900, 4)}
