"""The bounded hand-off between the readers (scan threads) and Connect's poll.

Capacity counts records buffered plus records handed to Connect and not yet acknowledged, so a
slow Kafka slows the readers down and memory stays bounded whatever the table size.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

# With nothing buffered, how long a poll waits for the first group even when poll.linger.ms is shorter.
EMPTY_WAIT_S = 0.1


@dataclass
class Group:
    """Records sharing one wire header; ``last_offset`` is merged into the offset of the final one, and
    ``committed`` is what becomes true once Connect has committed it (a group may carry no records)."""

    header: dict[str, Any]
    records: list[bytes]
    last_offset: Mapping[str, Any] | None = None
    committed: Any = None

    def wire_header(self) -> dict[str, Any]:
        """The header as the wire carries it: ``lastOffset`` is what the decoder merges into the final record's
        offset (a segment's or a shard's completion)."""
        return self.header if self.last_offset is None else {**self.header, "lastOffset": dict(self.last_offset)}


class RecordBuffer:
    def __init__(self, capacity: int, clock: Callable[[], float] = time.monotonic):
        self._capacity = capacity
        self._clock = clock
        self._groups: deque[Group] = deque()
        self._buffered = 0
        self._in_flight = 0
        self._closed = False
        self._error: BaseException | None = None
        self._cond = threading.Condition()

    def put(self, group: Group) -> bool:
        """Adds a group, waiting while the buffer is full; False once the buffer is closed."""
        with self._cond:
            while not self._closed and self._buffered + self._in_flight >= self._capacity:
                self._cond.wait()
            if self._closed:
                return False
            self._groups.append(group)
            self._buffered += len(group.records)
            self._cond.notify_all()
            return True

    def take(self, max_records: int, linger_s: float) -> list[Group]:
        """Up to ``max_records`` records, waiting at most ``linger_s`` for that many; raises a reader's error.
        With nothing at all buffered it waits up to EMPTY_WAIT_S for the first group even when the linger is
        shorter: returning empty at once would have Connect poll again at once, spinning a core while idle."""
        now = self._clock()
        deadline, empty_deadline = now + linger_s, now + max(linger_s, EMPTY_WAIT_S)
        with self._cond:
            while self._error is None and not self._closed and self._buffered < max_records:
                remaining = (deadline if self._groups else empty_deadline) - self._clock()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            if self._error is not None:
                raise self._error
            out: list[Group] = []
            wanted = max_records
            while wanted > 0 and self._groups:
                group = self._groups[0]
                if len(group.records) <= wanted:
                    self._groups.popleft()
                    out.append(group)
                    wanted -= len(group.records)
                else:
                    out.append(Group(group.header, group.records[:wanted]))
                    group.records = group.records[wanted:]
                    wanted = 0
            taken = max_records - wanted
            self._buffered -= taken
            self._in_flight += taken
            return out

    def release(self, records: int) -> None:
        """Connect acknowledged this many records."""
        with self._cond:
            self._in_flight -= records
            self._cond.notify_all()

    def fail(self, error: BaseException) -> None:
        """A reader failed: the next take raises it."""
        with self._cond:
            if self._error is None:
                self._error = error
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
