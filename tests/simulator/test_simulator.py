"""The simulator, proven through boto3 as the connector will see it: paging, rotation, lineage order, expiry,
trimming, throttling, the change log, the table, forwarding and the process's lifetime."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import boto3
import orjson
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.simulator import SimulatorProcess, changes_by_key, final_state, read_change_log
from tests.simulator.process import REPO_ROOT

NO_RETRIES = Config(retries={"total_max_attempts": 1, "mode": "standard"})


def wait_until(check: Callable[[], Any], what: str, timeout_s: float = 10.0, step_s: float = 0.02) -> Any:
    """check()'s first truthy answer, polling until a deadline."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while time.monotonic() < deadline:
        answer = check()
        if answer:
            return answer
        pause.wait(step_s)
    raise AssertionError(f"not within {timeout_s}s: {what}")


def client(service: str, sim: SimulatorProcess) -> Any:
    return boto3.client(service, endpoint_url=sim.endpoint, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=NO_RETRIES)


def error_code(call: Callable[[], Any]) -> str | None:
    try:
        call()
    except ClientError as e:
        return str(e.response["Error"]["Code"])
    return None


def stream_arn(streams: Any) -> str:
    return str(streams.list_streams()["Streams"][0]["StreamArn"])


def all_shards(streams: Any, arn: str) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = []
    request: dict[str, Any] = {"StreamArn": arn}
    while True:
        description = streams.describe_stream(**request)["StreamDescription"]
        shards += description["Shards"]
        if "LastEvaluatedShardId" not in description:
            return shards
        request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]


