"""CDC throughput and latency: the connector draining a stream against what DynamoDB Streams serves Python.

Writes 150,000 changes of about 1 KB into one table's stream in the stack's DynamoDB Local (`make up`
first; DynamoDB Local gives a table one shard), then in the same run measures changes/s of:
  (a) plain boto3: GetRecords over every shard from TRIM_HORIZON, counting;
  (b) a lean drain: the connector's own signed-HTTP + orjson client, counting;
  (c) the connector end to end on a fresh launched worker: CDC from TRIM_HORIZON, from connector creation
      until the last change is readable in Kafka.
Then end-to-end latency, PutItem to record readable in Kafka, at 500 writes/s for 10 s, with
poll.linger.ms=0 and with the default (5000): p50 and p99.

Run: `make bench-cdc` (or `python bench/cdc.py --changes 150000`). Tables and topics are deleted at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
import orjson
from botocore.credentials import Credentials
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient

from bench.snapshot import BenchWorker, timed, topic_total
from python_connector.aws import JsonClient
from python_connector.streams import STREAMS_TARGET
from tests.integration.conftest import ENDPOINTS, Stack
from tests.integration.tables import create_table, load

PAYLOAD = "c" * 900


def drain(stream_call, arn: str, expected: int) -> int:
    """Reads every shard of the stream from TRIM_HORIZON until `expected` changes were counted."""
    shards = stream_call("DescribeStream", {"StreamArn": arn})["StreamDescription"]["Shards"]
    count = 0
    for shard in shards:
        iterator = stream_call("GetShardIterator", {"StreamArn": arn, "ShardId": shard["ShardId"],
                                                    "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        while iterator and count < expected:
            page = stream_call("GetRecords", {"ShardIterator": iterator, "Limit": 1000})
            count += len(page["Records"])
            iterator = page.get("NextShardIterator")
    return count


def boto3_drain(endpoint: str, arn: str, expected: int) -> int:
    client = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    calls = {"DescribeStream": client.describe_stream, "GetShardIterator": client.get_shard_iterator,
             "GetRecords": client.get_records}
    return drain(lambda op, body: calls[op](**body), arn, expected)


def lean_drain(endpoint: str, arn: str, expected: int) -> int:
    client = JsonClient(endpoint, "us-east-1", Credentials("bench", "bench"), STREAMS_TARGET)
    return drain(client.call, arn, expected)


def latency(stack: Stack, worker: BenchWorker, linger_ms: int, rate: int = 500, seconds: int = 10) -> list[float]:
    """Seconds from PutItem to the record being readable in Kafka, for `rate` writes/s over `seconds`."""
    table = f"latency_{uuid.uuid4().hex[:6]}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "N")], stream_view="NEW_AND_OLD_IMAGES")
    sent: dict[str, float] = {}
    received: dict[str, float] = {}
    config = stack.connector_config(table, **{"dynamodb.table.sync.mode": "CDC", "poll.linger.ms": str(linger_ms),
                                              "dynamodb.cdc.initial.stream.position": "TRIM_HORIZON"})
    worker.create(f"latency-{linger_ms}", config)
    stop = threading.Event()

    def consume() -> None:
        consumer = Consumer({"bootstrap.servers": stack.bootstrap, "group.id": f"lat-{uuid.uuid4()}",
                             "auto.offset.reset": "earliest", "fetch.wait.max.ms": 10})
        consumer.subscribe([table])
        while not stop.is_set():
            for m in consumer.consume(500, timeout=0.05):
                if not m.error() and m.value():
                    received.setdefault(orjson.loads(m.key())["payload"]["id"], time.perf_counter())
        consumer.close()

    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    start = time.perf_counter()
    for i in range(rate * seconds):
        due = start + i / rate
        while time.perf_counter() < due:
            time.sleep(0.0005)
        sent[str(i)] = time.perf_counter()
        ddb.put_item(TableName=table, Item={"id": {"N": str(i)}, "v": {"S": "x"}})
    deadline = time.monotonic() + 60
    while len(received) < len(sent) and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    reader.join(5)
    worker.delete(f"latency-{linger_ms}")
    ddb.delete_table(TableName=table)
    return sorted(received[k] - sent[k] for k in sent if k in received)


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p * len(values)))] if values else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=150_000)
    args = parser.parse_args()
    if not ENDPOINTS.exists():
        raise SystemExit("the stack is not up: run `make up`")
    env = dict(line.split("=", 1) for line in ENDPOINTS.read_text().split())
    stack = Stack(env["DYNAMODB_ENDPOINT"], env["KAFKA_BOOTSTRAP"], env["CONNECT_URL"])
    ddb = stack.dynamodb()
    table = f"benchcdc_{uuid.uuid4().hex[:6]}"
    create_table(ddb, table, [("id", "N")], stream_view="NEW_AND_OLD_IMAGES")
    started = time.perf_counter()
    load(ddb, table, args.changes, lambda i: {"id": {"N": str(i)}, "payload": {"S": PAYLOAD}}, threads=6)
    print(f"wrote {args.changes:,} changes in {time.perf_counter() - started:.0f}s (not timed below)", flush=True)
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    try:
        boto_rate, _ = timed("(a) boto3 GetRecords drain", lambda: boto3_drain(stack.dynamodb_endpoint, arn,
                                                                                 args.changes))
        lean_rate, _ = timed("(b) lean drain (signed HTTP + orjson)", lambda: lean_drain(stack.dynamodb_endpoint,
                                                                                         arn, args.changes))
        with tempfile.TemporaryDirectory() as tmp:
            worker = BenchWorker(stack, Path(tmp))
            try:
                config = stack.connector_config(table, **{"dynamodb.table.sync.mode": "CDC", "poll.linger.ms": "100",
                                                          "max.batch.size": "5000"})
                start = time.perf_counter()
                worker.create("drain", config)
                while topic_total(stack.bootstrap, [table]) < args.changes:
                    time.sleep(0.2)
                seconds = time.perf_counter() - start
                rate = args.changes / seconds
                print(f"(c) connector end to end: {args.changes:,} changes in {seconds:.1f}s = {rate:,.0f} changes/s",
                      flush=True)
                worker.delete("drain")
                for linger in (0, 5000):
                    lat = latency(stack, worker, linger)
                    print(f"latency at 500 writes/s, poll.linger.ms={linger}: p50 {percentile(lat, 0.5) * 1000:.0f} ms,"
                          f" p99 {percentile(lat, 0.99) * 1000:.0f} ms ({len(lat):,} changes)", flush=True)
            finally:
                worker.stop()
    finally:
        ddb.delete_table(TableName=table)
        for future in AdminClient({"bootstrap.servers": stack.bootstrap}).delete_topics([table]).values():
            with contextlib.suppress(Exception):
                future.result()
    print(f"(c)/(a) = {rate / boto_rate:.2f}")
    print(f"RESULT cdc ratio={rate / lean_rate:.3f} connector changes/s over lean-drain changes/s "
          f"((c)/(a)={rate / boto_rate:.2f})")


if __name__ == "__main__":
    main()
