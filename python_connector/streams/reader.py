"""Change data capture of one table: the stream shards this task holds the lease of, read in lineage order.

Each shard is a small state machine::

    BLOCKED_ON_PARENT --(parent finished, or no longer listed)--> READING --(no next iterator)--> FINISHED

A shard's position is the sequence number of the last change emitted; it is checkpointed in the lease
table and stored by Connect with that record, never as an iterator (iterators expire after 15 minutes).
The configured initial position (TRIM_HORIZON, LATEST, AT_TIMESTAMP) goes into the leases of the shards
listed when the table's CDC first starts; a shard found later is a child that appeared since, read from
its beginning so no change is skipped. A parent is finished when this task read it to its end or its
lease says SHARD_END (another task may have read it): only then are its children read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from python_connector.aws.client import RetryPolicy
from python_connector.metrics.registry import METRICS
from python_connector.records import offsets
from python_connector.records.buffer import Group, RecordBuffer
from python_connector.records.document_builder import DocumentBuilder
from python_connector.records.envelope import StreamSource, change_records, created_ms, offset_header
from python_connector.records.tables import TableInfo
from python_connector.streams import positions
from python_connector.streams.dynamodb import STREAM_RETENTION_MS
from python_connector.streams.leases import Committed, Lease, LeaseKeeper, LeaseTable
from python_connector.streams.listing import ShardListing
from python_connector.streams.positions import SHARD_END, InitialPosition
from python_connector.streams.source import (
    ChangeSource,
    IteratorExpired,
    Page,
    PositionTrimmed,
    Shard,
    StreamInfo,
    Throttled,
)
from python_connector.streams.stalls import STALL_AFTER_S, StallWatch

log = logging.getLogger(__name__)

SHARD_REFRESH_S = 10.0  # how often new shards are looked for
ENDED_REFRESH_S = 1.0  # and, once a shard read here ended (its children are next), at most this often
THROTTLE_BACKOFF = RetryPolicy(base_s=0.1, cap_s=5.0)  # per shard: the others are read meanwhile
IDLE_MIN_S, IDLE_MAX_S = 0.05, 0.5  # back-off between rounds that found no change: low latency, few calls
GET_RECORDS_MAX = 1000  # the service's cap on GetRecords Limit
RETENTION_SAFETY_MS = 3600 * 1000  # a heartbeat this close to 24 h old no longer vouches for the trim horizon


class StreamDataLost(Exception):
    """Changes needed to continue are past the stream's 24-hour retention."""


class StreamReplaced(Exception):
    """The table's stream was disabled and enabled again: a new stream, and a gap no stream holds."""

    def __init__(self, table: str, old_arn: str, new_arn: str):
        super().__init__(
            f"The stream of table '{table}' was replaced ({old_arn} -> {new_arn}): it was disabled and enabled "
            "again, and changes made in between are in neither stream. To capture the table again, reset the "
            "connector's offsets (PUT /connectors/{name}/stop, DELETE /connectors/{name}/offsets) with "
            "dynamodb.table.sync.mode=SNAPSHOT_CDC, which takes a new snapshot.")


class CdcError(Exception):
    def __init__(self, table: str, cause: BaseException):
        self.table = table
        super().__init__(f"Change data capture of table '{table}' failed: {cause}")


@dataclass
class ShardCursor:
    shard: str
    parent: str | None
    position: str | None  # sequence number of the last change emitted (or stored)
    start: str  # iterator type when there is no position: TRIM_HORIZON or LATEST
    not_before_ms: int | None = None  # AT_TIMESTAMP: changes older than this are not emitted
    iterator: str | None = None
    finished: bool = False
    caught_up_ms: int | None = None  # last read to its end with nothing after `position` (a heartbeat's time)
    heartbeat_at: float = 0.0  # when the position was last stored (a record or a heartbeat), monotonic
    skip_through: str | None = None  # re-read from the trim horizon: changes up to this one were emitted
    retry_at: float = 0.0  # throttled: not read again before this (monotonic)
    throttles: int = 0  # throttled reads in a row

    @classmethod
    def resuming(cls, lease: Lease, stored: offsets.ShardProgress | None) -> ShardCursor:
        """Where reading resumes: after the further of the lease checkpoint and Connect's stored position."""
        point = positions.further(lease.checkpoint, None if stored is None else
                               SHARD_END if stored.ended else stored.sequence_number)
        if point == SHARD_END:
            return cls(lease.shard, lease.parent, None, positions.TRIM_HORIZON, finished=True)
        if positions.is_sequence(point):
            caught_up = stored.caught_up_ms if stored is not None and stored.sequence_number == point else None
            return cls(lease.shard, lease.parent, point, positions.TRIM_HORIZON, caught_up_ms=caught_up)
        if point.startswith(positions.AT_TIMESTAMP):
            return cls(lease.shard, lease.parent, None, positions.TRIM_HORIZON,
                       not_before_ms=int(point.removeprefix(positions.AT_TIMESTAMP)))
        return cls(lease.shard, lease.parent, None, point)


