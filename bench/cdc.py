"""CDC throughput and latency: the connector draining a stream against what DynamoDB Streams serves Python.

Writes 150,000 changes (inserts of snapshot.py's ~1 KB items, NEW_AND_OLD_IMAGES) into one table's stream
(not timed), then in the same run measures changes/s of:
  (a) plain boto3: GetRecords over every shard from TRIM_HORIZON, counting;
  (b) a lean drain: python_connector.aws.client.JsonClient (signed requests over urllib3, pages parsed with orjson),
      counting;
  (c) the connector (dynamodb.table.sync.mode=CDC from TRIM_HORIZON, poll.linger.ms=100 and
      max.batch.size=5000 as in snapshot.py, records in --format, default AVRO) on a fresh launched worker, from
      connector creation until the last change is readable in Kafka: once on the cold worker, then again on the
      same stream under a new connector name on the now warm worker (the figure reported, as in snapshot.py).
  (r) the reference source (bench/reference.py) emitting the same change records from memory on the same worker:
      Connect's floor; `RESULT cdc-cpu ratio=<(r) µs / (c) µs per record>` compares the CPU per record over the warm
      run (bench/cpu.py, as in snapshot.py) with it.
Then end-to-end latency, PutItem to record readable in Kafka, at 500 writes/s for 10 s (records in the worker's
JsonConverter, whose keys the latency reader parses), with poll.linger.ms=0 and with the default (5000): p50 and
p99 (the achieved write rate is printed: a PutItem costs DynamoDB Local ~1 ms of CPU and the signing client
~0.6 ms, so a busy 2-core machine falls short).

Each part runs against a new in-memory DynamoDB Local of its own, not the stack's. DynamoDB Local keeps
every stream record (of deleted tables too, for 24 hours) in one SQLite table keyed only by sequence
number, and each write to a stream runs `SELECT MIN(SequenceNumber) FROM us WHERE ShardID=?`
(getStreamDescription), which walks past every record older than the shard's first: a stream-enabled
table created after 30,000 stream records is written at ~100 items/s instead of ~4,000, and its
GetRecords slow down alike; the stack's one keeps whatever tests and earlier runs wrote. That, not
BatchWriteItem vs PutItem, writer threads or JVM flags, is why the 150,000 changes took so long to load
into the stack's one; into a new one they load in about a minute.

With ``--simulator --shards 64``: changes/s and the worker's CPU per change (user+sys ticks of the worker
process from /proc over the measured window, over the changes) of the connector draining the DynamoDB Streams
simulator (tests/simulator: 64 shards, the changes made as history before the connector starts, its lease tables
kept by the simulator), beside the same figures for the single-shard DynamoDB Local stream of (c), in the same
run; the simulator's items are ~150 bytes, snapshot.py's ~1 KB. Ends with a ``RESULT cdc-simulator`` line.

Run: `make bench-cdc` (or `python bench/cdc.py --changes 150000`); the stack gives Kafka. Topics are
deleted at the end and the private DynamoDB Locals stopped; nothing else to reset.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
import orjson
from botocore.credentials import Credentials
from confluent_kafka import Consumer, TopicPartition

from bench import reference
from bench.cpu import CpuPerRecord
from bench.snapshot import (
    BenchWorker,
    Run,
    delete_topics,
    item,
    output_converters,
    routed,
    running_stack,
    timed,
    topic_total,
)
from python_connector.aws.client import JsonClient
from python_connector.cli.translate import DEFAULT_FORMAT
from python_connector.config import formats
from python_connector.records.tables import TableInfo
from python_connector.streams.dynamodb import STREAMS_TARGET
from stack.stack import ROOT, dynamodb_command, dynamodb_ready
from tests.integration.conftest import Stack
from tests.integration.tables import create_table, load
from tests.integration.workers import free_port
from tests.simulator.process import SimulatorProcess

KEY = [("pk", "S"), ("sk", "N")]  # snapshot.py's items: ~1 KB each
CDC = {"dynamodb.table.sync.mode": "CDC", "dynamodb.cdc.initial.stream.position": "TRIM_HORIZON"}
LOAD_THREADS = 4  # DynamoDB Local writes on one SQLite thread: more writers only queue
LATENCY_WRITERS = 4
WARM_UP_WRITES = 200
JIT_WARM_UP_PUTS = 3000

Call = Callable[[str, dict[str, Any]], dict[str, Any]]


@contextlib.contextmanager
def fresh_dynamodb(stack: Stack, log: Path) -> Iterator[Stack]:
    """The stack with a new in-memory DynamoDB Local of our own in place of its one (see the module doc)."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(dynamodb_command(port), stdout=log.open("wb"), stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while not dynamodb_ready(endpoint):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"DynamoDB Local did not start; see {log}")
            time.sleep(0.5)
        yield dataclasses.replace(stack, dynamodb_endpoint=endpoint)
    finally:
        process.terminate()
        process.wait(30)


