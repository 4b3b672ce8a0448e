"""How a table's snapshot and its change data capture are ordered: a snapshot strategy.

``BLOCKING`` (today's, and the Cloud connector's order): a table's change events start only once all its snapshot
records are in Kafka, from the snapshot's start less a margin; the stream must still hold that start when the scan
ends. A concurrent strategy (changes streamed while the scan runs) is the second implementation to come.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from python_connector.streams.dynamodb import STREAM_RETENTION_MS

RETENTION_WARNING_MS = 20 * 3600 * 1000  # warn this long into a BLOCKING snapshot


class SnapshotStrategy(Protocol):
    def stream_may_start(self, table: str) -> bool:
        """Whether the table's change events may be emitted now."""
        ...


class Blocking:
    """Change events of a table wait until every snapshot record of it is in Kafka."""

    def __init__(self, snapshot_in_kafka: Callable[[str], bool]):
        self._snapshot_in_kafka = snapshot_in_kafka

    def stream_may_start(self, table: str) -> bool:
        return self._snapshot_in_kafka(table)


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
