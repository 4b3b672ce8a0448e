"""One Connect task's engine: its snapshot and stream readers, the buffer they fill, and poll/acknowledge."""

from __future__ import annotations

import functools
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from python_connector import config as cfg
from python_connector.aws.client import JsonClient, dynamodb_client
from python_connector.aws.tables import describe
from python_connector.metrics.progress import SnapshotProgress
from python_connector.metrics.registry import METRICS
from python_connector.records import envelope, offsets, wire
from python_connector.records.buffer import Group, RecordBuffer
from python_connector.records.document_builder import DocumentBuilder, DocumentFailed, DocumentSettings
from python_connector.records.tables import TableInfo
from python_connector.snapshot import concurrent, pacing, plan, scan, strategy
from python_connector.streams import generations, leases, reader
from python_connector.streams.dynamodb import DynamoDbStreams, StreamNotUsable, stream_of, streams_client
from python_connector.task import signals, task_config, threads
from python_connector.task.inflight import InFlight, InFlightBatches
from python_connector.task.task_config import Unit

log = logging.getLogger(__name__)

# Read-ahead: records buffered plus in flight, as a multiple of max.batch.size.
READ_AHEAD_BATCHES = 3
STOP_WAIT_S = 10.0  # how long a stopping task waits for its readers to end
RELEASE_WAIT_S = 5.0  # and then for its leases to be freed


class AllTablesFailed(Exception):
    pass


