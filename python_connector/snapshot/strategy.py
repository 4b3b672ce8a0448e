"""How a table's snapshot and its change data capture are ordered: a snapshot strategy.

``BLOCKING`` (today's, and the Cloud connector's order): a table's change events start only once all its snapshot
records are in Kafka, from the snapshot's start less a margin; the stream must still hold that start when the scan
ends, else the table fails. ``CONCURRENT`` (:mod:`.concurrent`) streams the changes while the scan runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

from python_connector.streams.dynamodb import STREAM_RETENTION_MS

RETENTION_WARNING_MS = 20 * 3600 * 1000  # warn this long into a BLOCKING snapshot
# Records this close to 24 h old may be trimmed by the time every shard is read back to them.
TRIM_SAFETY_MS = 10 * 60 * 1000


class StreamStartTrimmed(Exception):
    """A BLOCKING snapshot outlived the stream's retention: the changes since it began are no longer all there."""


class SnapshotStrategy(Protocol):
    def stream_may_start(self, table: str) -> bool:
        """Whether the table's change events may be emitted now."""
        ...


class Blocking:
    """Change events of a table wait until every snapshot record of it is in Kafka; then the stream must still hold
    every change since the snapshot began (``stream_starts``: where a new generation starts, per table)."""

    def __init__(self, snapshot_in_kafka: Callable[[str], bool], stream_starts: Mapping[str, int] | None = None,
                 now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000):
        self._snapshot_in_kafka = snapshot_in_kafka
        self._stream_starts = dict(stream_starts or {})
        self._now_ms = now_ms

    def stream_may_start(self, table: str) -> bool:
        if not self._snapshot_in_kafka(table):
            return False
        start = self._stream_starts.get(table)
        if start is not None and self._now_ms() - start >= STREAM_RETENTION_MS - TRIM_SAFETY_MS:
            raise StreamStartTrimmed(
                f"The BLOCKING snapshot of {table} took {(self._now_ms() - start) / 3_600_000:.1f} h: change data "
                "capture would start from the snapshot's start, which DynamoDB Streams (24 h retention) no longer "
                "holds, so changes made during the snapshot are lost. Not starting with a gap: capture this table "
                "with dynamodb.snapshot.strategy=CONCURRENT (its changes are streamed while it is scanned) after "
                "resetting the connector's offsets.")
        return True


class Unordered:
    """No snapshot to wait for (CDC only, or the table's snapshot already complete)."""

    def stream_may_start(self, table: str) -> bool:
        return True


def retention_warning(table: str, snapshot_start_ms: int, now_ms: int) -> str | None:
    """With SNAPSHOT_CDC the stream must still hold the changes since the snapshot began when it ends."""
    age = now_ms - snapshot_start_ms
    if age < RETENTION_WARNING_MS:
        return None
    left_h = (STREAM_RETENTION_MS - age) / 3_600_000
    return (f"The snapshot of {table} began {age / 3_600_000:.1f} h ago: DynamoDB Streams keeps changes for 24 h, "
            f"so unless it completes within {max(left_h, 0):.1f} h the changes made since it began can no longer be "
            "read and change data capture will fail. Raise dynamodb.snapshot.max.rcu.percentage or tasks.max.")


BLOCKING_LIMIT_S = 20 * 3600  # a BLOCKING snapshot predicted longer than this is warned about at start


def duration_warning(table: str, items: int, units_per_item: float, units_per_s: float) -> str | None:
    """A BLOCKING snapshot predicted (DescribeTable's size, the read budget) to outlast what the stream keeps."""
    if units_per_s <= 0:
        return None
    seconds = items * units_per_item / units_per_s
    if seconds <= BLOCKING_LIMIT_S:
        return None
    return (f"The BLOCKING snapshot of {table} is predicted to take {seconds / 3600:.1f} h ({items:,} items at "
            f"{units_per_s:.0f} read units/s): DynamoDB Streams keeps changes for 24 h, and a BLOCKING snapshot "
            "reads them only once its scan ends. Use dynamodb.snapshot.strategy=CONCURRENT (changes streamed "
            "while the table is scanned), or raise dynamodb.snapshot.max.rcu.percentage or tasks.max.")
