"""Snapshot throughput: the connector end to end against what DynamoDB Local can serve a Python process.

Loads 3 tables x 150,000 items of about 1 KB into the stack's DynamoDB Local (`make up` first), then in
the same run measures items/s of:
  (a) plain boto3: a parallel Scan (5 segments per table, one thread each) that only counts items;
  (b) a lean reader: botocore-signed requests over urllib3, pages parsed with orjson, counting items
      (python_connector.aws.client.JsonClient, the connector's own reader, without the rest of the connector);
  (c) the connector end to end, on a fresh launched worker: from connector creation until the last
      record is readable in Kafka.
(c) runs on one fresh worker twice: on one table (150k items, which also warms the JVM up), then on all
three (450k, the figure reported), and prints the worker's RSS after each: it must not grow with table
size (the JVM heap is fixed and pre-touched so the figure shows the engine).
  (r) then, on the same worker with the same converters, the reference source (bench/reference.py) emits the same
      number of the same records from memory: Connect's floor for this work.
  (s) with `--worker stock`, (c) again on a fresh stock worker (Kafka's ConnectDistributed on plain `java`, the engine
      in a Python child process per task), and `RESULT snapshot-stock ratio=<(s) items/s / (c) items/s>`.
For (c) and (r) the worker's CPU per record over the whole run (connector creation to last record in Kafka, on the
warm worker) is printed, split by kind of thread (bench/cpu.py), and `RESULT snapshot-cpu ratio=<(r) µs / (c) µs>`
ends the run: 1.0 means our connector costs a worker core no more than any Connect source writing the same records.
Not a window inside the run: what Kafka holds lags what the task has converted by up to the producer's buffer
(32 MB of compressed batches: all of a 50,000-item run), so a window counted by Kafka's records misses their work.

With ``--strategy CONCURRENT`` (or ``BOTH``, beside BLOCKING in the same run) the tables get a stream and (c) runs
with SNAPSHOT_CDC and that dynamodb.snapshot.strategy, timed until every segment is completed in Connect's offsets
and the items are in Kafka (no writes during the run). BLOCKING alone is today's SNAPSHOT-mode figure.

`--document schema` measures typed documents instead (document_bench): on one fresh worker and the same loaded
tables, the json_string snapshot (the baseline) and the typed-document one (document.content.format=schema,
auto_infer, decimal.handling.mode=double), each warmed up on one table, then measured twice on all three (in the
order A B B A), with its items/s and CPU per record; it ends with `RESULT snapshot-document
ratio=<schema items/s ÷ json_string items/s>` (target: >= 0.8).

Run: `make bench-snapshot` (or `python bench/snapshot.py --items 150000`; `--document schema` for the typed-document
comparison). Tables and topics are deleted at the end; nothing else to reset.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import boto3
import requests
from botocore.credentials import Credentials
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

from bench import reference
from bench.cpu import CpuPerRecord, CpuWindow, child_pids
from python_connector.aws.client import JsonClient
from python_connector.cli.translate import DEFAULT_FORMAT, translate
from python_connector.config import formats
from python_connector.records.tables import TableInfo
from stack.stack import PLUGINS
from tests.integration.conftest import ENDPOINTS, Stack, local_stack
from tests.integration.tables import create_table, load
from tests.integration.workers import (
    free_port,
    install_stock,
    rest_answers,
    start_launched,
    start_stock,
    wait_for_rest,
    worker_properties,
)

SEGMENTS = 5
PAYLOAD = "p" * 880


def item(i: int) -> dict:
    return {"pk": {"S": f"item-{i:08d}"}, "sk": {"N": str(i % 1000)}, "payload": {"S": PAYLOAD},
            "amount": {"N": f"{i}.25"}, "flag": {"BOOL": i % 2 == 0}, "tags": {"SS": ["a", "b"]}}


def running_stack() -> Stack:
    if not ENDPOINTS.exists():
        raise SystemExit("the stack is not up: run `make up`")
    return local_stack()


def timed(label: str, fn: Callable[[], int], unit: str = "items") -> tuple[float, int]:
    start = time.perf_counter()
    count = fn()
    seconds = time.perf_counter() - start
    print(f"{label}: {count:,} {unit} in {seconds:.1f}s = {count / seconds:,.0f} {unit}/s", flush=True)
    return count / seconds, count


def boto3_scan(endpoint: str, tables: list[str]) -> int:
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                          aws_secret_access_key="bench")

    def segment(args: tuple[str, int]) -> int:
        table, seg = args
        count, kwargs = 0, {}
        while True:
            page = client.scan(TableName=table, Segment=seg, TotalSegments=SEGMENTS, Limit=1000, **kwargs)
            count += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                return count
            kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}

    with ThreadPoolExecutor(len(tables) * SEGMENTS) as pool:
        return sum(pool.map(segment, [(t, s) for t in tables for s in range(SEGMENTS)]))


def lean_scan(endpoint: str, tables: list[str]) -> int:
    client = JsonClient(endpoint, "us-east-1", Credentials("bench", "bench"), "DynamoDB_20120810")

    def segment(args: tuple[str, int]) -> int:
        table, seg = args
        count, request = 0, {"TableName": table, "Segment": seg, "TotalSegments": SEGMENTS, "Limit": 1000}
        while True:
            page = client.call("Scan", request)
            count += len(page["Items"])
            if "LastEvaluatedKey" not in page:
                return count
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    with ThreadPoolExecutor(len(tables) * SEGMENTS) as pool:
        return sum(pool.map(segment, [(t, s) for t in tables for s in range(SEGMENTS)]))


def output_converters(fmt: str, registry_url: str) -> dict[str, str]:
    """The converters a Cloud config with this output.data.format and output.data.key.format is translated to."""
    cloud = {"name": "bench", "output.data.format": fmt, "output.data.key.format": fmt}
    return {k: v for k, v in translate(cloud, registry_url)["config"].items() if ".converter" in k}


def document_settings(content_format: str) -> dict[str, str]:
    """The connector settings of a --document choice (none for the default json_string)."""
    if content_format == "json_string":
        return {}
    return {"document.content.format": content_format, "document.schema.source": "auto_infer",
            "decimal.handling.mode": "double"}


def routed(suffix: str) -> dict[str, str]:
    """Connector settings sending each table's records to <table><suffix>: one stream or table, several runs."""
    return {"transforms": "run", "transforms.run.type": "org.apache.kafka.connect.transforms.RegexRouter",
            "transforms.run.regex": "(.*)", "transforms.run.replacement": f"$1{suffix}"}


