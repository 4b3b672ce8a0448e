import struct
import threading
import time

import orjson
import pytest

from python_connector.aws.client import AwsError
from python_connector.records import offsets
from python_connector.records.buffer import RecordBuffer
from python_connector.records.tables import TableInfo
from python_connector.streams.dynamodb import DynamoDbStreams
from python_connector.streams.leases import SHARD_END, LeaseKeeper
from python_connector.streams.positions import InitialPosition
from python_connector.streams.reader import CdcError, ReaderSettings, StreamStart, TableStreamReader
from python_connector.streams.source import Shard, StreamInfo, lineage_order
from tests.unit.fakes import FakeLeaseTable

TABLE = TableInfo("t", (("id", "S"),))
STREAM = StreamInfo("t", "arn:stream", "NEW_AND_OLD_IMAGES")


def change(seq, key, op="INSERT", at=1000.0):
    image = {"id": {"S": key}, "n": {"N": str(seq)}}
    body = {"ApproximateCreationDateTime": at, "Keys": {"id": {"S": key}}, "SequenceNumber": f"{seq:05d}"}
    if op != "REMOVE":
        body["NewImage"] = image
    if op != "INSERT":
        body["OldImage"] = image
    return {"eventName": op, "dynamodb": body}


class FakeStream:
    """DescribeStream, GetShardIterator and GetRecords over in-memory shards, like DynamoDB Streams."""

    endpoint = "http://fake"

    def __init__(self, shards, fail=None):
        self.shards = shards  # id -> {"parent": str|None, "records": [...], "closed": bool}
        self.fail = fail or {}  # operation -> errors to raise on its next calls
        self.iterator_requests = []

    def call(self, operation, body, retry_throttling=True):
        errors = self.fail.get(operation)
        if errors:
            raise errors.pop(0)
        if operation == "DescribeStream":
            return {"StreamDescription": {"Shards": [
                {"ShardId": sid, **({"ParentShardId": s["parent"]} if s["parent"] else {}),
                 "SequenceNumberRange": {"StartingSequenceNumber": "0", **({"EndingSequenceNumber": "9"}
                                                                              if s["closed"] else {})}}
                for sid, s in self.shards.items()]}}
        if operation == "GetShardIterator":
            self.iterator_requests.append(dict(body))
            records = self.shards[body["ShardId"]]["records"]
            kind = body["ShardIteratorType"]
            if kind == "TRIM_HORIZON":
                index = 0
            elif kind == "LATEST":
                index = len(records)
            else:
                index = [r["dynamodb"]["SequenceNumber"] for r in records].index(body["SequenceNumber"]) + 1
            return {"ShardIterator": orjson.dumps([body["ShardId"], index]).decode()}
        if operation == "GetRecords":
            shard, index = orjson.loads(body["ShardIterator"])
            s = self.shards[shard]
            page = s["records"][index:index + body["Limit"]]
            end = index + len(page)
            following = None if s["closed"] and end >= len(s["records"]) else orjson.dumps([shard, end]).decode()
            return {"Records": page, "NextShardIterator": following}
        raise AssertionError(operation)


FROM_START = InitialPosition("TRIM_HORIZON")


class Hooks:
    """The task's side of a reader: no snapshot to wait for, no announcement."""

    def __init__(self, stopped, current_arn=None):
        self.stopped = stopped
        self._current_arn = current_arn

    def may_start(self):
        return True

    def current_stream_arn(self):
        return None if self._current_arn is None else self._current_arn()

    def announcement(self):
        return []


def run_reader(stream, initial=FROM_START, stored=None, want=0, timeout=5.0, current_arn=None, lease_table=None,
               commit=False, heartbeat_s=300.0):
    """Runs a reader (and its lease keeper) until the buffer holds `want` records; returns (sequence numbers in
    order, groups). With `commit`, every group taken is committed as Connect would."""
    buffer = RecordBuffer(10_000)
    stopped = threading.Event()
    keeper = LeaseKeeper("me")
    hooks = Hooks(stopped, current_arn)
    reader = TableStreamReader(DynamoDbStreams(stream), TABLE, StreamStart(STREAM, initial, stored or {}), buffer,
                               keeper, lease_table or FakeLeaseTable(), hooks,
                               ReaderSettings(5000, heartbeat_s=heartbeat_s))
    errors = []
    thread = threading.Thread(target=lambda: _guard(reader.run, errors), daemon=True)
    thread.start()
    threading.Thread(target=keeper.run, args=(stopped,), daemon=True).start()
    groups, count = [], 0
    deadline = time.monotonic() + timeout
    while count < want and time.monotonic() < deadline and not errors:
        got = buffer.take(max(want - count, 1), 0.05)
        if commit:
            keeper.committed(g.committed for g in got if g.committed)
        groups += got
        count += sum(len(g.records) for g in got)
    stopped.set()
    buffer.close()
    thread.join(5)
    keeper.release_all()  # as the task does when it stops: committed positions reach the lease table
    if errors:
        raise errors[0]
    sequences = [_seq(r) for g in groups for r in g.records]
    return sequences, groups