def lineage_order(shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_id = {s["ShardId"]: s for s in shards}
    ordered: list[dict[str, Any]] = []
    seen: set[str] = set()

    def visit(shard: dict[str, Any]) -> None:
        if shard["ShardId"] not in seen:
            seen.add(shard["ShardId"])
            if shard.get("ParentShardId") in by_id:
                visit(by_id[shard["ParentShardId"]])
            ordered.append(shard)

    for shard in shards:
        visit(shard)
    return ordered


def read_shard(streams: Any, arn: str, shard_id: str) -> Iterator[dict[str, Any]]:
    """From TRIM_HORIZON to the end (a closed shard's missing NextShardIterator, or an empty page)."""
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_id,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    while iterator:
        page = streams.get_records(ShardIterator=iterator, Limit=50)
        yield from page["Records"]
        if not page["Records"]:
            return
        iterator = page.get("NextShardIterator")


def first_record(streams: Any, arn: str, shard_id: str) -> dict[str, Any] | None:
    """The oldest record kept, or None (also when it is trimmed between GetShardIterator and GetRecords)."""
    try:
        return next(read_shard(streams, arn, shard_id), None)
    except ClientError as e:
        if e.response["Error"]["Code"] != "TrimmedDataAccessException":
            raise
        return None


def test_describe_stream_pages_shards_100_at_a_time() -> None:
    with SimulatorProcess(shards=260, rotate_s=3600, writes_per_s=0) as sim:
        streams = client("dynamodbstreams", sim)
        arn = stream_arn(streams)
        pages = []
        request: dict[str, Any] = {"StreamArn": arn}
        while True:
            description = streams.describe_stream(**request)["StreamDescription"]
            pages.append(description)
            if "LastEvaluatedShardId" not in description:
                break
            assert description["LastEvaluatedShardId"] == description["Shards"][-1]["ShardId"]
            request["ExclusiveStartShardId"] = description["LastEvaluatedShardId"]
        assert [len(p["Shards"]) for p in pages] == [100, 100, 60]
        ids = [s["ShardId"] for p in pages for s in p["Shards"]]
        assert len(set(ids)) == 260 and ids == sorted(ids)
        assert all(s["ShardId"].startswith("shardId-") and len(s["ShardId"]) == 37 for p in pages for s in p["Shards"])
        first = pages[0]
        assert (first["StreamStatus"], first["StreamViewType"], first["TableName"]) == (
            "ENABLED", "NEW_AND_OLD_IMAGES", "sim")
        assert first["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        small = streams.describe_stream(StreamArn=arn, Limit=7, ExclusiveStartShardId=ids[3])["StreamDescription"]
        assert [s["ShardId"] for s in small["Shards"]] == ids[4:11]


def test_rotation_closes_parents_whose_children_point_back() -> None:
    with SimulatorProcess(shards=8, rotate_s=0.3, split_fraction=0.5, retention_s=60, writes_per_s=50) as sim:
        wait_until(lambda: sim.stats()["rotations"] >= 30 and sim.stats()["splits"] >= 3, "30 rotations, 3 splits")
        streams = client("dynamodbstreams", sim)
        shards = all_shards(streams, stream_arn(streams))
        by_id = {s["ShardId"]: s for s in shards}
        closed = [s for s in shards if "EndingSequenceNumber" in s["SequenceNumberRange"]]
        children = [s for s in shards if s.get("ParentShardId")]
        assert len(closed) >= 30 and len(children) >= 30
        for child in children:
            parent = by_id[child["ParentShardId"]]
            assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
            assert int(child["SequenceNumberRange"]["StartingSequenceNumber"]) > int(
                parent["SequenceNumberRange"]["EndingSequenceNumber"])
        per_parent: dict[str, int] = {}
        for child in children:
            per_parent[child["ParentShardId"]] = per_parent.get(child["ParentShardId"], 0) + 1
        assert set(per_parent.values()) == {1, 2}
        assert len(shards) - len(closed) <= 16  # splits stop at twice --shards open


def test_reading_parents_before_children_gives_each_keys_changes_in_order(tmp_path: Path) -> None:
    log = tmp_path / "changes.jsonl"
    with SimulatorProcess(shards=6, rotate_s=0.25, split_fraction=0.5, retention_s=60, writes_per_s=400, keys=40,
                          log=log, seed=7) as sim:
        wait_until(lambda: sim.stats()["changes"] >= 400 and sim.stats()["rotations"] >= 20, "400 changes")
        sim.pause_writes()
        streams = client("dynamodbstreams", sim)
        arn = stream_arn(streams)
        read: dict[str, list[dict[str, Any]]] = {}
        for shard in lineage_order(all_shards(streams, arn)):
            seqs = []
            for record in read_shard(streams, arn, shard["ShardId"]):
                seqs.append(int(record["dynamodb"]["SequenceNumber"]))
                read.setdefault(record["dynamodb"]["Keys"]["pk"]["S"], []).append(record)
            assert seqs == sorted(set(seqs))
        changes = read_change_log(log)
        assert len(changes) == sim.stats()["changes"] >= 400
        expected = changes_by_key(changes)
        assert set(read) == set(expected)
        for key, records in read.items():
            assert [r["dynamodb"]["SequenceNumber"] for r in records] == [c["seq"] for c in expected[key]], key
            for record, change in zip(records, expected[key], strict=True):
                assert record["eventName"] == change["event"]
                assert record["dynamodb"].get("NewImage") == change["new"]
                assert record["dynamodb"].get("OldImage") == change["old"]
                assert record["dynamodb"]["ApproximateCreationDateTime"].timestamp() == int(change["ts"])
                assert (record["eventSource"], record["eventVersion"]) == ("aws:dynamodb", "1.1")


def scan_all(dynamodb: Any, segments: int) -> dict[str, Any]:
    items: dict[str, Any] = {}
    for segment in range(segments):
        request: dict[str, Any] = {"TableName": "sim", "Segment": segment, "TotalSegments": segments, "Limit": 7}
        while True:
            page = dynamodb.scan(**request)
            items.update({item["pk"]["S"]: item for item in page["Items"]})
            if "LastEvaluatedKey" not in page:
                break
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return items


def test_the_table_shows_the_change_logs_final_state(tmp_path: Path) -> None:
    log = tmp_path / "changes.jsonl"
    with SimulatorProcess(shards=4, writes_per_s=500, keys=100, log=log) as sim:
        wait_until(lambda: sim.stats()["changes"] >= 300, "300 changes")
        sim.pause_writes()
        dynamodb = client("dynamodb", sim)
        state = final_state(read_change_log(log))
        assert scan_all(dynamodb, 3) == state
        table = dynamodb.describe_table(TableName="sim")["Table"]
        assert table["ItemCount"] == len(state) and table["TableStatus"] == "ACTIVE"
        assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
        assert table["LatestStreamArn"] == stream_arn(client("dynamodbstreams", sim))
        assert "sim" in dynamodb.list_tables()["TableNames"]
        assert error_code(lambda: dynamodb.describe_table(TableName="other")) == "ResourceNotFoundException"
        assert error_code(lambda: dynamodb.get_item(TableName="sim", Key={"pk": {"S": "k"}})) == "ValidationException"


def test_iterators_expire() -> None:
    with SimulatorProcess(shards=1, rotate_s=3600, iterator_ttl_s=0.5, writes_per_s=20) as sim:
        streams = client("dynamodbstreams", sim)
        arn = stream_arn(streams)
        shard = all_shards(streams, arn)[0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        assert "NextShardIterator" in streams.get_records(ShardIterator=iterator)

        def expired() -> bool:
            return error_code(lambda: streams.get_records(ShardIterator=iterator)) == "ExpiredIteratorException"

        wait_until(expired, "the iterator expires")
        assert sim.stats()["expired_iterators"] >= 1


def test_trimmed_positions_raise_trimmed_data_access() -> None:
    with SimulatorProcess(shards=1, rotate_s=3600, retention_s=0.5, iterator_ttl_s=60, writes_per_s=100) as sim:
        streams = client("dynamodbstreams", sim)
        arn = stream_arn(streams)
        shard = all_shards(streams, arn)[0]["ShardId"]
        oldest = wait_until(lambda: first_record(streams, arn, shard), "a first record")["dynamodb"]["SequenceNumber"]
        horizon = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                             ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

        def at_oldest() -> Any:
            return streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
                                              SequenceNumber=oldest)

        wait_until(lambda: error_code(at_oldest) == "TrimmedDataAccessException", "the oldest record is trimmed")
        assert error_code(lambda: streams.get_records(ShardIterator=horizon)) == "TrimmedDataAccessException"
        kept = wait_until(lambda: first_record(streams, arn, shard), "a record within retention")
        assert int(kept["dynamodb"]["SequenceNumber"]) > int(oldest)


def test_closed_shards_are_delisted_after_retention() -> None:
    with SimulatorProcess(shards=4, rotate_s=0.3, retention_s=1.0, writes_per_s=100) as sim:
        streams = client("dynamodbstreams", sim)
        arn = stream_arn(streams)
        first = {s["ShardId"] for s in all_shards(streams, arn) if "ParentShardId" not in s}  # some rotated already
        assert len(first) == 4
        wait_until(lambda: not first & {s["ShardId"] for s in all_shards(streams, arn)}, "the first shards delisted")
        gone = sorted(first)[0]
        assert error_code(lambda: streams.get_shard_iterator(StreamArn=arn, ShardId=gone,
                                                             ShardIteratorType="TRIM_HORIZON")) == (
            "ResourceNotFoundException")
        stats = sim.stats()
        assert stats["trimmed_shards"] >= 4 and stats["trimmed_records"] > 0
        # Bounded by the retention, not the run's length: every closed shard is listed until it is trimmed away.
        # (Was `listed < rotations + 4`, which splits break: the open shards grow to twice --shards.)
        assert stats["closed"] == stats["rotations"] - stats["trimmed_shards"]


def test_a_third_concurrent_reader_is_throttled() -> None:
    with SimulatorProcess(shards=1, rotate_s=3600, throttle=True, writes_per_s=20) as sim:
        streams = client("dynamodbstreams", sim)
        arn = stream_arn(streams)
        shard = all_shards(streams, arn)[0]["ShardId"]
        one, two, three = (streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")[
            "ShardIterator"] for _ in range(3))
        following = streams.get_records(ShardIterator=one)["NextShardIterator"]
        streams.get_records(ShardIterator=two)
        assert error_code(lambda: streams.get_records(ShardIterator=three)) == "LimitExceededException"
        streams.get_records(ShardIterator=following)  # the first reader, still polling, is not a third one
        sim.set(throttle_fraction=1.0)
        assert error_code(lambda: streams.get_records(ShardIterator=following)) == "LimitExceededException"
        sim.set(throttle_fraction=0.0)
        streams.get_records(ShardIterator=following)
        assert sim.stats()["throttled"] == 2


def test_control_pauses_and_resumes_writes() -> None:
    with SimulatorProcess(shards=2, rotate_s=0.2, writes_per_s=200) as sim:
        wait_until(lambda: sim.stats()["changes"] > 0, "changes")
        sim.pause_writes()
        paused = sim.stats()
        wait_until(lambda: sim.stats()["rotations"] >= paused["rotations"] + 4, "time passes: 4 rotations")
        assert sim.stats()["changes"] == paused["changes"] and sim.stats()["paused"]
        sim.resume_writes()
        wait_until(lambda: sim.stats()["changes"] > paused["changes"], "writes resume")
        assert sim.set(writes_per_s=5)["writes_per_s"] == 5.0
        calls = sim.stats()["calls"]
        client("dynamodbstreams", sim).list_streams()
        assert sim.stats()["calls"].get("ListStreams", 0) == calls.get("ListStreams", 0) + 1


class _Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[tuple[str, bytes]]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((self.headers["X-Amz-Target"], body))
        op = self.headers["X-Amz-Target"].split(".")[-1]
        answer = orjson.dumps({"TableNames": ["leases"]} if op == "ListTables" else {"Item": {"id": {"S": "a"}}})
        self.send_response(200)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def test_other_tables_are_forwarded_verbatim() -> None:
    target = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    try:
        with SimulatorProcess(writes_per_s=0, forward=f"http://127.0.0.1:{target.server_address[1]}") as sim:
            dynamodb = client("dynamodb", sim)
            assert dynamodb.get_item(TableName="leases", Key={"id": {"S": "a"}})["Item"] == {"id": {"S": "a"}}
            assert _Recorder.seen[-1] == ("DynamoDB_20120810.GetItem",
                                          b'{"TableName": "leases", "Key": {"id": {"S": "a"}}}')
            assert dynamodb.list_tables()["TableNames"] == ["leases", "sim"]
            dynamodb.describe_table(TableName="sim")
            assert [t for t, _ in _Recorder.seen] == ["DynamoDB_20120810.GetItem", "DynamoDB_20120810.ListTables"]
    finally:
        target.shutdown()
        target.server_close()


def test_the_process_exits_on_sigterm_and_when_its_parent_dies(tmp_path: Path) -> None:
    sim = SimulatorProcess(writes_per_s=0).start()
    assert sim.stop() == 0
    pid_file = tmp_path / "pid"
    launcher = ("import sys, time; from tests.simulator import SimulatorProcess; "
                f"s = SimulatorProcess().start(); open({str(pid_file)!r}, 'w').write(str(s._proc.pid)); "
                "time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c", launcher], cwd=REPO_ROOT)
    try:
        child = int(wait_until(lambda: pid_file.exists() and pid_file.read_text(), "the simulator's pid"))
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(5)
        wait_until(lambda: not _running(child), "the orphaned simulator exits", timeout_s=5)
    finally:
        parent.kill()
        parent.wait(5)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize("limit", [0, 1001])
