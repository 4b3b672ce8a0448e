"""One Connect task's engine: its snapshot readers, the buffer they fill, and poll/acknowledge."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from python_connector import config as cfg
from python_connector import connector, offsets, pacing, snapshot, wire
from python_connector.aws import JsonClient, dynamodb_client
from python_connector.buffer import RecordBuffer
from python_connector.discovery import describe
from python_connector.progress import SnapshotProgress

log = logging.getLogger(__name__)

# Read-ahead: records buffered plus in flight, as a multiple of max.batch.size.
READ_AHEAD_BATCHES = 3


class AllTablesFailed(Exception):
    pass


class SourceTaskEngine:
    def __init__(self, raw: Mapping[str, str], stored: Sequence[Mapping[str, Any]],
                 client_factory: Callable[[cfg.ConnectorConfig], JsonClient] = dynamodb_client,
                 clock_ns: Callable[[], int] = time.time_ns):
        self.config = cfg.parse(raw)
        connector.refuse_unimplemented(self.config)
        self.name = f"{raw.get('name', '?')}-{raw.get(connector.TASK_INDEX_KEY, '?')}"
        self._raw = raw
        self._stored = offsets.read_segments(stored)
        self._client_factory = client_factory
        self._clock_ns = clock_ns
        self._max_batch = self.config["max.batch.size"]
        self._linger_s = self.config["poll.linger.ms"] / 1000.0
        self._buffer = RecordBuffer(READ_AHEAD_BATCHES * self._max_batch)
        self._stopped = threading.Event()
        self._batch_ids = itertools.count(1)
        self._in_flight: dict[int, int] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._tables: set[str] = set()
        self._failed_tables: dict[str, snapshot.SnapshotError] = {}
        self._progress: SnapshotProgress | None = None

    def start(self) -> None:
        client = self._client_factory(self.config)
        assignment = connector.assignment_of(self._raw) or []
        total = self.config["dynamodb.snapshot.total.segments"]
        tables = {t: describe(client, t) for t in dict.fromkeys(t for t, _ in assignment)}
        self._tables = set(tables)
        plans = snapshot.plan(tables, assignment, total, connector.snapshots_of(self._raw), self._stored)
        mine = Counter(t for t, _ in assignment)
        budgets = {t: pacing.ReadBudget(pacing.task_budget(info.read_capacity,
                                                           self.config["dynamodb.snapshot.max.rcu.percentage"],
                                                           mine[t], total))
                   for t, info in tables.items()}
        self._progress = SnapshotProgress(self.name, {t: info.item_count * mine[t] // total
                                                      for t, info in tables.items()})
        for t, budget in budgets.items():
            log.info("%s: snapshot of %s, segments %s of %d (%d already completed), at most %.1f read units/s",
                     self.name, t, sorted(s for table, s in assignment if table == t), total,
                     sum(p.skip for p in plans if p.source.table.name == t), budget.units_per_s)
        for plan in plans:
            thread = threading.Thread(target=self._scan, args=(client, plan, budgets[plan.source.table.name]),
                                      daemon=True,
                                      name=f"ddbcdc-scan-{plan.source.table.name}-{plan.source.segment}")
            self._threads.append(thread)
            thread.start()

    def _scan(self, client: JsonClient, plan: snapshot.SegmentPlan, budget: pacing.ReadBudget) -> None:
        assert self._progress is not None
        try:
            outcome = snapshot.scan_segment(client, plan, self._buffer,
                                            self.config["dynamodb.snapshot.max.poll.records"], budget, self._stopped,
                                            self._progress.add, self._clock_ns)
            log.debug("%s: segment %s/%d %s", self.name, plan.source.table.name, plan.source.segment, outcome.value)
        except snapshot.SnapshotError as e:
            self._table_failed(e)

    def _table_failed(self, error: snapshot.SnapshotError) -> None:
        """A table's snapshot stops with its error logged; the task fails only when all its tables have."""
        with self._lock:
            first = error.table not in self._failed_tables
            self._failed_tables.setdefault(error.table, error)
            all_failed = set(self._failed_tables) >= self._tables
        if first:
            log.error("%s: the snapshot of table %s stopped; the other tables go on: %s", self.name, error.table, error)
        if all_failed:
            self._buffer.fail(AllTablesFailed("; ".join(str(e) for e in self._failed_tables.values())))

    def poll(self) -> bytearray | None:
        if self._progress is not None:
            self._progress.report_if_due()
        groups = self._buffer.take(self._max_batch, self._linger_s)
        if not groups:
            return None
        batch_id = next(self._batch_ids)
        with self._lock:
            self._in_flight[batch_id] = sum(len(g.records) for g in groups)
        encoded = []
        for g in groups:
            header = g.header if g.last_offset is None else {**g.header, "lastOffset": dict(g.last_offset)}
            encoded.append((header, g.records))
        return wire.batch(batch_id, encoded)

    def acknowledge(self, batch_id: int) -> None:
        with self._lock:
            records = self._in_flight.pop(batch_id, 0)
        self._buffer.release(records)

    def stop(self) -> None:
        self._stopped.set()
        self._buffer.close()
        for thread in self._threads:
            thread.join(timeout=10)