@dataclass(frozen=True)
class StreamStart:
    """Where a table's stream is read from: the stream, the initial position of a new generation, and the shard
    positions Connect stored."""

    stream: StreamInfo
    initial: InitialPosition
    stored: Mapping[str, offsets.ShardProgress]


@dataclass(frozen=True)
class ReaderSettings:
    limit: int  # GetRecords Limit (dynamodb.cdc.max.poll.records)
    heartbeat_topic: str = "__dynamodb-cdc-heartbeat"
    heartbeat_s: float = 300.0
    connector_name: str = ""
    clock: Clock = field(default_factory=lambda: Clock())
    task_id: str = ""
    stall_after_s: float = STALL_AFTER_S
    documents: DocumentBuilder | None = None  # typed documents (document.content.format=schema), else None


class ReaderHooks(Protocol):
    """What the reader asks of the task that runs it."""

    stopped: threading.Event

    def may_start(self) -> bool:
        """Whether the table's change events may flow yet (the snapshot strategy decides)."""
        ...

    def current_stream_arn(self) -> str | None:
        """The table's stream now (None: not checked); when it is no longer the one read, the table stops."""
        ...

    def announcement(self) -> list[Group]:
        """The groups put first once reading starts (a new generation's TypeA and TypeC offsets)."""
        ...


@dataclass
class Clock:
    monotonic: Callable[[], float] = time.monotonic
    ns: Callable[[], int] = time.time_ns