def test_get_records_limit_is_validated(limit: int) -> None:
    with SimulatorProcess(shards=1, writes_per_s=0) as sim:
        streams = client("dynamodbstreams", sim)
        arn = stream_arn(streams)
        shard = all_shards(streams, arn)[0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
        body = orjson.dumps({"ShardIterator": iterator, "Limit": limit})
        request = urllib.request.Request(sim.endpoint + "/", data=body, headers={
            "X-Amz-Target": "DynamoDBStreams_20120810.GetRecords", "Content-Type": "application/x-amz-json-1.0"})
        with pytest.raises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request, timeout=5)
        assert raised.value.code == 400
        assert orjson.loads(raised.value.read())["__type"] == "com.amazonaws.dynamodb.v20120810#ValidationException"


def test_history_starts_the_stream_with_retained_closed_shards(tmp_path: Path) -> None:
    log = tmp_path / "changes.jsonl"
    with SimulatorProcess(shards=10, rotate_s=1, retention_s=600, history_s=10, writes_per_s=50, log=log) as sim:
        stats = sim.stats()
        assert stats["rotations"] >= 70 and stats["closed"] >= 70, stats  # about 10 generations of 10 shards
        assert stats["changes"] >= 400 and len(read_change_log(log)) >= 400
        assert sim.set(rotate_s=30)["rotate_s"] == 30.0


