"""The window rule of a CONCURRENT snapshot: when a scanned page may follow the table's change events, and which of
its items it must leave out. Pure: times are epoch milliseconds passed in.

DBLog's watermarks (arXiv 2010.12597) adapted to DynamoDB, where nothing can be written into a table's own stream:

* A page is read with ``ConsistentRead`` between ``sent_ms`` (Scan sent) and ``received_ms`` (answer arrived): it
  holds every write completed before ``sent_ms``, maybe some made until ``received_ms``, none made after.
* The stream's watermark W is a time before which every change of the table has been read and put in the buffer:
  the minimum of the last shard listing (a shard born later is unknown) and, over the table's unfinished shards,
  how far each was read (the creation time of its last record, or when the call that found its current end
  was sent).
* Release a page once W >= ``received_ms`` + margin: every change the page may reflect is then ahead of it.
* Leave out of it every key with a change created at or after ``sent_ms`` - rounding - margin. Creation times are
  rounded down (to the second on AWS, the minute on DynamoDB Local), so such a change may have been made after the
  page was read: its change events, already ahead of the page, carry that state and any later one. A key with only
  older changes was last written before the page was read, and its change events are all ahead of the page.

So for every key the topic holds its change events in order and, at most once per page, an ``r`` record whose
state is the latest of the changes before it; no ``r`` record overwrites a newer change.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

AWS_ROUNDING_MS = 1000  # ApproximateCreationDateTime: AWS rounds down to the second
LOCAL_ROUNDING_MS = 60_000  # DynamoDB Local: to the minute
DEFAULT_MARGIN_MS = 2000  # Streams' propagation delay plus clock skew


@dataclass(frozen=True)
class WindowParams:
    rounding_ms: int = AWS_ROUNDING_MS
    margin_ms: int = DEFAULT_MARGIN_MS


@dataclass(frozen=True)
class PageRead:
    sent_ms: int
    received_ms: int


@dataclass(frozen=True)
class StreamView:
    """What the stream reader has put in the buffer so far, as the window sees it."""

    listed_ms: int | None  # when the shards were last listed (None: never)
    parents: Mapping[str, str | None]  # the listed shards and their parents
    progress: Mapping[str, int] = field(default_factory=dict)  # per shard read: the time it was read up to
    finished: Collection[str] = ()  # shards read to their end (closed)


def watermark(view: StreamView) -> int | None:
    """The time before which every change of the table is in the buffer; None while a shard's progress is unknown.

    A shard no longer counts once finished, or once a descendant of it is being read (a child is read only after
    its parent finished, here or on another task, or before a restart)."""
    if view.listed_ms is None:
        return None
    done = set(view.finished)
    for shard in view.progress:
        parent = view.parents.get(shard)
        while parent is not None and parent not in done:
            done.add(parent)
            parent = view.parents.get(parent)
    times = [view.progress.get(s) for s in view.parents if s not in done]
    if any(t is None for t in times):
        return None
    return min([view.listed_ms, *(t for t in times if t is not None)])


def decide(page: PageRead, keys: Collection[bytes], watermark_ms: int | None, last_change_ms: Mapping[bytes, int],
           params: WindowParams) -> frozenset[bytes] | None:
    """The window rule: None while the page must be held, else the keys to leave out of it."""
    if watermark_ms is None or watermark_ms < page.received_ms + params.margin_ms:
        return None
    since = page.sent_ms - params.rounding_ms - params.margin_ms
    return frozenset(k for k in keys if last_change_ms.get(k, since - 1) >= since)
