"""What a change source is to the reader: a stream of shards in lineage, each read page by page from a position.

DynamoDB Streams (:mod:`python_connector.streams.dynamodb`) is the one implementation today; Kinesis Data Streams
for DynamoDB, the next, has the same shape (shards with parents, iterators, pages of DynamoDB change records).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class StreamInfo:
    table: str
    arn: str
    view_type: str


@dataclass(frozen=True)
class Shard:
    id: str
    parent: str | None
    closed: bool  # has an EndingSequenceNumber: no record will be added to it


@dataclass(frozen=True)
class Page:
    records: list[dict[str, Any]]  # DynamoDB change records: eventName, dynamodb.{Keys, NewImage, OldImage, ...}
    next_iterator: str | None  # None: the shard is closed and read to its end


class IteratorExpired(Exception):
    """The iterator is older than the source keeps them: the caller asks for a fresh one after its position."""


class PositionTrimmed(Exception):
    """The records at the position are past the source's retention: the caller decides whether anything unread
    was lost (see the reader's ``_past_retention``)."""


class ShardGone(PositionTrimmed):
    """The shard is no longer listed: it closed longer ago than the retention, and all its records are trimmed."""


class Throttled(Exception):
    """The shard is read more often than the source allows: the caller backs off on this shard alone."""


class ChangeSource(Protocol):
    def shards(self, stream_arn: str, after: str | None = None) -> list[Shard]:
        """Every shard of the stream (listed after shard id ``after``, if given), parents before their children."""
        ...

    def iterator(self, stream_arn: str, shard: str, after: str | None, start: str) -> str:
        """An iterator after sequence number ``after``, or at ``start`` (TRIM_HORIZON, LATEST) without one."""
        ...

    def read(self, iterator: str, limit: int) -> Page:
        """The next page; raises IteratorExpired, PositionTrimmed (ShardGone) or Throttled."""
        ...


def lineage_order(shards: list[Shard]) -> list[Shard]:
    """Parents before children (a parent no longer listed, trimmed away, does not hold its child back)."""
    by_id = {s.id: s for s in shards}
    ordered: list[Shard] = []
    seen: set[str] = set()

    def visit(shard: Shard) -> None:
        if shard.id in seen:
            return
        seen.add(shard.id)
        if shard.parent in by_id:
            visit(by_id[shard.parent])
        ordered.append(shard)

    for shard in shards:
        visit(shard)
    return ordered
