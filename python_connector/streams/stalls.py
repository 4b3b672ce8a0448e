"""The stall detector: a shard this task is to read, with changes left to read, that has not advanced for a while.

A task can stay RUNNING with a dead data path: a shard throttled or failing on every read, an iterator that
never comes, a reader blocked on a buffer Connect no longer drains. A shard is *advancing* when a read of it
succeeds (records reached the buffer, or it is read to its tip: nothing is left to read); a shard waiting on its
parent is not expected to advance. The reader says which shards are expected to advance and which did; the check
runs on the lease keeper's thread too, which never blocks on the buffer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping

from python_connector.metrics.registry import METRICS

log = logging.getLogger(__name__)

STALL_AFTER_S = 300.0


class StallWatch:
    def __init__(self, labels: Mapping[str, str], after_s: float = STALL_AFTER_S,
                 clock: Callable[[], float] = time.monotonic):
        self._labels = dict(labels)
        self._after_s = after_s
        self._clock = clock
        self._since: dict[str, float] = {}  # shard expected to advance -> when it last did (or became expected)
        self._stalled: set[str] = set()
        self._lock = threading.Lock()

    def expect(self, shards: Iterable[str]) -> None:
        """These shards, and only these, are expected to advance (held, unfinished, parent finished)."""
        now = self._clock()
        with self._lock:
            expected = set(shards)
            for shard in self._since.keys() - expected:
                del self._since[shard]
            for shard in expected - self._since.keys():
                self._since[shard] = now

    def advanced(self, shard: str) -> None:
        with self._lock:
            if shard in self._since:
                self._since[shard] = self._clock()

    def check(self) -> list[str]:
        """The stalled shards; logs each stall as it starts and ends, and sets the gauge."""
        now = self._clock()
        with self._lock:
            stalled = {shard for shard, since in self._since.items() if now - since >= self._after_s}
            started, ended = stalled - self._stalled, self._stalled - stalled
            self._stalled = stalled
            ages = {shard: now - self._since[shard] for shard in started}
        for shard in sorted(started):
            log.warning("Table %s: shard %s has changes left to read and has not advanced for %.0f s (task %s): "
                        "see the task's log for why (throttling, errors, a full buffer)", self._labels.get("table"),
                        shard, ages[shard], self._labels.get("task"))
        for shard in sorted(ended & self._since.keys()):
            log.info("Table %s: shard %s advances again", self._labels.get("table"), shard)
        METRICS.set("ddbcdc_cdc_stalled_shards", len(stalled), **self._labels)
        return sorted(stalled)