def delete_topics(bootstrap: str, topics: list[str]) -> None:
    """Best effort, bounded: a broker that does not answer must not hold the bench's end."""
    for future in AdminClient({"bootstrap.servers": bootstrap}).delete_topics(topics, request_timeout=30).values():
        with contextlib.suppress(Exception):
            future.result(timeout=60)


def topic_total(bootstrap: str, topics: list[str]) -> int:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4()}"})
    try:
        return sum(consumer.get_watermark_offsets(TopicPartition(t, 0), timeout=10)[1] for t in topics)
    except Exception:
        return 0
    finally:
        consumer.close()


SLOWEST_RATE = 200  # records/s: a run slower than this (plus 10 minutes) is taken for a hang


@dataclasses.dataclass(frozen=True)
class Run:
    seconds: float
    cpu: CpuPerRecord


class BenchWorker:
    """A fresh launched worker with a fixed, pre-touched heap, so its RSS shows the engine's memory."""

    def __init__(self, stack: Stack, tmp: Path, extra: Sequence[str] = (), plugins: Path = PLUGINS):
        self.stack = stack
        group, port = f"bench-{uuid.uuid4().hex[:8]}", free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = tmp / f"{group}.log"
        os.environ["DDB_CDC_JVM_OPTS"] = "-Xms1g -Xmx1g -XX:+AlwaysPreTouch"
        self.process = start_launched(worker_properties(tmp / f"{group}.properties", stack.bootstrap, port, group,
                                                        plugins=plugins, extra=extra), self.log)
        deadline = time.monotonic() + 120
        while not rest_answers(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the bench worker did not start; see {self.log}")
            time.sleep(0.5)

    def snapshot(self, name: str, tables: list[str], expected: int, suffix: str, strategy: str | None = None,
                 **overrides: str) -> Run:
        """One snapshot, from connector creation until the last record is in <table><suffix>; with a strategy, a
        SNAPSHOT_CDC snapshot timed until its segments are completed too."""
        config = self.stack.connector_config(",".join(tables), **overrides, **{
            "tasks.max": str(len(tables)), "poll.linger.ms": "100", "max.batch.size": "5000",
            "dynamodb.snapshot.max.poll.records": "1000", "dynamodb.snapshot.max.rcu.percentage": "100",
            **routed(suffix)})
        if strategy is not None:
            config |= {"dynamodb.table.sync.mode": "SNAPSHOT_CDC", "dynamodb.snapshot.strategy": strategy}
        segments = SEGMENTS * len(tables) if strategy is not None else 0
        run = self.time_to_kafka(name, config, [t + suffix for t in tables], expected, segments)
        print(f"(c) connector end to end{f' ({strategy})' if strategy else ''}, {len(tables)} table(s): "
              f"{expected:,} items in {run.seconds:.1f}s = {expected / run.seconds:,.0f} items/s; worker RSS now "
              f"{self.rss_mb():,.0f} MB\n    whole run: {run.cpu.describe()}", flush=True)
        return run

    def time_to_kafka(self, name: str, config: dict[str, str], topics: list[str], expected: int,
                      segments: int = 0) -> Run:
        """From creating the connector until `expected` records are readable in `topics` and `segments` segments are
        completed in its offsets (change events may be in the topics too), with the worker's CPU per record over
        that time; then deletes the connector."""
        start, cpu = time.perf_counter(), CpuWindow(self.process.pid)
        self.create(name, config)
        try:
            self._wait_for(name, topics, expected, start, cpu)
            deadline = start + 600 + expected / SLOWEST_RATE
            while self.completed(name) < segments:
                if time.perf_counter() > deadline:
                    raise SystemExit(f"connector {name}: its segments were not all completed in time; see {self.log}")
                self.raise_if_failed(name)
                time.sleep(0.5)
            return Run(time.perf_counter() - start, cpu.per_record(expected))
        finally:
            self.delete(name)

    def completed(self, name: str) -> int:
        offsets = requests.get(f"{self.url}/connectors/{name}/offsets", timeout=30).json().get("offsets", [])
        return sum(str(o["offset"].get("segmentCompleted")) == "true" for o in offsets)

    def _wait_for(self, name: str, topics: list[str], expected: int, start: float, cpu: CpuWindow) -> None:
        deadline = start + 600 + expected / SLOWEST_RATE
        checked = start
        while (total := topic_total(self.stack.bootstrap, topics)) < expected:
            now = time.perf_counter()
            if now > deadline:
                raise SystemExit(f"connector {name}: only {total:,} of {expected:,} records in Kafka after "
                                 f"{now - start:.0f}s; see {self.log}")
            if now - checked > 5:  # a failed task would leave this loop waiting forever
                self.raise_if_failed(name)
                checked = now
            cpu.sample()
            time.sleep(0.2)

    def create(self, name: str, config: dict[str, str]) -> None:
        requests.put(f"{self.url}/connectors/{name}/config", json=config, timeout=30).raise_for_status()

    def raise_if_failed(self, name: str) -> None:
        status = requests.get(f"{self.url}/connectors/{name}/status", timeout=30).json()
        for part in [status.get("connector", {}), *status.get("tasks", [])]:
            if part.get("state") == "FAILED":
                raise SystemExit(f"connector {name} failed: {part.get('trace', '')[:3000]}")

    def delete(self, name: str) -> None:
        requests.delete(f"{self.url}/connectors/{name}", timeout=30)

    def cpu_s(self) -> float:
        """CPU seconds the worker (its JVM and Python together) has used so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)


def reference_run(worker: BenchWorker, tmp: Path, table: str, records: int, converters: dict[str, str]) -> Run:
    """Connect's floor: the same records from memory through the same worker (see bench/reference.py)."""
    batch = reference.snapshot_batch(tmp / "snapshot.batch", TableInfo(table, (("pk", "S"), ("sk", "N"))), item,
                                     table + "-ref")
    config = reference.connector_config(batch, records, 3, converters)
    run = worker.time_to_kafka("reference", config, [table + "-ref"], records)
    print(f"(r) reference source, from memory: {records:,} records in {run.seconds:.1f}s = "
          f"{records / run.seconds:,.0f} records/s\n    whole run: {run.cpu.describe()}", flush=True)
    return run


def load_tables(stack: Stack, items: int, stream_view: str | None = None) -> list[str]:
    """Three new tables of ``items`` bench items each (not timed)."""
    ddb = stack.dynamodb()
    tables = [f"bench_{uuid.uuid4().hex[:6]}_{i}" for i in range(3)]
    started = time.perf_counter()
    for t in tables:
        create_table(ddb, t, [("pk", "S"), ("sk", "N")], stream_view=stream_view)
    threads = [threading.Thread(target=load, args=(ddb, t, items, item)) for t in tables]
    for th in threads:
        th.start()
    for th in threads:
        th.join(3600)
        if th.is_alive():
            raise SystemExit("loading the bench tables took over an hour: is DynamoDB Local answering?")
    print(f"loaded {3 * items:,} items in {time.perf_counter() - started:.0f}s (not timed below)", flush=True)
    return tables


# --document schema: each content format's name and the suffix of its topics; the measured runs go A B B A, so a
# drift of the shared machine (JIT, other load) weighs on both alike.
DOCUMENT_RUNS = (("json_string", "-json"), ("schema", "-typed"))
DOCUMENT_ORDER = (*DOCUMENT_RUNS, *reversed(DOCUMENT_RUNS))


@dataclasses.dataclass(frozen=True)
class DocumentRun:
    run: Run
    process_us: float  # the worker process's CPU per record over the whole run, threads that ended included


def document_bench(stack: Stack, items: int, fmt: str, converters: dict[str, str]) -> None:
    """json_string (the baseline) against typed documents, on one fresh worker and the same tables: each is warmed
    up on one table (the typed path has JIT work of its own: the document's Struct and its conversion), then each
    runs twice on all three tables (A B B A), every run to its own topics. A format's figures pool its two runs."""
    tables = load_tables(stack, items)
    topics: list[str] = []
    runs: dict[str, list[DocumentRun]] = {content: [] for content, _ in DOCUMENT_RUNS}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            worker = BenchWorker(stack, Path(tmp))
            try:
                for content, suffix in DOCUMENT_RUNS:
                    topics.append(tables[0] + suffix + "-warm")
                    print(f"[{content}] warm-up, one table", flush=True)
                    worker.snapshot(f"warm{suffix}", tables[:1], items, suffix + "-warm", **converters,
                                    **document_settings(content))
                for n, (content, suffix) in enumerate(DOCUMENT_ORDER):
                    topics += [f"{t}{suffix}{n}" for t in tables]
                    print(f"[{content}] three tables, run {len(runs[content]) + 1} (worker pid {worker.process.pid}, "
                          f"load average {os.getloadavg()[0]:.1f})", flush=True)
                    cpu_s = worker.cpu_s()
                    run = worker.snapshot(f"three{suffix}{n}", tables, 3 * items, f"{suffix}{n}", **converters,
                                          **document_settings(content))
                    process_us = (worker.cpu_s() - cpu_s) * 1e6 / (3 * items)
                    print(f"    whole run: {process_us:.1f} µs of worker process CPU per record", flush=True)
                    runs[content].append(DocumentRun(run, process_us))
            finally:
                worker.stop()
    finally:
        ddb = stack.dynamodb()
        for t in tables:
            ddb.delete_table(TableName=t)
        delete_topics(stack.bootstrap, topics)
    print(document_result(runs, 3 * items, fmt))


def document_result(runs: dict[str, list[DocumentRun]], records: int, fmt: str) -> str:
    """The RESULT line of document_bench: each format's items/s and CPU per record over its runs."""
    rate = {content: records * len(rs) / sum(r.run.seconds for r in rs) for content, rs in runs.items()}
    steady = {content: sum(r.run.cpu.total_us * r.run.cpu.records for r in rs) / sum(r.run.cpu.records for r in rs)
              for content, rs in runs.items()}
    whole = {content: sum(r.process_us for r in rs) / len(rs) for content, rs in runs.items()}
    for content in runs:
        print(f"{content}, {len(runs[content])} runs: {rate[content]:,.0f} items/s; worker CPU per record "
              f"{steady[content]:.1f} µs summed by thread (bench/cpu.py), {whole[content]:.1f} µs over "
              "whole runs (the process)")
    return (f"RESULT snapshot-document ratio={rate['schema'] / rate['json_string']:.3f} schema items/s over "
            f"json_string items/s ({rate['schema']:,.0f} / {rate['json_string']:,.0f} items/s; "
            f"{steady['schema']:.1f} / {steady['json_string']:.1f} µs/record by thread, "
            f"{whole['schema']:.1f} / {whole['json_string']:.1f} µs/record whole runs, {fmt})")


# --worker stock: the same snapshot on a stock worker, in the same run.
STOCK_HEAP = ("-Xms1g", "-Xmx1g", "-XX:+AlwaysPreTouch")  # BenchWorker's, so that only the engine's hosting differs


class StockBenchWorker(BenchWorker):
    """A fresh stock worker (plain `java`, Kafka's ConnectDistributed) as tests/integration/workers.py starts one: the
    packaged archive unzipped in plugin.path, its wheel in a fresh venv, the engine in a Python child process per
    task (and one for the connector side). Its CPU and RSS include those children."""

    def __init__(self, stack: Stack, tmp: Path):  # not BenchWorker's, which starts a launched worker
        install = install_stock(tmp / "stock")
        self.stack = stack
        group, port = f"bench-stock-{uuid.uuid4().hex[:8]}", free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = tmp / f"{group}.log"
        properties = worker_properties(tmp / f"{group}.properties", stack.bootstrap, port, group, install.plugins)
        self.process = start_stock(properties, self.log, install.python, heap=STOCK_HEAP)
        wait_for_rest(self.process, self.url, self.log)

    def rss_mb(self) -> float:
        return super().rss_mb() + sum(rss_mb(child) for child in child_pids(self.process.pid))


def rss_mb(pid: int) -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stock_run(stack: Stack, tmp: Path, tables: list[str], items: int, converters: dict[str, str]) -> Run:
    """The launcher's runs again on a stock worker: one table to warm it up, then the three (the figure)."""
    print("(s) the same on a stock worker, the engine in a child process per task:", flush=True)
    worker = StockBenchWorker(stack, tmp)
    try:
        worker.snapshot("stock-warm-up", tables[:1], items, "-stock-one", **converters)
        return worker.snapshot("stock-three", tables, 3 * items, "-stock-three", **converters)
    finally:
        worker.stop()
        delete_topics(stack.bootstrap, [tables[0] + "-stock-one", *(t + "-stock-three" for t in tables)])


def stock_result(launcher: Run, stock: Run, items: int) -> str:
    ours, theirs = items / launcher.seconds, items / stock.seconds
    return (f"RESULT snapshot-stock ratio={theirs / ours:.3f} stock-worker items/s over launcher-worker items/s "
            f"({theirs:,.0f} / {ours:,.0f}; worker CPU per record {stock.cpu.total_us:.1f} / "
            f"{launcher.cpu.total_us:.1f} µs, whole runs)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=150_000, help="items per table (3 tables)")
    parser.add_argument("--format", choices=(*formats.CONVERTERS, "WORKER"), default=DEFAULT_FORMAT,
                        help="output.data.format (and key format) as `ddb-cdc translate` maps it, default the "
                             "documented one; WORKER: the stack worker's JsonConverter, which embeds the schema")
    parser.add_argument("--document", choices=("json_string", "schema"), default="json_string",
                        help="document.content.format; schema: json_string and typed documents (auto_infer, "
                             "decimal.handling.mode=double) in the same run, on one worker and the same tables")
    parser.add_argument("--strategy", choices=("BLOCKING", "CONCURRENT", "BOTH"), default="BLOCKING",
                        help="dynamodb.snapshot.strategy: BLOCKING, today's SNAPSHOT-mode figure; CONCURRENT or BOTH "
                             "(beside BLOCKING in the same run) with SNAPSHOT_CDC on tables with a stream")
    parser.add_argument("--worker", choices=("launcher", "stock"), default="launcher",
                        help="stock: the same snapshot on a stock worker too (the engine in child processes)")
    args = parser.parse_args()
    strategies: list[str | None] = {"BLOCKING": [None], "CONCURRENT": ["CONCURRENT"],
                                    "BOTH": ["BLOCKING", "CONCURRENT"]}[args.strategy]
    stack = running_stack()
    converters = {} if args.format == "WORKER" else output_converters(args.format, stack.schema_registry_url)
    if args.document == "schema":
        return document_bench(stack, args.items, args.format, converters)
    converters.update(document_settings(args.document))
    ddb = stack.dynamodb()
    tables = load_tables(stack, args.items, None if strategies == [None] else "NEW_AND_OLD_IMAGES")
    try:
        boto_rate, _ = timed("(a) boto3 parallel Scan", lambda: boto3_scan(stack.dynamodb_endpoint, tables))
        lean_rate, _ = timed("(b) lean reader (signed HTTP + orjson)", lambda: lean_scan(stack.dynamodb_endpoint,
                                                                                        tables))
        with tempfile.TemporaryDirectory() as tmp:
            worker = BenchWorker(stack, Path(tmp), plugins=reference.plugin_path(Path(tmp)))
            try:
                # The first run also warms the JVM up (its JIT compiles for a good part of a short run).
                worker.snapshot("warm-up", tables[:1], args.items, "-one", **converters)
                rss_one = worker.rss_mb()
                runs = {s: worker.snapshot(f"three-{(s or 'x').lower()}", tables, 3 * args.items,
                                           f"-three-{(s or 'x').lower()}", s, **converters) for s in strategies}
                ours = next(iter(runs.values()))
                rss_three = worker.rss_mb()
                floor = reference_run(worker, Path(tmp), tables[0], 3 * args.items, converters)
            finally:
                worker.stop()
            stock = stock_run(stack, Path(tmp), tables, args.items, converters) if args.worker == "stock" else None
    finally:
        for t in tables:
            ddb.delete_table(TableName=t)
        delete_topics(stack.bootstrap, [tables[0] + "-one", tables[0] + "-ref", *(
            f"{t}-three-{(s or 'x').lower()}" for t in tables for s in strategies)])
    rate = 3 * args.items / ours.seconds
    rates = {s: 3 * args.items / r.seconds for s, r in runs.items()}
    print(f"worker RSS: {rss_one:,.0f} MB after {args.items:,} items, {rss_three:,.0f} MB after "
          f"{4 * args.items:,} items (heap fixed at 1 GB)")
    print(f"(c)/(a) = {rate / boto_rate:.2f}")
    if len(rates) == 2:
        print(f"RESULT concurrent ratio={rates['CONCURRENT'] / rates['BLOCKING']:.3f} CONCURRENT items/s over "
              "BLOCKING items/s (goal >= 0.8)")
    print(f"RESULT snapshot ratio={rate / lean_rate:.3f} connector items/s over lean-reader items/s "
          f"((c)/(a)={rate / boto_rate:.2f})")
    print(f"RESULT snapshot-cpu ratio={floor.cpu.total_us / ours.cpu.total_us:.3f} reference-source µs/record over "
          f"connector µs/record ({floor.cpu.total_us:.1f} / {ours.cpu.total_us:.1f}, warm worker, {args.format})")
    if stock is not None:
        print(stock_result(ours, stock, 3 * args.items))


if __name__ == "__main__":
    main()