class SourceTaskEngine:
    def __init__(self, raw: Mapping[str, str], stored: Sequence[Mapping[str, Any]],
                 client_factory: Callable[[cfg.ConnectorConfig], JsonClient] = dynamodb_client,
                 clock_ns: Callable[[], int] = time.time_ns):
        self.config = cfg.parse(raw)
        self.name = f"{raw.get('name', '?')}-{raw.get(task_config.TASK_INDEX_KEY, '?')}"
        self._labels = {"connector": raw.get("name", "?"), "task": raw.get(task_config.TASK_INDEX_KEY, "?")}
        self._raw = raw
        self._stored = offsets.read_segments(stored)
        self._stored_raw = stored
        self._client_factory = client_factory
        self._clock_ns = clock_ns
        self._max_batch = self.config["max.batch.size"]
        self._linger_s = self.config["poll.linger.ms"] / 1000.0
        self._buffer = RecordBuffer(READ_AHEAD_BATCHES * self._max_batch)
        self.stopped = threading.Event()
        self._abandoned = threading.Event()  # set once stop() is done: AWS calls still failing give up
        self._in_flight = InFlightBatches()
        self._keeper: leases.LeaseKeeper | None = None
        self._snapshot_unacked: Counter[str] = Counter()
        self._segments_left: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._tables: set[str] = set()
        self._failed_tables: dict[str, Exception] = {}
        self._progress: SnapshotProgress | None = None
        self._documents: dict[str, DocumentBuilder] = {}  # per table, with document.content.format=schema
        self._windows: dict[str, concurrent.TableWindow] = {}  # per table whose snapshot may run concurrently here
        self._concurrent = self.config["dynamodb.snapshot.strategy"] == "CONCURRENT"
        self._concurrent_tables: set[str] = set()  # whose snapshot pages go through their window
        self._signal_topic: str | None = self.config["signal.kafka.topic"]
        self._decisions = offsets.read_signals(stored, self._signal_topic) if self._signal_topic else {}
        self._snapshots = plan.latest_snapshots(task_config.snapshots_of(raw), self._stored, self._decisions)
        self._running: dict[str, offsets.TableSnapshot] = {}  # the snapshot each table is being scanned in here
        self._last_counts: dict[str, int] = {}  # the count of the last snapshot of each table scanned here
        self._snapshot_stops: dict[str, threading.Event] = {}  # set to stop a table's scan (or the task's)
        self._infos: dict[str, TableInfo] = {}
        self._client: JsonClient | None = None

    def start(self) -> None:
        client = self._client_factory(self.config)
        client.abandon_retries_when(self._abandoned)
        assignment = task_config.assignment_of(self._raw) or []
        tables = {t: describe(client, t) for t in dict.fromkeys(u.table for u in assignment)}
        self._tables, self._infos, self._client = set(tables), tables, client
        settings = DocumentSettings.of(self.config.values, self._raw)
        if settings is not None:
            self._documents = {t: DocumentBuilder(info, settings, self._labels) for t, info in tables.items()}
        segments = [u for u in assignment if not u.is_stream
                    and not plan.stopped_by_signal(u.table, self._snapshots[u.table], self._decisions)]
        streamed = [u.table for u in assignment if u.is_stream]
        self._windows = self._concurrent_windows(tables, segments, streamed)
        if segments:
            self._start_snapshot(client, tables, segments, self._snapshots)
        if streamed:
            self._start_cdc(client, {t: tables[t] for t in streamed})
        if streamed and self._signal_topic:
            self._start_signals(self._signal_topic, streamed)

    def _start_snapshot(self, client: JsonClient, tables: Mapping[str, TableInfo], segments: Sequence[Unit],
                        snapshots: Mapping[str, offsets.TableSnapshot]) -> None:
        total = self.config["dynamodb.snapshot.total.segments"]
        plans = [replace(p, documents=self._documents.get(p.source.table.name))
                 for p in plan.plan(tables, segments, total, snapshots, self._stored)]
        mine = Counter(u.table for u in segments)
        budgets = {t: pacing.ReadBudget(pacing.task_budget(tables[t].read_capacity,
                                                           self.config["dynamodb.snapshot.max.rcu.percentage"],
                                                           n, total))
                   for t, n in mine.items()}
        if self._progress is None:
            self._progress = SnapshotProgress(self.name, {}, warnings=self._retention_warnings)
        for t, n in mine.items():
            self._progress.track(t, tables[t].item_count * n // total)
        for t, n in mine.items():
            METRICS.set("ddbcdc_table_phase", 1, connector=self._labels["connector"], table=t, phase="snapshot")
            METRICS.set("ddbcdc_snapshot_items_read_total", 0, table=t, **self._labels)  # this snapshot's count
            METRICS.set("ddbcdc_snapshot_concurrent", float(t in self._concurrent_tables), table=t, **self._labels)
            METRICS.set("ddbcdc_snapshot_items_estimated", tables[t].item_count * n // total, table=t, **self._labels)
        for t, budget in budgets.items():
            if self.config.sync_mode == "SNAPSHOT_CDC" and t not in self._concurrent_tables:
                warning = strategy.duration_warning(t, tables[t].item_count * mine[t] // total,
                                                    tables[t].units_per_item, budget.units_per_s)
                if warning:
                    log.warning("%s: %s", self.name, warning)
            log.info("%s: snapshot of %s, segments %s of %d (%d already completed), at most %.1f read units/s",
                     self.name, t, sorted(u.segment or 0 for u in segments if u.table == t), total,
                     sum(p.skip for p in plans if p.source.table.name == t), budget.units_per_s)
        with self._lock:
            self._segments_left.update(mine)
            self._running.update({t: snapshots[t] for t in mine})
            self._last_counts.update({t: snapshots[t].count for t in mine})
            self._snapshot_stops.update({t: threading.Event() for t in mine})
        for segment in plans:
            table = segment.source.table.name
            self._spawn(f"ddbcdc-scan-{table}-{segment.source.segment}", table,
                        functools.partial(self._scan, client, segment, budgets[table]))

    def _scan(self, client: JsonClient, segment: plan.SegmentPlan, budget: pacing.ReadBudget) -> None:
        table = segment.source.table.name
        out = self._windows[table] if table in self._concurrent_tables else self._buffer
        outcome = scan.scan_segment(client, segment, out, self.config["dynamodb.snapshot.max.poll.records"],
                                    budget, self._snapshot_stops[table], self._page_scanned, self._clock_ns)
        if outcome is not scan.Outcome.ABORTED:
            with self._lock:
                self._segments_left[table] -= 1
                ended = self._segments_left[table] <= 0 and self._running.pop(table, None) is not None
            if ended:
                METRICS.set("ddbcdc_snapshot_concurrent", 0, table=table, **self._labels)

    def _concurrent_windows(self, tables: Mapping[str, TableInfo], segments: Sequence[Unit],
                            streamed: Sequence[str]) -> dict[str, concurrent.TableWindow]:
        """A window per table whose segments and stream this task holds (the planning keeps them on one task
        while the table is in a snapshot) and whose snapshot is concurrent: CONCURRENT's, or one a signal
        started. With signals, every table streamed here has one, for the snapshots signals may start."""
        scanned = {u.table for u in segments}
        snapshots = self._snapshots
        self._concurrent_tables = {
            t for t in scanned if t in streamed and (
                (self._concurrent and self.config.sync_mode == "SNAPSHOT_CDC")
                or ((d := self._decisions.get(t)) is not None and d.snapshot.count == snapshots[t].count
                    and d.action == offsets.EXECUTE_SNAPSHOT))}
        streams = task_config.streams_of(self._raw)
        params = concurrent.params_for(self.config["dynamodb.service.endpoint"])
        out = {}
        for table in self._concurrent_tables | (set(streamed) if self._signal_topic else set()):
            initial = streams[table].initial
            out[table] = concurrent.TableWindow(
                tables[table], self._buffer, params, initial.at_ms if initial.at_ms is not None else 0,
                self.config["dynamodb.cdc.heartbeat.topic"], self.stopped, self._clock_ns)
            out[table].documents = self._documents.get(table)
        return out

    def _snapshot_in_kafka(self, table: str) -> bool:
        """Every segment of the table scanned, and every record of it acknowledged by Connect."""
        with self._lock:
            return self._segments_left[table] <= 0 and self._snapshot_unacked[table] <= 0

    def _start_signals(self, topic: str, streamed: Sequence[str]) -> None:
        """Signals for the tables streamed here (the planning puts each table's stream on one task)."""
        # The last snapshot's count: SNAPSHOT_CDC's (taken or being taken), else the stored or decided ones.
        taken = self._snapshots if self.config.sync_mode == "SNAPSHOT_CDC" else {}
        counts = {t: max([0, *(p.count for (u, _), p in self._stored.items() if u == t),
                          *([d.snapshot.count] if (d := self._decisions.get(t)) else []),
                          *([taken[t].count] if t in taken else [])]) for t in streamed}
        scope = signals.SignalScope(topic, self.config["dynamodb.cdc.heartbeat.topic"], streamed,
                                    self._snapshots,
                                    self._raw.get(task_config.TASK_INDEX_KEY) == "0")
        processor = signals.SignalProcessor(scope, self._decisions, counts, self, self._buffer.put, self._clock_ns)
        channel = signals.SignalChannel(
            signals.consumer_settings(self._raw, self.config["signal.kafka.bootstrap.servers"],
                                      self._labels["connector"]),
            topic, self._labels["connector"], processor.start_offset(), processor.handle, processor.bad)
        self._spawn("ddbcdc-signals", "", lambda: channel.run(self.stopped))

    # signals.SnapshotActions: what a signal asks of this task.
    def running_snapshot(self, table: str) -> offsets.TableSnapshot | None:
        with self._lock:
            return self._running.get(table)

    def start_snapshot(self, table: str, snapshot: offsets.TableSnapshot) -> None:
        """An ad-hoc snapshot, scanned while the table's changes stream (its window orders them)."""
        assert self._client is not None
        self._concurrent_tables.add(table)
        total = self.config["dynamodb.snapshot.total.segments"]
        self._start_snapshot(self._client, {table: self._infos[table]}, [Unit(table, s) for s in range(total)],
                             {table: snapshot})

    def stop_snapshot(self, table: str) -> None:
        with self._lock:
            stop = self._snapshot_stops.get(table)
            self._segments_left[table] = 0
            self._running.pop(table, None)
            count = self._last_counts.get(table)
        if stop is not None:
            stop.set()
        if count is not None and table in self._windows:
            self._windows[table].discard(count)  # its held pages too, even once scanned to its end
        METRICS.set("ddbcdc_snapshot_concurrent", 0, table=table, **self._labels)

    def _start_cdc(self, client: JsonClient, tables: Mapping[str, TableInfo]) -> None:
        streams = streams_client(self.config)
        streams.abandon_retries_when(self.stopped)  # a stopping reader has nothing left to read
        source = DynamoDbStreams(streams)
        shards = offsets.read_shards(self._stored_raw)
        plans = task_config.streams_of(self._raw)
        # A new generation starts at the snapshot's start: the stream must still hold it when CDC begins.
        starts = {t: p.initial.at_ms for t, p in plans.items() if p.new and p.initial.at_ms is not None}
        blocking = strategy.Blocking(self._snapshot_in_kafka, starts, lambda: self._clock_ns() // 1_000_000)
        # A new generation's TypeA/TypeC are stored once: by the task with the table's snapshot, else task 0.
        snapshotting = {u.table for u in task_config.assignment_of(self._raw) or [] if not u.is_stream}
        self._keeper = keeper = leases.LeaseKeeper(f"{self.name}-{uuid.uuid4().hex[:8]}", labels=self._labels)
        self._spawn("ddbcdc-leases", "", lambda: keeper.run(self.stopped))
        settings = reader.ReaderSettings(self.config["dynamodb.cdc.max.poll.records"],
                                         self.config["dynamodb.cdc.heartbeat.topic"],
                                         self.config["dynamodb.cdc.heartbeat.interval.ms"] / 1000,
                                         self._labels["connector"], reader.Clock(ns=self._clock_ns),
                                         task_id=self._labels["task"])
        for table, info in tables.items():
            try:
                stream = stream_of(info.description)
            except StreamNotUsable as e:
                self._table_failed(table, e)
                continue
            stream_plan = plans[table]
            stored = {shard: p for (t, shard), p in shards.items()
                      if t == table and p.lease_table == stream_plan.lease_table}
            log.info("%s: change data capture of %s from stream %s (%s), lease table %s, %s", self.name, table,
                     stream.arn, stream.view_type, stream_plan.lease_table, _generation_note(stream_plan))
            announces = stream_plan.new and (table in snapshotting or self._raw.get(task_config.TASK_INDEX_KEY) == "0")
            order: strategy.SnapshotStrategy = (
                blocking if self.config.sync_mode == "SNAPSHOT_CDC" and table not in self._concurrent_tables
                else concurrent.Concurrent() if table in self._concurrent_tables else strategy.Unordered())
            hooks = _TableHooks(self, client, table, stream_plan if announces else None, order)
            table_window = self._windows.get(table)
            table_source = source if table_window is None else table_window.watch(source)
            table_reader = reader.TableStreamReader(
                table_source, info, reader.StreamStart(stream, stream_plan.initial, stored), self._buffer, keeper,
                self.lease_table(client, stream_plan.lease_table), hooks,
                replace(settings, documents=self._documents.get(table)))
            self._spawn(f"ddbcdc-stream-{table}", table, table_reader.run)

    def announcement(self, client: JsonClient, table: str, plan: generations.StreamPlan) -> list[Group]:
        """As a generation starts: the records that store its TypeA and TypeC offsets; the lease table of the
        generation it replaces is dropped."""
        if plan.previous is not None and self.lease_table(client, plan.previous).drop():
            log.info("%s: dropped lease table %s of the previous generation of %s", self.name, plan.previous, table)
        now_ns = self._clock_ns()
        topic = self.config["dynamodb.cdc.heartbeat.topic"]
        at_ms = plan.initial.at_ms if plan.initial.at_ms is not None else now_ns // 1_000_000
        return [Group(envelope.offset_header(topic, table, partition, offset, now_ns), [])
                for partition, offset in (
                    (offsets.cdc_started_partition(table), offsets.cdc_started_offset(plan.lease_table)),
                    (offsets.stream_partition(table), offsets.stream_start_offset(at_ms, plan.lease_table)))]

    def lease_table(self, client: JsonClient, name: str) -> leases.LeaseTable:
        return leases.LeaseTable(client, name, self.config["dynamodb.cdc.table.billing.mode"],
                                 self.config["dynamodb.cdc.checkpointing.table.read.capacity"],
                                 self.config["dynamodb.cdc.checkpointing.table.write.capacity"])

    def _retention_warnings(self) -> list[str]:
        if self.config.sync_mode != "SNAPSHOT_CDC":
            return []
        now_ms = self._clock_ns() // 1_000_000
        with self._lock:
            unfinished = [t for t, left in self._segments_left.items() if left > 0]
        snapshots = self._snapshots
        return [w for t in unfinished if (w := strategy.retention_warning(t, snapshots[t].start_ms, now_ms))]

    def _page_scanned(self, table: str, items: int) -> None:
        METRICS.add("ddbcdc_snapshot_items_read_total", items, table=table, **self._labels)
        if table in self._concurrent_tables:
            METRICS.set("ddbcdc_snapshot_held_pages", self._windows[table].held_pages(), table=table, **self._labels)
        with self._lock:
            self._snapshot_unacked[table] += items
        if self._progress is not None:
            self._progress.add(table, items)

    def _spawn(self, name: str, table: str, body: Callable[[], Any]) -> None:
        """Runs a reader in its own thread; its failure stops its table only."""

        def run() -> None:
            threads.name_this_thread(name)
            try:
                body()
            except (scan.SnapshotError, reader.CdcError) as e:
                if isinstance(e.__cause__, DocumentFailed):  # like Connect's errors.tolerance=none: the task fails
                    self._buffer.fail(e.__cause__)
                self._table_failed(table, e)

        thread = threading.Thread(target=run, daemon=True, name=name)
        self._threads.append(thread)
        thread.start()

    def _table_failed(self, table: str, error: Exception) -> None:
        """A table stops with its error logged; the task fails only when all its tables have."""
        with self._lock:
            first = table not in self._failed_tables
            self._failed_tables.setdefault(table, error)
            all_failed = set(self._failed_tables) >= self._tables
        if first:
            log.error("%s: table %s stopped; the other tables go on: %s", self.name, table, error)
            METRICS.add("ddbcdc_table_errors_total", 1, table=table, **self._labels)
        if all_failed:
            self._buffer.fail(AllTablesFailed("; ".join(str(e) for e in self._failed_tables.values())))

    def poll(self) -> bytearray | None:
        if self._progress is not None:
            self._progress.report_if_due()
        groups = self._buffer.take(self._max_batch, self._linger_s)
        if not groups:
            return None
        batch = InFlight(sum(len(g.records) for g in groups), Counter(),
                         [g.committed for g in groups if g.committed is not None])
        for g in groups:
            if g.header.get("syncMode") == "SNAPSHOT":
                batch.snapshot_records[g.header["table"]] += len(g.records)
            if g.records:
                METRICS.add("ddbcdc_records_total", len(g.records), table=g.header["table"],
                            kind=g.header["syncMode"].lower(), **self._labels)
        with self._lock:
            batch_id = self._in_flight.add(batch)
        written = [g for g in groups if g.records or g.header.get("kind") == "offset"]
        if not written:  # only the end of a shard: nothing for Connect to write
            self.acknowledge(batch_id)
            return None
        return wire.batch(batch_id, [(g.wire_header(), g.records) for g in written])

    def acknowledge(self, batch_id: int) -> None:
        with self._lock:
            batch, committed = self._in_flight.acknowledge(batch_id)
            if batch is None:
                return
            self._snapshot_unacked.subtract(batch.snapshot_records)
        self._buffer.release(batch.records)
        if committed and self._keeper is not None:
            self._keeper.committed(committed)

    def stop(self) -> None:
        self.stopped.set()
        with self._lock:
            stops = list(self._snapshot_stops.values())
        for stop in stops:
            stop.set()
        self._buffer.close()
        deadline = time.monotonic() + STOP_WAIT_S  # for all readers together: one may be waiting on a dead endpoint
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if self._keeper is not None:
            # Freed leases spare the next owner the lease timeout; but DynamoDB may be unreachable, and a stop
            # must not wait out the retry budget for them.
            releasing = threading.Thread(target=self._keeper.release_all, daemon=True, name="ddbcdc-release")
            releasing.start()
            releasing.join(RELEASE_WAIT_S)
        self._abandoned.set()  # what is still retrying (a dead endpoint) ends now, not after 120 s a call
        METRICS.forget(**self._labels)


def _generation_note(plan: generations.StreamPlan) -> str:
    if not plan.new:
        return "resuming"
    at = f" {plan.initial.at_ms} ms" if plan.initial.at_ms else ""
    return f"a new generation from {plan.initial.kind}{at}"


class _TableHooks:
    """What a table's stream reader asks of its task (reader.ReaderHooks)."""

    def __init__(self, task: SourceTaskEngine, client: JsonClient, table: str,
                 announced: generations.StreamPlan | None, order: strategy.SnapshotStrategy):
        self.stopped = task.stopped
        self._task, self._client, self._table, self._announced, self._order = task, client, table, announced, order

    def may_start(self) -> bool:
        return self._order.stream_may_start(self._table)

    def current_stream_arn(self) -> str | None:
        return str(self._client.call("DescribeTable", {"TableName": self._table})["Table"].get("LatestStreamArn"))

    def announcement(self) -> list[Group]:
        return [] if self._announced is None else self._task.announcement(self._client, self._table, self._announced)