class TableStreamReader:
    def __init__(self, source: ChangeSource, table: TableInfo, start: StreamStart, buffer: RecordBuffer,
                 keeper: LeaseKeeper, lease_table: LeaseTable, hooks: ReaderHooks, settings: ReaderSettings):
        self._changes = source
        self._table = table
        self._stream = start.stream
        self._initial = start.initial
        self._stored = start.stored
        self._buffer = buffer
        self._limit = min(settings.limit, GET_RECORDS_MAX)
        self._stopped = hooks.stopped
        self._keeper = keeper
        self._lease_table = lease_table
        self._hooks = hooks
        self._clock = settings.clock.monotonic
        self._clock_ns = settings.clock.ns
        self._heartbeat_topic = settings.heartbeat_topic
        self._heartbeat_s = settings.heartbeat_s
        self._labels = {"connector": settings.connector_name, "table": table.name}
        self._task_labels = {**self._labels, "task": settings.task_id}
        self._cursors: dict[str, ShardCursor] = {}
        self._documents = settings.documents
        self._listing = ShardListing(source, start.stream.arn, self._clock)
        self._shard_ended = False  # a shard read here ended since the last listing: its children are next
        self._stalls = StallWatch(self._task_labels, settings.stall_after_s, self._clock)

    def run(self) -> None:
        """Reads until the task stops; raises CdcError for anything that stops this table."""
        try:
            if not self._hooks.may_start():
                log.info("Table %s: change data capture waits for its snapshot to be in Kafka", self._table.name)
                while not self._hooks.may_start():
                    if self._stopped.wait(0.2):
                        return
            self._keeper.add_table(self._table.name, self._lease_table)
            self._keeper.check_every_cycle(self._stalls.check)
            METRICS.set("ddbcdc_table_phase", 0, phase="snapshot", **self._labels)
            METRICS.set("ddbcdc_table_phase", 1, phase="cdc", **self._labels)
            if not all(self._buffer.put(g) for g in self._hooks.announcement()):
                return
            listed_at = -SHARD_REFRESH_S
            idle = IDLE_MIN_S
            while not self._stopped.is_set():
                since = self._clock() - listed_at
                if since >= SHARD_REFRESH_S or (self._shard_ended and since >= ENDED_REFRESH_S):
                    self._refresh_shards()
                    listed_at = self._clock()
                self._follow_leases()
                emitted = self._round()
                if emitted:
                    idle = IDLE_MIN_S
                else:
                    self._stopped.wait(idle)
                    idle = min(IDLE_MAX_S, idle * 2)
        except Exception as e:
            raise CdcError(self._table.name, e) from e

    def _refresh_shards(self) -> None:
        """Checks the stream is still the table's, and gives every listed shard a lease."""
        for stored in self._stored.values():
            if stored.stream_arn and stored.stream_arn != self._stream.arn:
                raise StreamReplaced(self._table.name, stored.stream_arn, self._stream.arn)
        now = self._hooks.current_stream_arn()
        if now is not None and now != self._stream.arn:
            raise StreamReplaced(self._table.name, self._stream.arn, now)
        started = self._clock()
        self._shard_ended = False
        listing = self._listing.refresh()
        listed = listing.shards
        METRICS.set("ddbcdc_cdc_discovery_ms", round((self._clock() - started) * 1000), **self._task_labels)
        METRICS.set("ddbcdc_cdc_shards_listed", len(listed), **self._task_labels)
        known = self._keeper.view(self._table.name)
        for lease in known.values():
            if lease.stream_arn != self._stream.arn:
                raise StreamReplaced(self._table.name, lease.stream_arn, self._stream.arn)
        first_start = not known and not self._stored
        new = [s for s in listed if s.id not in known]
        for shard in new:
            if self._stopped.is_set():
                return
            self._lease_table.create(shard, self._first_checkpoint(shard, first_start), self._stream.arn)
        listed_ids = {s.id for s in listed}
        for lease in known.values() if listing.complete else ():
            if lease.checkpoint == SHARD_END and lease.shard not in listed_ids:
                self._lease_table.delete(lease)  # trimmed away: nothing left to read or to wait for
        if new:
            self._keeper.wake()

    def _first_checkpoint(self, shard: Shard, first_start: bool) -> str:
        """A new lease's checkpoint: Connect's stored position if any (the lease table is new), the configured
        initial position at the table's first start, else the shard's beginning (a child found since)."""
        stored = self._stored.get(shard.id)
        if stored is not None:
            return SHARD_END if stored.ended else stored.sequence_number
        if not first_start:
            return positions.TRIM_HORIZON
        if self._initial.kind == "LATEST":
            return SHARD_END if shard.closed else positions.LATEST  # a closed shard holds only older changes
        if self._initial.kind == "AT_TIMESTAMP":
            return f"{positions.AT_TIMESTAMP}{self._initial.at_ms}"
        return positions.TRIM_HORIZON

    def _follow_leases(self) -> None:
        """Reads the shards this task holds the lease of: a lease just taken resumes from its checkpoint."""
        held = self._keeper.held(self._table.name)
        for shard in [s for s in self._cursors if s not in held]:
            del self._cursors[shard]
            self._keeper.stopped_reading(self._table.name, shard)
            METRICS.forget(shard=shard, **self._labels)
        for shard, lease in held.items():
            if shard not in self._cursors:
                self._cursors[shard] = ShardCursor.resuming(lease, self._stored.get(shard))
        METRICS.set("ddbcdc_cdc_shards_tracked", sum(not c.finished for c in self._cursors.values()),
                    **self._task_labels)

    def _round(self) -> int:
        """One read of each ready shard, and of the children of a shard read to its end here (a lineage behind the
        stream catches up a generation a read, not a round); returns the changes emitted. A shard handed over
        meanwhile is let go at once, not after the round (a round over hundreds of shards can take long)."""
        ready = deque(self._ready())
        self._stalls.expect(c.shard for c in ready)
        now, emitted = self._clock(), 0
        while ready:
            cursor = ready.popleft()
            if not self._keeper.reading(self._table.name, cursor.shard):
                self._follow_leases()
            elif cursor.retry_at <= now:
                emitted += self._read(cursor)
                if cursor.finished:
                    ready.extend(c for c in self._cursors.values() if c.parent == cursor.shard and not c.finished)
        return emitted

    def _ready(self) -> list[ShardCursor]:
        """Unfinished shards whose parent finished, here or on any task (or is no longer listed)."""
        return [c for c in self._cursors.values() if not c.finished and self._parent_finished(c)]

    def _parent_finished(self, cursor: ShardCursor) -> bool:
        if cursor.parent is None:
            return True
        parent = self._cursors.get(cursor.parent)
        return parent.finished if parent is not None else self._keeper.finished(self._table.name, cursor.parent)

    def _fetch(self, cursor: ShardCursor) -> Page | None:
        """One GetRecords on the shard; None when there is no page this time."""
        try:
            if cursor.iterator is None:
                cursor.iterator = self._iterator(cursor)
            page = self._changes.read(cursor.iterator, self._limit)
        except IteratorExpired:
            cursor.iterator = None  # the next round asks for a fresh one after the position
            return None
        except PositionTrimmed as e:
            self._past_retention(cursor, e)
            return None
        except Throttled:
            cursor.retry_at = self._clock() + THROTTLE_BACKOFF.delay(cursor.throttles)
            cursor.throttles += 1
            METRICS.add("ddbcdc_cdc_throttled_total", 1, **self._labels)
            return None
        cursor.throttles = 0
        return page

    def _read(self, cursor: ShardCursor) -> int:
        """One GetRecords on the shard; returns the number of changes emitted."""
        page = self._fetch(cursor)
        if page is None:
            return 0
        records, following = page.records, page.next_iterator
        if cursor.not_before_ms is not None:
            records = [r for r in records if created_ms(r) >= cursor.not_before_ms]
        if cursor.skip_through is not None:
            records = [r for r in records if int(r["dynamodb"]["SequenceNumber"]) > int(cursor.skip_through)]
        if records or following is None:
            # A shard that ends on an empty page still passes SHARD_END through the buffer, so its lease
            # is checkpointed once everything read before it is committed.
            position = records[-1]["dynamodb"]["SequenceNumber"] if records else cursor.position
            committed = Committed(self._table.name, cursor.shard,
                                  records[-1]["dynamodb"]["SequenceNumber"] if following else SHARD_END)
            header = self._source(cursor).header(self._clock_ns())
            built = change_records(records, self._table.key) if self._documents is None else \
                self._documents.changes(header, records)
            group = Group(header, built, None if following else offsets.SHARD_DONE, committed)
            if not self._buffer.put(group):
                return 0
            self._keeper.emitted(self._table.name, cursor.shard, committed.checkpoint)
            cursor.position, cursor.heartbeat_at = position, self._clock()
            if records:
                self._lag(cursor, self._clock_ns() // 10**6 - created_ms(records[-1]))
        elif following is not None:
            self._lag(cursor, 0)  # read to its end: caught up
        if not records and following is not None and cursor.position is not None and \
                self._clock() - cursor.heartbeat_at >= self._heartbeat_s:
            self._heartbeat(cursor)
        cursor.iterator = following
        self._stalls.advanced(cursor.shard)
        if following is None:
            cursor.finished, self._shard_ended = True, True
            METRICS.forget(shard=cursor.shard, **self._labels)  # no lag left: a stale gauge would lie
            log.info("Table %s: shard %s read to its end", self._table.name, cursor.shard)
        return len(records)

    def _lag(self, cursor: ShardCursor, lag_ms: int) -> None:
        METRICS.set("ddbcdc_cdc_lag_ms", lag_ms, shard=cursor.shard, **self._labels)
        METRICS.set("ddbcdc_cdc_retention_left_ms", max(0, STREAM_RETENTION_MS - lag_ms), shard=cursor.shard,
                    **self._labels)

    def _source(self, cursor: ShardCursor) -> StreamSource:
        return StreamSource(self._table, self._stream.arn, cursor.shard, self._lease_table.name)

    def _heartbeat(self, cursor: ShardCursor) -> None:
        """The shard is read to its end: its stored position is renewed with the time, by a heartbeat record."""
        now_ns = self._clock_ns()
        header = self._source(cursor).header(now_ns)
        offset = {**header["offset"], offsets.SEQUENCE_FIELD: cursor.position, offsets.CAUGHT_UP_FIELD: now_ns // 10**6}
        if self._buffer.put(Group(offset_header(self._heartbeat_topic, self._table.name, header["partition"], offset,
                                                now_ns), [])):
            cursor.caught_up_ms, cursor.heartbeat_at = now_ns // 10**6, self._clock()

    def _past_retention(self, cursor: ShardCursor, error: PositionTrimmed) -> None:
        """The position is past the 24-hour retention. If a heartbeat says the shard had nothing after it since
        a time the stream still holds, nothing unread was trimmed: read on from the trim horizon, skipping what
        was emitted. Otherwise changes were lost: fail loudly."""
        now_ms = self._clock_ns() // 10**6
        if cursor.caught_up_ms is not None and now_ms - cursor.caught_up_ms < STREAM_RETENTION_MS - RETENTION_SAFETY_MS:
            log.info("Table %s: shard %s was idle past the stream's retention (read to its end at %d ms, nothing "
                     "unread since); reading on from its trim horizon", self._table.name, cursor.shard,
                     cursor.caught_up_ms)
            cursor.skip_through, cursor.position, cursor.start, cursor.iterator = (
                cursor.position, None, positions.TRIM_HORIZON, None)
            cursor.caught_up_ms = None
            return
        where = "from its start" if cursor.position is None else f"after sequence number {cursor.position}"
        raise StreamDataLost(
            f"the changes of shard {cursor.shard} {where} are past "
            "DynamoDB Streams' 24-hour retention and were never read: they are lost. Take a new snapshot "
            "(reset the connector's offsets with SNAPSHOT_CDC) to get back in step.") from error

    def _iterator(self, cursor: ShardCursor) -> str:
        return self._changes.iterator(self._stream.arn, cursor.shard, cursor.position, cursor.start)
