"""The CONCURRENT snapshot strategy: a table's stream is read from the snapshot's start while its segments are
scanned, and each scanned page is held until the window rule (:mod:`.window`) lets it follow the change events.

One :class:`TableWindow` per table, on the task that holds the table's segments and its stream (the planning keeps
them together while the table is in a snapshot). It sits on both sides:

* the scanners hand it their pages (:meth:`TableWindow.page`, a ``PageSink``); a scanner waits while the table
  holds ``max_held`` pages, so memory stays bounded (back-pressure, not growth);
* the table's stream reader reads through :meth:`TableWindow.watch`, a ``ChangeSource`` wrapper that sees every
  listing and page. The reader is one thread that puts a page's change events in the buffer before its next call,
  so at each call the window knows what is in the buffer: it then releases the pages the rule allows, in the
  reader's thread, behind every change event they were checked against.

A released page keeps its TypeB offset (its records' resume keys); a page whose items were all left out still
stores its resume key, with an offset-only record. A held page is never in Kafka, so after a restart its segment
is scanned again from the last released page.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from python_connector.records import offsets
from python_connector.records.buffer import Group, RecordBuffer
from python_connector.records.document_builder import DocumentBuilder
from python_connector.records.envelope import SnapshotSource, created_ms, offset_header
from python_connector.records.tables import TableInfo
from python_connector.snapshot import window
from python_connector.snapshot.scan import ScannedPage, page_records
from python_connector.snapshot.strategy import Unordered
from python_connector.streams.source import ChangeSource, Page, Shard

log = logging.getLogger(__name__)

MAX_HELD_PAGES = 16  # per table: scanners wait beyond this
PRUNE_EVERY_S = 5.0  # how often change times too old to matter are forgotten
# Empty pages in a row that show a shard read to its current end: Streams may answer one empty page in a sparse
# stretch of older records, so a single one is trusted only right after a record this recent.
EMPTY_PAGES_AT_END = 2
LIVE_MS = 5 * 60 * 1000
# A page short of both GetRecords limits (the record count asked for, 1 MB) right after a live record is the
# shard's current end too: a shard that changes all the time never answers an empty page, and its records'
# creation times alone (rounded down, to the minute on DynamoDB Local) would hold pages for up to a minute.
# The byte bound leaves room for the largest record (old and new images of a 400 KB item).
PAGE_MAX_BYTES = 1024 * 1024
RECORD_MAX_BYTES = 2 * 400 * 1024


class Concurrent(Unordered):
    """Change events flow from the start; the table's window orders the snapshot pages behind them."""


def params_for(endpoint: str | None) -> window.WindowParams:
    """DynamoDB Local (any endpoint not AWS's) rounds creation times to the minute, AWS to the second."""
    local = bool(endpoint) and ".amazonaws.com" not in str(endpoint)
    return window.WindowParams(window.LOCAL_ROUNDING_MS if local else window.AWS_ROUNDING_MS)


@dataclass
class _Held:
    source: SnapshotSource
    page: ScannedPage
    read: window.PageRead
    keys: list[bytes]


@dataclass
class _Stream:
    """The stream as far as the buffer holds it (fed by the reader's calls)."""

    listed_ms: int | None = None
    parents: dict[str, str | None] = field(default_factory=dict)
    progress: dict[str, int] = field(default_factory=dict)
    finished: set[str] = field(default_factory=set)
    pending: tuple[str, int | None, bool] | None = None  # the last page read: shard, read up to, finished
    empties: dict[str, int] = field(default_factory=dict)  # per shard: empty pages in a row
    latest: dict[str, int] = field(default_factory=dict)  # per shard: the creation time of its latest record read

    def view(self) -> window.StreamView:
        return window.StreamView(self.listed_ms, self.parents, self.progress, self.finished)

    def commit_pending(self) -> None:
        """The reader made another call: the page it read last is in the buffer."""
        if self.pending is None:
            return
        shard, upto, finished = self.pending
        self.pending = None
        if upto is not None:
            self.progress[shard] = max(upto, self.progress.get(shard, upto))
        if finished:
            self.finished.add(shard)


