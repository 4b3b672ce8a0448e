"""One Connect task's engine: its snapshot readers, the buffer they fill, and poll/acknowledge."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from python_connector import config as cfg
from python_connector import connector, offsets, snapshot, wire
from python_connector.aws import JsonClient, dynamodb_client
from python_connector.buffer import RecordBuffer
from python_connector.discovery import describe

log = logging.getLogger(__name__)

# Read-ahead: records buffered plus in flight, as a multiple of max.batch.size.
READ_AHEAD_BATCHES = 3


class SourceTaskEngine:
    def __init__(self, raw: Mapping[str, str], stored: Sequence[Mapping[str, Any]],
                 client_factory: Callable[[cfg.ConnectorConfig], JsonClient] = dynamodb_client,
                 clock_ns: Callable[[], int] = time.time_ns):
        self.config = cfg.parse(raw)
        connector.refuse_unimplemented(self.config)
        self.name = f"{raw.get('name', '?')}-{raw.get('task.id', '?')}"
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

    def start(self) -> None:
        client = self._client_factory(self.config)
        assignment = connector.assignment_of(self._raw) or []
        tables = {t: describe(client, t) for t in dict.fromkeys(t for t, _ in assignment)}
        plans = snapshot.plan(tables, assignment, self.config["dynamodb.snapshot.total.segments"],
                              connector.snapshots_of(self._raw), self._stored)
        skipped = sum(p.skip for p in plans)
        log.info("%s: snapshot of %d segment(s) of %s (%d already completed)", self.name, len(plans),
                 ", ".join(tables) or "no tables", skipped)
        for plan in plans:
            thread = threading.Thread(target=self._scan, args=(client, plan), daemon=True,
                                      name=f"ddbcdc-scan-{plan.source.table.name}-{plan.source.segment}")
            self._threads.append(thread)
            thread.start()

    def _scan(self, client: JsonClient, plan: snapshot.SegmentPlan) -> None:
        try:
            outcome = snapshot.scan_segment(client, plan, self._buffer,
                                            self.config["dynamodb.snapshot.max.poll.records"], self._stopped,
                                            self._clock_ns)
            log.debug("%s: segment %s/%d %s", self.name, plan.source.table.name, plan.source.segment, outcome.value)
        except snapshot.SnapshotError as e:
            log.error("%s: %s", self.name, e)
            self._buffer.fail(e)

    def poll(self) -> bytearray | None:
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