def _guard(body, errors):
    try:
        body()
    except Exception as e:
        errors.append(e)


def _seq(record):
    """The seq_No of a wire record: after i64 ts and the op string."""
    (op_len,) = struct.unpack_from("<i", record, 8)
    (seq_len,) = struct.unpack_from("<i", record, 12 + op_len)
    return record[16 + op_len:16 + op_len + seq_len].decode()


def test_parents_are_read_to_their_end_before_children():
    stream = FakeStream({
        "child": {"parent": "parent", "records": [change(5, "a"), change(6, "b")], "closed": False},
        "parent": {"parent": None, "records": [change(1, "a"), change(2, "a", "MODIFY")], "closed": True},
    })
    sequences, groups = run_reader(stream, want=4)
    assert sequences == ["00001", "00002", "00005", "00006"]
    assert groups[0].last_offset == offsets.SHARD_DONE  # the parent's last record marks it ended


def test_lineage_order_puts_every_parent_first_and_ignores_trimmed_parents():
    shards = [Shard("c", "b", False), Shard("b", "a", True), Shard("x", "gone", False), Shard("a", None, True)]
    assert [s.id for s in lineage_order(shards)] == ["a", "b", "c", "x"]


def test_latest_skips_closed_shards_and_earlier_changes_at_first_start():
    stream = FakeStream({
        "old": {"parent": None, "records": [change(1, "a")], "closed": True},
        "open": {"parent": "old", "records": [change(2, "a")], "closed": False},
    })
    sequences, _ = run_reader(stream, InitialPosition("LATEST"), want=1, timeout=0.5)
    assert sequences == []
    assert [r["ShardIteratorType"] for r in stream.iterator_requests] == ["LATEST"]


def test_at_timestamp_emits_nothing_older():
    stream = FakeStream({"s": {"parent": None, "closed": False, "records": [
        change(1, "a", at=100.0), change(2, "b", at=200.0), change(3, "c", at=300.0)]}})
    sequences, _ = run_reader(stream, InitialPosition("AT_TIMESTAMP", at_ms=200_000), want=2)
    assert sequences == ["00002", "00003"]


def test_a_stored_position_resumes_after_it_and_an_ended_shard_is_not_read():
    stream = FakeStream({
        "a": {"parent": None, "records": [change(1, "k")], "closed": True},
        "b": {"parent": "a", "records": [change(2, "k"), change(3, "k")], "closed": False},
    })
    stored = {"a": offsets.ShardProgress("00001", True), "b": offsets.ShardProgress("00002", False)}
    sequences, _ = run_reader(stream, stored=stored, want=1)
    assert sequences == ["00003"]
    assert stream.iterator_requests == [{"StreamArn": "arn:stream", "ShardId": "b",
                                         "ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": "00002"}]


def test_a_shard_found_after_the_first_start_is_read_from_its_beginning():
    stream = FakeStream({"a": {"parent": None, "records": [change(1, "k")], "closed": False}})
    stored = {"a": offsets.ShardProgress("00001", False)}
    stream.shards["new"] = {"parent": None, "records": [change(7, "z")], "closed": False}
    sequences, _ = run_reader(stream, InitialPosition("LATEST"), stored=stored, want=1)
    assert sequences == ["00007"]  # LATEST applies only at the table's first start


def test_an_expired_iterator_is_replaced_from_the_last_position():
    stream = FakeStream({"s": {"parent": None, "records": [change(1, "a"), change(2, "b")], "closed": False}},
                        fail={"GetRecords": [AwsError("GetRecords", "ExpiredIteratorException", "expired", 400)]})
    sequences, _ = run_reader(stream, want=2)
    assert sequences == ["00001", "00002"]
    assert len(stream.iterator_requests) == 2


def test_trimmed_data_fails_the_table_loudly():
    stream = FakeStream({"s": {"parent": None, "records": [change(1, "a")], "closed": False}},
                        fail={"GetRecords": [AwsError("GetRecords", "TrimmedDataAccessException", "trimmed", 400)]})
    with pytest.raises(CdcError, match="24-hour retention and were never read: they are lost"):
        run_reader(stream, want=1)


def test_a_replaced_stream_stops_the_table_saying_how_to_recover():
    stream = FakeStream({"s": {"parent": None, "records": [change(1, "a")], "closed": False}})
    with pytest.raises(CdcError, match=r"arn:stream -> arn:stream-new.*takes a new snapshot"):
        run_reader(stream, want=1, current_arn=lambda: "arn:stream-new")
    stored = {"s": offsets.ShardProgress("00001", False, "arn:stream-old")}
    with pytest.raises(CdcError, match=r"DELETE /connectors/\{name\}/offsets"):
        run_reader(stream, stored=stored, want=1)


