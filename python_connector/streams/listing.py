"""A stream's shards as last listed, at a cost that does not grow with the shards the stream retains.

A busy table's stream lists a thousand shards and more (24 hours of rotations, splits), and DescribeStream pages
100 at a time: listing them all at every refresh costs ten calls and more, and a refresh is wanted every time a
shard ends (its children are to be read next). Shard ids sort in creation order (``shardId-<creation ms>-<hex>``),
so a new shard lists after every older one: between full listings a refresh asks only for the shards after one
created a margin before the newest known (children created in the same millisecond need not sort after it). A
full listing now and then learns which shards were trimmed away, and is the fallback for ids of another form.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

from python_connector.streams.source import ChangeSource, Shard, lineage_order

FULL_LISTING_S = 60.0  # how often the whole stream is listed (to learn of shards trimmed away)
CREATION_MARGIN_MS = 10_000  # an incremental listing starts at a shard this much older than the newest known
_CREATED_MS = re.compile(r"shardId-(\d+)-")


@dataclass(frozen=True)
class Listing:
    shards: list[Shard]  # every shard known listed, parents before children
    complete: bool  # from a full listing: a shard not in it is no longer listed


def created_ms(shard_id: str) -> int | None:
    match = _CREATED_MS.match(shard_id)
    return int(match.group(1)) if match else None


class ShardListing:
    def __init__(self, source: ChangeSource, stream_arn: str, clock: Callable[[], float] = time.monotonic):
        self._source = source
        self._arn = stream_arn
        self._clock = clock
        self._known: dict[str, Shard] = {}
        self._full_at = -FULL_LISTING_S

    def refresh(self) -> Listing:
        start = self._incremental_start()
        if start is None:
            listed = self._source.shards(self._arn)
            self._known = {s.id: s for s in listed}
            self._full_at = self._clock()
            return Listing(listed, True)
        for shard in self._source.shards(self._arn, after=start):
            self._known[shard.id] = shard
        return Listing(lineage_order(list(self._known.values())), False)

    def forget(self, shard_id: str) -> None:
        """The shard is no longer listed (its iterator said so)."""
        self._known.pop(shard_id, None)

    def _incremental_start(self) -> str | None:
        """The shard id to list after, or None for a full listing."""
        if not self._known or self._clock() - self._full_at >= FULL_LISTING_S:
            return None
        created = {shard: created_ms(shard) for shard in self._known}
        if None in created.values():
            return None
        newest = max(ms for ms in created.values() if ms is not None)
        older = [s for s, ms in created.items() if ms is not None and ms <= newest - CREATION_MARGIN_MS]
        return max(older) if older else None
