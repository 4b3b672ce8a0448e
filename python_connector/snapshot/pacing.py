"""Read-capacity pacing of a snapshot: ``dynamodb.snapshot.max.rcu.percentage`` of the table's capacity.

The budget of a table in read capacity units per second is the percentage of
- its provisioned ``ReadCapacityUnits`` (PROVISIONED billing), or
- its on-demand ceiling (PAY_PER_REQUEST billing): ``OnDemandThroughput.MaxReadRequestUnits`` when the
  table sets one, else the account's per-table limit from DescribeLimits (40,000 by default). Read
  request units and capacity units count alike here (4 KB strongly consistent, 8 KB eventually).

Each task gets the share of a table's budget that its segments are of the table's segments, so the
tasks reading one table together stay within it. Within a task the segment threads draw on one
bucket, charged after each page with the ``ConsumedCapacity`` DynamoDB reports.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

# A page should cost at most this much of a second's budget, so pacing is smooth and a page's
# rounding (0.5 unit) stays small against it.
PAGE_SECONDS = 0.25


def task_budget(capacity: float, percentage: int, task_segments: int, total_segments: int) -> float:
    """This task's read units per second for a table: its segments' share of the percentage."""
    return capacity * percentage / 100.0 * task_segments / total_segments


class ReadBudget:
    """A token bucket in read units per second, charged after the fact; shared by a task's segment threads.

    A request may start while the balance is not negative; its cost is then charged, so the balance can
    go into debt by one page and is repaid before the next request starts. The bucket holds at most one
    second of budget, so an idle spell does not allow a burst.
    """

    def __init__(self, units_per_s: float, clock: Callable[[], float] = time.monotonic,
                 pause: Callable[[threading.Condition, float], Any] = threading.Condition.wait):
        self.units_per_s = units_per_s
        self._clock = clock
        self._pause = pause
        self._balance = 0.0
        self._updated = clock()
        self._cond = threading.Condition()

    def _refill(self) -> None:
        now = self._clock()
        self._balance = min(self.units_per_s, self._balance + (now - self._updated) * self.units_per_s)
        self._updated = now

    def wait(self, stopped: threading.Event) -> None:
        """Blocks until a request may start (or the task stops)."""
        with self._cond:
            while not stopped.is_set():
                self._refill()
                if self._balance >= 0:
                    return
                self._pause(self._cond, min(1.0, -self._balance / self.units_per_s))

    @property
    def balance(self) -> float:
        with self._cond:
            self._refill()
            return self._balance

    def charge(self, units: float) -> None:
        with self._cond:
            self._refill()
            self._balance -= units

    def page_limit(self, units_per_item: float, max_items: int) -> int:
        """Items per Scan page so a page costs about PAGE_SECONDS of budget, within [1, max_items]."""
        return max(1, min(max_items, int(self.units_per_s * PAGE_SECONDS / max(units_per_item, 1e-9))))