def test_a_child_waits_for_its_parent_read_by_another_task_to_be_committed_to_its_end(monkeypatch):
    stream = FakeStream({
        "parent": {"parent": None, "records": [change(1, "a"), change(2, "a", "MODIFY")], "closed": True},
        "child": {"parent": "parent", "records": [change(5, "a", "MODIFY")], "closed": False},
    })
    table = FakeLeaseTable()
    table.create(Shard("parent", None, True), "00001", STREAM.arn)
    table.advance(table.items["parent"], "other-task")  # alive: this task's share is the child only
    requested_while_parent_unfinished = []
    parent_checks = threading.Semaphore(0)
    finished = LeaseKeeper.finished

    def counted(self, table_name, shard):
        parent_checks.release()  # the reader asked whether the child's parent is done
        return finished(self, table_name, shard)

    monkeypatch.setattr(LeaseKeeper, "finished", counted)

    def other_task_finishes_the_parent():
        for _ in range(3):  # the reader found the child blocked a few rounds running
            assert parent_checks.acquire(timeout=5)
        requested_while_parent_unfinished.extend(stream.iterator_requests)
        table.advance(table.items["parent"], None, SHARD_END)

    threading.Thread(target=other_task_finishes_the_parent, daemon=True).start()
    sequences, _ = run_reader(stream, want=1, lease_table=table, timeout=8)
    assert requested_while_parent_unfinished == []
    assert sequences == ["00005"]


def test_committed_positions_reach_the_lease_and_a_shard_ending_on_an_empty_page_still_ends_it():
    stream = FakeStream({"s": {"parent": None, "records": [change(1, "a"), change(2, "b")], "closed": True}})
    table = FakeLeaseTable()
    stream_pages = stream.call

    def end_on_an_empty_page(operation, body, retry_throttling=True):  # the records, then an empty last page
        answer = stream_pages(operation, body)
        if operation == "GetRecords" and answer["Records"] and answer["NextShardIterator"] is None:
            answer["NextShardIterator"] = orjson.dumps(["s", 2]).decode()
        return answer

    stream.call = end_on_an_empty_page
    run_reader(stream, want=2, lease_table=table, commit=True)
    assert table.items["s"].checkpoint == "00002"
    run_reader(stream, want=3, lease_table=table, commit=True, timeout=3)
    assert table.items["s"].checkpoint == SHARD_END


def test_an_idle_shard_has_its_position_renewed_by_heartbeats_with_the_time():
    stream = FakeStream({"s": {"parent": None, "records": [change(1, "a")], "closed": False}})
    _, groups = run_reader(stream, want=2, heartbeat_s=0.0, timeout=0.5)  # one record: runs to the timeout
    beats = [g.header for g in groups if g.header.get("kind") == "offset"]
    assert beats and beats[0]["topic"] == "__dynamodb-cdc-heartbeat"
    assert beats[0]["partition"] == {"tableName": "t", "shardId": "s"}
    assert beats[0]["offset"]["sequenceNumber"] == "00001" and beats[0]["offset"]["caughtUpAt"] > 0


def test_a_position_past_retention_goes_on_from_the_trim_horizon_when_a_heartbeat_vouches_for_it():
    trimmed = AwsError("GetShardIterator", "TrimmedDataAccessException", "trimmed", 400)
    stream = FakeStream({"s": {"parent": None, "records": [change(1, "a"), change(2, "b")], "closed": False}},
                        fail={"GetShardIterator": [trimmed]})
    recent = offsets.ShardProgress("00001", False, caught_up_ms=int(time.time() * 1000) - 3_600_000)
    sequences, _ = run_reader(stream, stored={"s": recent}, want=1)
    assert sequences == ["00002"]  # the change already emitted is skipped
    stream.fail = {"GetShardIterator": [trimmed]}
    stale = offsets.ShardProgress("00001", False, caught_up_ms=int(time.time() * 1000) - 24 * 3_600_000)
    with pytest.raises(CdcError, match="they are lost"):
        run_reader(stream, stored={"s": stale}, want=1)


def test_a_busy_shard_is_read_page_after_page_in_order_from_one_iterator():
    stream = FakeStream({"s": {"parent": None, "closed": False,
                               "records": [change(i, f"k{i}") for i in range(1, 2501)]}})
    sequences, _ = run_reader(stream, want=2500)
    assert sequences == [f"{i:05d}" for i in range(1, 2501)]
    assert len(stream.iterator_requests) == 1  # one iterator; every later page came from the one before