def test_own_tables_keep_the_connectors_lease_table_with_dynamodbs_conditional_semantics() -> None:
    from botocore.credentials import Credentials

    from python_connector.aws.client import JsonClient
    from python_connector.streams.leases import LeaseTable
    from python_connector.streams.source import Shard

    with SimulatorProcess(writes_per_s=0, own_tables=True) as sim:
        client = JsonClient(sim.endpoint, "us-east-1", Credentials("a", "b"), "DynamoDB_20120810")
        leases = LeaseTable(client, "leases-x", "PAY_PER_REQUEST", 1, 1)
        leases.ensure()
        leases.create(Shard("s1", None, False), "TRIM_HORIZON", "arn")
        leases.create(Shard("s2", "s1", False), "TRIM_HORIZON", "arn")
        leases.create(Shard("s1", None, False), "LATEST", "arn")  # exists: the first creator wins
        seen = leases.leases()
        assert seen["s1"].checkpoint == "TRIM_HORIZON" and seen["s2"].parent == "s1"
        taken = leases.advance(seen["s1"], "me", "00042")
        assert taken is not None and leases.advance(seen["s1"], "other") is None  # the counter moved
        asked = leases.request(taken, "other")
        assert asked is not None and leases.leases()["s1"].next_owner == "other"
        assert leases.advance(asked, "other") is not None
        now = leases.leases()["s1"]
        assert (now.owner, now.counter, now.checkpoint, now.next_owner) == ("other", 3, "00042", None)
        leases.delete(now)
        assert set(leases.leases()) == {"s2"}
        assert "leases-x" in client.call("ListTables", {})["TableNames"]
        assert leases.drop() and not leases.drop()
        assert client.call("DescribeLimits", {})["TableMaxReadCapacityUnits"] == 40000
