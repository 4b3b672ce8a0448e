import threading

import orjson
import pytest
from botocore.credentials import Credentials

from python_connector.aws.client import AwsError, JsonClient, RetryPolicy
from python_connector.records import offsets
from python_connector.records.buffer import RecordBuffer
from python_connector.records.offsets import TableSnapshot
from python_connector.records.tables import TableInfo
from python_connector.snapshot.pacing import ReadBudget
from python_connector.snapshot.plan import decide_table_snapshots, plan
from python_connector.snapshot.scan import Outcome, SnapshotError, scan_segment
from tests.unit.fakes import FakeScanClient

TABLE = TableInfo("t", (("pk", "S"),), 10)
UNLIMITED = ReadBudget(1e12)


def items(n, prefix="k"):
    return [{"pk": {"S": f"{prefix}{i}"}, "v": {"N": str(i)}} for i in range(n)]


def drain(buffer):
    groups = buffer.take(10_000, 0)
    buffer.release(sum(len(g.records) for g in groups))
    return groups


def one_plan(stored=None, segment=0):
    return plan({"t": TABLE}, [("t", segment)], 5, {"t": TableSnapshot(1000, 1)}, stored or {})[0]


def test_scan_pages_by_last_evaluated_key_until_the_segment_ends():
    client = FakeScanClient({0: items(7)})
    buffer = RecordBuffer(1000)
    assert scan_segment(client, one_plan(), buffer, 3, UNLIMITED, threading.Event()) is Outcome.COMPLETED
    groups = drain(buffer)
    assert [len(g.records) for g in groups] == [3, 3, 1]
    assert [r.get("ExclusiveStartKey") for r in client.requests] == [None, {"pk": {"S": "k2"}}, {"pk": {"S": "k5"}}]
    assert all(r["Segment"] == 0 and r["TotalSegments"] == 5 and r["Limit"] == 3 for r in client.requests)
    assert all(r["ReturnConsumedCapacity"] == "TOTAL" for r in client.requests)
    assert [g.last_offset for g in groups] == [None, None, offsets.SEGMENT_DONE]


def test_a_full_last_page_then_an_empty_page_completes_without_an_empty_group():
    client = FakeScanClient({0: items(6)})
    buffer = RecordBuffer(1000)
    assert scan_segment(client, one_plan(), buffer, 3, UNLIMITED, threading.Event()) is Outcome.COMPLETED
    groups = drain(buffer)
    assert [len(g.records) for g in groups] == [3, 3]
    assert groups[-1].last_offset == offsets.SEGMENT_DONE  # the empty last page still completes the segment
    assert len(client.requests) == 3


def test_resume_starts_after_the_stored_key_and_skips_completed_segments():
    stored = {("t", 0): offsets.SegmentProgress(1000, 1, orjson.dumps({"pk": {"S": "k3"}}).decode(), False),
              ("t", 1): offsets.SegmentProgress(1000, 1, None, True)}
    resumed, done = plan({"t": TABLE}, [("t", 0), ("t", 1)], 5, {"t": TableSnapshot(1000, 1)}, stored)
    client = FakeScanClient({0: items(6), 1: items(4)})
    buffer = RecordBuffer(1000)
    assert scan_segment(client, resumed, buffer, 10, UNLIMITED, threading.Event()) is Outcome.COMPLETED
    assert scan_segment(client, done, buffer, 10, UNLIMITED, threading.Event()) is Outcome.SKIPPED
    assert sum(len(g.records) for g in drain(buffer)) == 2  # k4, k5
    assert client.requests == [{"TableName": "t", "Segment": 0, "TotalSegments": 5, "Limit": 10,
                                "ReturnConsumedCapacity": "TOTAL", "ExclusiveStartKey": {"pk": {"S": "k3"}}}]


def test_an_error_is_wrapped_with_table_and_segment():
    client = FakeScanClient({2: items(5)}, fail_on_call=2)
    with pytest.raises(SnapshotError, match=r"table 't' segment 2 failed: .*ResourceNotFoundException"):
        scan_segment(client, one_plan(segment=2), RecordBuffer(1000), 3, UNLIMITED, threading.Event())


def test_a_stopped_task_aborts_the_scan():
    stopped = threading.Event()
    stopped.set()
    outcome = scan_segment(FakeScanClient({0: items(5)}), one_plan(), RecordBuffer(10), 3, UNLIMITED, stopped)
    assert outcome is Outcome.ABORTED


def test_table_snapshot_keeps_the_earliest_stored_start_or_starts_now():
    stored = {("a", 0): offsets.SegmentProgress(500, 2, None, False),
              ("a", 3): offsets.SegmentProgress(400, 2, None, True)}
    assert decide_table_snapshots(["a", "b"], stored, 9999) == {"a": TableSnapshot(400, 2), "b": TableSnapshot(9999, 1)}


def test_a_throttled_page_is_retried_with_the_same_start_key_and_emitted_once():
    client = FakeScanClient({0: items(6)}, fail_on_call=2,
                            error=AwsError("Scan", "ProvisionedThroughputExceededException", "slow down", 400))
    retrying = RetryingClient(client)
    buffer = RecordBuffer(1000)
    assert scan_segment(retrying, one_plan(), buffer, 3, UNLIMITED, threading.Event()) is Outcome.COMPLETED
    keys = [r.get("ExclusiveStartKey") for r in client.requests]
    assert keys == [None, {"pk": {"S": "k2"}}, {"pk": {"S": "k2"}}, {"pk": {"S": "k5"}}]
    assert sum(len(g.records) for g in drain(buffer)) == 6


class RetryingClient(JsonClient):
    """The real JsonClient, retry loop included, over a fake transport."""

    def __init__(self, fake):
        super().__init__("http://x", "us-east-1", Credentials("a", "b"), "DynamoDB_20120810",
                         retry=RetryPolicy(sleep=lambda s: None))
        self.fake = fake

    def _send(self, operation, payload):
        return self.fake.call(operation, orjson.loads(payload))


def test_page_size_follows_the_read_budget():
    clock = [0.0]
    budget = ReadBudget(10.0, clock=lambda: clock[0], pause=lambda _cond, s: clock.__setitem__(0, clock[0] + s))
    client = FakeScanClient({0: items(20)})
    client.consumed_per_item = 0.5
    table = TableInfo("t", (("pk", "S"),), 20, read_capacity=20, units_per_item=0.5)
    plan_ = plan({"t": table}, [("t", 0)], 5, {"t": TableSnapshot(1, 1)}, {})[0]
    scan_segment(client, plan_, RecordBuffer(1000), 100, budget, threading.Event())
    assert {r["Limit"] for r in client.requests} == {5}  # 10 units/s * 0.25 s / 0.5 unit per item