class TableWindow:
    def __init__(self, table: TableInfo, buffer: RecordBuffer, params: window.WindowParams, floor_ms: int,
                 heartbeat_topic: str, stopped: threading.Event, clock_ns: Callable[[], int] = time.time_ns,
                 max_held: int = MAX_HELD_PAGES):
        """``floor_ms``: the stream's start; the reader emits no change created before it."""
        self.table = table
        self.params = params
        self._buffer = buffer
        self._floor_ms = floor_ms
        self._heartbeat_topic = heartbeat_topic
        self._stopped = stopped
        self._clock_ns = clock_ns
        self._max_held = max_held
        self._held: deque[_Held] = deque()
        self._changes: dict[bytes, int] = {}  # key -> creation time of its latest change read
        self._stream = _Stream()
        self._cond = threading.Condition()
        self._pruned_at = 0.0
        self._discarded = 0  # snapshots up to this count were stopped
        self.consistent_read = True
        self.documents: DocumentBuilder | None = None  # typed documents (document.content.format=schema)
        self.released_pages = 0
        self.dropped_items = 0

    # The scanners' side (PageSink).
    def page(self, source: SnapshotSource, page: ScannedPage) -> int | None:
        held = _Held(source, page, window.PageRead(page.sent_ns // 10**6, page.received_ns // 10**6),
                     [self._key(item) for item in page.items])
        with self._cond:
            while len(self._held) >= self._max_held and not self._stopped.is_set() and not self._dropped(source):
                self._cond.wait(0.2)
            if self._stopped.is_set() or self._dropped(source):
                return None
            self._held.append(held)
            return len(page.items)

    def discard(self, count: int) -> None:
        """A stopped snapshot: its held pages, and any page of it still to come, never reach Kafka."""
        with self._cond:
            self._discarded = max(self._discarded, count)
            self._held = deque(h for h in self._held if not self._dropped(h.source))
            self._cond.notify_all()

    def _dropped(self, source: SnapshotSource) -> bool:
        return source.count <= self._discarded

    def held_pages(self) -> int:
        with self._cond:
            return len(self._held)

    def watermark_ms(self) -> int | None:
        with self._cond:
            return window.watermark(self._stream.view())

    def now_ms(self) -> int:
        return self._clock_ns() // 10**6

    # The stream reader's side.
    def watch(self, source: ChangeSource) -> ChangeSource:
        return _WatchedSource(source, self)

    def _key(self, key: Mapping[str, Any]) -> bytes:
        return orjson.dumps({name: key[name] for name, _ in self.table.key})

    def before_call(self) -> None:
        """The reader is about to call the stream again: what it read before is in the buffer."""
        with self._cond:
            self._stream.commit_pending()
        self.release()

    def listed(self, shards: list[Shard], sent_ms: int, complete: bool = True) -> None:
        """A listing sent at ``sent_ms``: every shard created before then is known. An incremental one (the shards
        after the newest known, see streams.listing) adds to the shards known; a complete one replaces them."""
        with self._cond:
            self._stream.listed_ms = sent_ms
            listed = {s.id: s.parent for s in shards}
            self._stream.parents = listed if complete else {**self._stream.parents, **listed}

    def read(self, shard: str, page: Page, limit: int, sent_ms: int, received_ms: int) -> None:
        """A page the reader is about to put (asked for ``limit`` records at ``sent_ms``): its keys count at once
        (leaving a key out early is safe), its progress once the reader calls again. A shard read to its current
        end is read up to when the call was sent: a write completed later may be missing from the answer."""
        upto: int | None = None
        with self._cond:
            for record in page.records:
                created = created_ms(record)
                upto = created if upto is None else max(upto, created)
                if created >= self._floor_ms:
                    key = self._key(record["dynamodb"]["Keys"])
                    self._changes[key] = max(created, self._changes.get(key, created))
            empties, latest = self._stream.empties, self._stream.latest
            empties[shard] = empties.get(shard, 0) + 1 if not page.records else 0
            if upto is not None:
                latest[shard] = max(upto, latest.get(shard, upto))
            live = latest.get(shard, 0) >= received_ms - LIVE_MS  # past any sparse stretch of older records
            at_end = empties[shard] >= EMPTY_PAGES_AT_END or (live and _short(page, limit))
            if page.next_iterator is not None and at_end:
                upto = sent_ms  # read to its current end
            self._stream.pending = (shard, upto, page.next_iterator is None)

    def release(self) -> None:
        """Puts every held page the window rule lets go, in order, with its left-out keys removed."""
        while True:
            with self._cond:
                ready = self._next_ready()
                if ready is None:
                    self._prune()
                    return
                held, dropped = ready
            if not self._put(held, dropped):
                return

    def _next_ready(self) -> tuple[_Held, frozenset[bytes]] | None:
        """The first held page the rule releases; pages of one segment are released in scan order."""
        mark = window.watermark(self._stream.view())
        blocked: set[int] = set()
        for i, held in enumerate(self._held):
            segment = held.source.segment
            if segment in blocked:
                continue
            dropped = window.decide(held.read, held.keys, mark, self._changes, self.params)
            if dropped is None:
                blocked.add(segment)
                continue
            del self._held[i]
            self._cond.notify_all()
            return held, dropped
        return None

    def _put(self, held: _Held, dropped: frozenset[bytes]) -> bool:
        items = [item for item, key in zip(held.page.items, held.keys, strict=True) if key not in dropped]
        now = self._clock_ns()
        last = offsets.SEGMENT_DONE if held.page.last else None
        if items:
            header, records = page_records(held.source, items, now, self.documents)
            group = Group(header, records, last)
        else:  # all left out: the page's resume key is stored all the same
            header = held.source.header(now)
            offset = {**header["offset"], offsets.POSITION_FIELD: held.keys[-1].decode(), **(last or {})}
            group = Group(offset_header(self._heartbeat_topic, self.table.name, header["partition"], offset, now), [])
        self.released_pages += 1
        self.dropped_items += len(dropped)
        if dropped:
            log.debug("Table %s segment %d: %d of %d items left out of a page (changed in its window)",
                      self.table.name, held.source.segment, len(dropped), len(held.keys))
        return self._buffer.put(group)

    def _prune(self) -> None:
        """Forgets change times older than any held or future page's window."""
        now = time.monotonic()
        if now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        oldest = min([self._clock_ns() // 10**6, *(h.read.sent_ms for h in self._held)])
        horizon = oldest - self.params.rounding_ms - self.params.margin_ms
        self._changes = {k: t for k, t in self._changes.items() if t >= horizon}


def _short(page: Page, limit: int) -> bool:
    """The page ended short of both GetRecords limits: nothing more was readable when it was read."""
    if len(page.records) >= limit:
        return False
    size = sum(int(r["dynamodb"].get("SizeBytes", 0)) for r in page.records)
    return size + RECORD_MAX_BYTES <= PAGE_MAX_BYTES


class _WatchedSource:
    """The ChangeSource the table's reader reads through: every call first lets the window catch up."""

    def __init__(self, inner: ChangeSource, table_window: TableWindow):
        self._inner = inner
        self._window = table_window
        self._shard_of: dict[str, str] = {}  # iterator -> shard

    def shards(self, stream_arn: str, after: str | None = None) -> list[Shard]:
        self._window.before_call()
        sent_ms = self._window_now_ms()
        shards = self._inner.shards(stream_arn, after)
        self._window.listed(shards, sent_ms, complete=after is None)
        return shards

    def iterator(self, stream_arn: str, shard: str, after: str | None, start: str) -> str:
        self._window.before_call()
        it = self._inner.iterator(stream_arn, shard, after, start)
        self._shard_of[it] = shard
        return it

    def read(self, iterator: str, limit: int) -> Page:
        self._window.before_call()
        shard = self._shard_of.pop(iterator, None)
        sent_ms = self._window_now_ms()
        page = self._inner.read(iterator, limit)
        if shard is not None:
            self._window.read(shard, page, limit, sent_ms, self._window_now_ms())
            if page.next_iterator is not None:
                self._shard_of[page.next_iterator] = shard
        return page

    def _window_now_ms(self) -> int:
        return self._window.now_ms()