def lean_client(endpoint: str, target: str) -> JsonClient:
    return JsonClient(endpoint, "us-east-1", Credentials("bench", "bench"), target)


def drain(call: Call, arn: str) -> int:
    """Counts every change of every shard from TRIM_HORIZON. DynamoDB Local answers a GetRecords with all it
    has up to the limit, so an empty page is the end of an open shard."""
    description = call("DescribeStream", {"StreamArn": arn})["StreamDescription"]
    assert "LastEvaluatedShardId" not in description, "more shards than one DescribeStream page"
    count = 0
    for shard in description["Shards"]:
        iterator = call("GetShardIterator", {"StreamArn": arn, "ShardId": shard["ShardId"],
                                             "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        while iterator:
            page = call("GetRecords", {"ShardIterator": iterator, "Limit": 1000})
            if not page["Records"]:
                break
            count += len(page["Records"])
            iterator = page.get("NextShardIterator")
    return count


def boto3_drain(endpoint: str, arn: str) -> int:
    client = boto3.client("dynamodbstreams", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
    calls = {"DescribeStream": client.describe_stream, "GetShardIterator": client.get_shard_iterator,
             "GetRecords": client.get_records}
    return drain(lambda operation, body: calls[operation](**body), arn)


def lean_drain(endpoint: str, arn: str) -> int:
    return drain(lean_client(endpoint, STREAMS_TARGET).call, arn)


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100)[p - 1]


def consume(bootstrap: str, table: str, measured: range, received: dict[int, float], all_seen: threading.Event
            ) -> None:
    """Notes when each measured change is readable in Kafka, until all are."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4()}",
                         "fetch.wait.max.ms": 5, "enable.auto.commit": False})
    consumer.assign([TopicPartition(table, 0, WARM_UP_WRITES)])
    seen = 0
    while not all_seen.is_set():
        for m in consumer.consume(1000, timeout=0.05):
            now = time.perf_counter()
            if m.error():
                raise SystemExit(f"reading {table}: {m.error()}")
            i = int(orjson.loads(m.key())["payload"]["pk"][5:])  # snapshot.item's pk: item-<i>
            if i in measured and i not in received:
                received[i] = now
                seen += 1
        if seen == len(measured):
            all_seen.set()
    consumer.close()


def latency(stack: Stack, worker: BenchWorker, linger_ms: int | None, rate: int, seconds: float) -> None:
    """Prints p50/p99 of PutItem-to-readable-in-Kafka for `rate` writes/s over `seconds`; None: default linger.
    Writing goes on until every measured change is in Kafka, so the last of them do not wait out a linger that a
    steady flow of changes would cut short."""
    table = f"benchlat_{uuid.uuid4().hex[:6]}"
    writer = lean_client(stack.dynamodb_endpoint, "DynamoDB_20120810")

    def put(i: int, into: str = table) -> None:
        writer.call("PutItem", {"TableName": into, "Item": item(i)})

    # A new DynamoDB Local takes ~3x the CPU per PutItem until its JIT has compiled the path: warm it up on a
    # table without a stream, which leaves no stream records for the measured table's writes to walk past.
    create_table(stack.dynamodb(), f"{table}_jit", KEY)
    with ThreadPoolExecutor(LATENCY_WRITERS) as pool:
        list(pool.map(lambda i: put(i, f"{table}_jit"), range(JIT_WARM_UP_PUTS)))
    create_table(stack.dynamodb(), table, KEY, stream_view="NEW_AND_OLD_IMAGES")
    config = stack.connector_config(table, **CDC)
    if linger_ms is None:
        del config["poll.linger.ms"]
    else:
        config["poll.linger.ms"] = str(linger_ms)
    name = f"latency-{linger_ms}"
    worker.create(name, config)
    # The first changes make the topic and show the connector reading; they are not measured.
    for i in range(WARM_UP_WRITES):
        put(i)
    deadline = time.monotonic() + 120
    while topic_total(stack.bootstrap, [table]) < WARM_UP_WRITES:
        if time.monotonic() > deadline:
            raise SystemExit(f"the first {WARM_UP_WRITES} changes did not reach Kafka in 120 s; see {worker.log}")
        time.sleep(0.1)
    measured = range(WARM_UP_WRITES, WARM_UP_WRITES + int(rate * seconds))
    sent: dict[int, float] = {}
    received: dict[int, float] = {}
    all_seen = threading.Event()

    def write(first: int) -> None:
        for i in itertools.count(first, LATENCY_WRITERS):
            if all_seen.is_set() or time.perf_counter() > give_up:
                return
            pause = start + (i - WARM_UP_WRITES) / rate - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            sent[i] = time.perf_counter()
            put(i)

    reader = threading.Thread(target=consume, args=(stack.bootstrap, table, measured, received, all_seen), daemon=True)
    reader.start()
    cpu = worker.cpu_s()
    start = time.perf_counter()
    give_up = start + seconds + 60
    with ThreadPoolExecutor(LATENCY_WRITERS) as pool:
        list(pool.map(write, range(WARM_UP_WRITES, WARM_UP_WRITES + LATENCY_WRITERS)))
    cpu_per_s = (worker.cpu_s() - cpu) / (time.perf_counter() - start)
    all_seen.set()
    reader.join(5)
    worker.delete(name)
    delete_topics(stack.bootstrap, [table])
    lags = [received[i] - sent[i] for i in measured if i in received]
    wrote_s = max(sent[i] for i in measured if i in sent) - start
    linger = "default (5000)" if linger_ms is None else str(linger_ms)
    print(f"latency, poll.linger.ms={linger}: p50 {percentile(lags, 50) * 1000:,.0f} ms, "
          f"p99 {percentile(lags, 99) * 1000:,.0f} ms, max {max(lags) * 1000:,.0f} ms ({len(lags):,} of "
          f"{len(measured):,} changes seen, written at {len(measured) / wrote_s:,.0f}/s; worker CPU "
          f"{cpu_per_s:.0%} of a core)", flush=True)


@dataclasses.dataclass(frozen=True)
class Drains:
    boto_rate: float
    lean_rate: float
    rate: float
    cpu: CpuPerRecord
    floor: CpuPerRecord


def reference_run(worker: BenchWorker, tmp: Path, table: str, records: int, converters: dict[str, str]) -> Run:
    """Connect's floor: the same change records from memory through the same worker (see bench/reference.py)."""
    batch = reference.cdc_batch(tmp / "cdc.batch", TableInfo(table, tuple(KEY)), item, table + "-ref")
    run = worker.time_to_kafka("reference", reference.connector_config(batch, records, 1, converters),
                               [table + "-ref"], records)
    print(f"(r) reference source, from memory: {records:,} records in {run.seconds:.1f}s = "
          f"{records / run.seconds:,.0f} records/s\n    whole run: {run.cpu.describe()}", flush=True)
    return run


def throughput(stack: Stack, worker: BenchWorker, changes: int, log: Path, converters: dict[str, str]) -> Drains:
    """Changes/s of (a) the boto3 drain, (b) the lean drain and (c) the connector on the warm worker."""
    with fresh_dynamodb(stack, log) as own:
        ddb = own.dynamodb()
        table = f"benchcdc_{uuid.uuid4().hex[:6]}"
        create_table(ddb, table, KEY, stream_view="NEW_AND_OLD_IMAGES")
        started = time.perf_counter()
        load(ddb, table, changes, item, threads=LOAD_THREADS)
        loaded_s = time.perf_counter() - started
        arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
        shards = lean_client(own.dynamodb_endpoint, STREAMS_TARGET).call("DescribeStream", {
            "StreamArn": arn})["StreamDescription"]["Shards"]
        print(f"wrote {changes:,} changes in {loaded_s:.0f}s = {changes / loaded_s:,.0f}/s ({len(shards)} shard(s); "
              "not timed below)", flush=True)
        boto_rate, boto_count = timed("(a) boto3 GetRecords drain", lambda: boto3_drain(own.dynamodb_endpoint, arn),
                                      "changes")
        lean_rate, lean_count = timed("(b) lean drain (signed HTTP + orjson)",
                                      lambda: lean_drain(own.dynamodb_endpoint, arn), "changes")
        if boto_count != changes or lean_count != changes:
            raise SystemExit(f"the drains counted {boto_count:,} and {lean_count:,} of {changes:,} changes")
        rate = 0.0
        try:
            for run in ("cold", "warm"):
                config = own.connector_config(table, **CDC, **{"poll.linger.ms": "100", "max.batch.size": "5000",
                                                              **routed(f"-{run}"), **converters})
                cpu = worker.cpu_s()
                drained = worker.time_to_kafka(f"drain-{run}", config, [f"{table}-{run}"], changes)
                rate = changes / drained.seconds
                print(f"(c) connector end to end, {run} worker: {changes:,} changes in {drained.seconds:.1f}s = "
                      f"{rate:,.0f} changes/s; worker CPU {(worker.cpu_s() - cpu) / drained.seconds:.0%} of a core, "
                      f"RSS {worker.rss_mb():,.0f} MB\n    whole run: {drained.cpu.describe()}", flush=True)
            floor = reference_run(worker, log.parent, table, changes, converters)
        finally:
            delete_topics(stack.bootstrap, [f"{table}-cold", f"{table}-warm", f"{table}-ref"])
    return Drains(boto_rate, lean_rate, rate, drained.cpu, floor.cpu)


def simulator_throughput(stack: Stack, worker: BenchWorker, changes: int, shards: int, converters: dict[str, str]
                         ) -> tuple[float, CpuPerRecord]:
    """(d) Changes/s and the worker's CPU per change (whole run) of the connector draining the simulator's
    `shards`-shard stream from TRIM_HORIZON (the changes made as history, then writes paused)."""
    history_s = 20.0
    table = f"benchsim_{uuid.uuid4().hex[:6]}"
    with SimulatorProcess(start_timeout_s=120, table=table, shards=shards, rotate_s=3600, retention_s=86400,
                          history_s=history_s, writes_per_s=changes / history_s, keys=max(1000, changes // 10),
                          remove_fraction=0, own_tables=True) as sim:
        sim.pause_writes()
        made = sim.stats()["changes"]
        config = stack.connector_config(table, **CDC, **{
            "dynamodb.service.endpoint": sim.endpoint, "poll.linger.ms": "100", "max.batch.size": "5000", **converters})
        try:
            run = worker.time_to_kafka("drain-simulator", config, [table], made)
        finally:
            delete_topics(stack.bootstrap, [table])
    print(f"(d) connector end to end, simulator, {shards} shards: {made:,} changes in {run.seconds:.1f}s = "
          f"{made / run.seconds:,.0f} changes/s\n    whole run: {run.cpu.describe()}", flush=True)
    return made / run.seconds, run.cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=150_000, help="changes written to the stream")
    parser.add_argument("--latency-seconds", type=float, default=10, help="how long each latency run writes")
    parser.add_argument("--format", choices=(*formats.CONVERTERS, "WORKER"), default=DEFAULT_FORMAT,
                        help="output.data.format (and key format) of (c) and (r), as in snapshot.py; WORKER: the "
                             "stack worker's JsonConverter")
    parser.add_argument("--simulator", action="store_true", help="also drain the DynamoDB Streams simulator's "
                        "many-shard stream, beside (c); no latency runs")
    parser.add_argument("--shards", type=int, default=64, help="the simulator's shards (default %(default)s)")
    args = parser.parse_args()
    if args.shards < 1 or args.changes < 1:
        parser.error("--shards and --changes must be positive")
    stack = running_stack()
    converters = {} if args.format == "WORKER" else output_converters(args.format, stack.schema_registry_url)
    # The machine may be shared: the load at the start tells how far to trust the figures.
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        worker = BenchWorker(stack, Path(tmp), plugins=reference.plugin_path(Path(tmp)))
        try:
            drains = throughput(stack, worker, args.changes, Path(tmp) / "dynamodb.log", converters)
            if args.simulator:
                sim_rate, sim_cpu = simulator_throughput(stack, worker, args.changes, args.shards, converters)
                print(f"RESULT cdc-simulator ratio={sim_rate / drains.rate:.3f} simulator {args.shards}-shard "
                      f"changes/s over DynamoDB Local 1-shard changes/s (CPU a change: {sim_cpu.total_us:,.0f} µs vs "
                      f"{drains.cpu.total_us:,.0f} µs)")
                return
            # A DynamoDB Local each, so neither run's writes walk past the other's stream records.
            for linger_ms in (0, None):
                with fresh_dynamodb(stack, Path(tmp) / f"dynamodb-latency-{linger_ms}.log") as own:
                    latency(own, worker, linger_ms, rate=500, seconds=args.latency_seconds)
        finally:
            worker.stop()
    d = drains
    print(f"(c) {d.rate:,.0f} changes/s, (b) {d.lean_rate:,.0f} changes/s, (a) {d.boto_rate:,.0f} changes/s; "
          f"(c)/(a) = {d.rate / d.boto_rate:.2f}")
    print(f"RESULT cdc ratio={d.rate / d.lean_rate:.3f} connector changes/s over lean-drain changes/s "
          f"((c)/(a)={d.rate / d.boto_rate:.2f})")
    print(f"RESULT cdc-cpu ratio={d.floor.total_us / d.cpu.total_us:.3f} reference-source µs/record over connector "
          f"µs/record ({d.floor.total_us:.1f} / {d.cpu.total_us:.1f}, warm worker, {args.format})")


if __name__ == "__main__":
    main()
