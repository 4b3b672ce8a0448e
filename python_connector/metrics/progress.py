"""Snapshot progress of one task, per table, logged at an interval: items read, estimate, rate, ETA."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

log = logging.getLogger(__name__)

REPORT_INTERVAL_S = 30.0


class SnapshotProgress:
    def __init__(self, task: str, estimates: Mapping[str, int], clock: Callable[[], float] = time.monotonic,
                 interval_s: float = REPORT_INTERVAL_S, warnings: Callable[[], list[str]] = list):
        """``warnings`` gives extra lines to log as warnings at each report (the retention check)."""
        """``estimates``: per table, the items this task's segments should hold (DescribeTable ItemCount share)."""
        self._task = task
        self._estimates = dict(estimates)
        self._read = dict.fromkeys(estimates, 0)
        self._clock = clock
        self._interval_s = interval_s
        self._started = dict.fromkeys(estimates, clock())
        self._last_report = clock()
        self._lock = threading.Lock()
        self._warnings = warnings

    def track(self, table: str, estimate: int) -> None:
        """A snapshot of the table starts now (an ad-hoc one, by a signal): counted afresh."""
        with self._lock:
            self._estimates[table], self._read[table], self._started[table] = estimate, 0, self._clock()

    def add(self, table: str, items: int) -> None:
        with self._lock:
            self._read[table] += items

    def lines(self) -> list[str]:
        now = self._clock()
        with self._lock:
            read = dict(self._read)
        out = []
        for table, count in read.items():
            rate = count / max(now - self._started[table], 1e-9)
            estimate = self._estimates[table]
            if estimate > count and rate > 0:
                tail = f" of ~{estimate:,} ({100 * count / estimate:.0f}%), ETA {(estimate - count) / rate:,.0f}s"
            else:
                tail = f" (estimate {estimate:,})"
            out.append(f"{self._task}: snapshot of {table}: {count:,} items read{tail}, {rate:,.0f} items/s")
        return out

    def report_if_due(self) -> None:
        now = self._clock()
        if now - self._last_report < self._interval_s:
            return
        self._last_report = now
        for line in self.lines():
            log.info(line)
        for line in self._warnings():
            log.warning(line)
