"""Change data capture of one table: its stream's shards read in lineage order into the buffer.

Each shard is a small state machine::

    BLOCKED_ON_PARENT --(parent finished, or no longer listed)--> READING --(no next iterator)--> FINISHED

A shard's position is the sequence number of the last change it emitted; it is stored by Connect with
that record, never as an iterator (iterators expire after 15 minutes). The configured initial position
(TRIM_HORIZON, LATEST, AT_TIMESTAMP) applies only to the shards listed when the table's CDC first starts;
any other shard without a stored position is a child that appeared since, read from its beginning so no
change is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from python_connector import offsets
from python_connector.aws import AwsError, JsonClient
from python_connector.buffer import Group, RecordBuffer
from python_connector.discovery import TableInfo
from python_connector.envelope import StreamSource, change_records, created_ms
from python_connector.streams import Shard, StreamInfo, is_expired_iterator, is_trimmed, list_shards

log = logging.getLogger(__name__)

SHARD_REFRESH_S = 10.0  # how often new shards are looked for
IDLE_MIN_S, IDLE_MAX_S = 0.05, 0.5  # back-off between rounds that found no change: low latency, few calls
GET_RECORDS_MAX = 1000  # the service's cap on GetRecords Limit


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


@dataclass(frozen=True)
class InitialPosition:
    """Where the shards listed at a table's first CDC start begin."""

    kind: str  # TRIM_HORIZON, LATEST or AT_TIMESTAMP
    at_ms: int | None = None


@dataclass
class ShardCursor:
    shard: Shard
    position: str | None  # sequence number of the last change emitted (or stored)
    start: str  # iterator type when there is no position: TRIM_HORIZON or LATEST
    not_before_ms: int | None = None  # AT_TIMESTAMP: changes older than this are not emitted
    iterator: str | None = None
    finished: bool = False


class TableStreamReader:
    def __init__(self, streams: JsonClient, table: TableInfo, stream: StreamInfo, initial: InitialPosition,
                 stored: Mapping[str, offsets.ShardProgress], buffer: RecordBuffer, limit: int,
                 stopped: threading.Event, current_arn: Callable[[], str] | None = None,
                 may_start: Callable[[], bool] = lambda: True,
                 clock: Callable[[], float] = time.monotonic, clock_ns: Callable[[], int] = time.time_ns):
        """``may_start`` holds the reader back until it is true: with SNAPSHOT_CDC, until every snapshot record
        of the table is in Kafka, so the table's change events follow all its snapshot records.
        ``current_arn`` gives the table's stream now; when it is no longer the one being read, the table stops."""
        self._streams = streams
        self._table = table
        self._stream = stream
        self._initial = initial
        self._stored = stored
        self._buffer = buffer
        self._limit = min(limit, GET_RECORDS_MAX)
        self._stopped = stopped
        self._clock = clock
        self._clock_ns = clock_ns
        self._may_start = may_start
        self._current_arn = current_arn
        self._cursors: dict[str, ShardCursor] = {}
        self._first_listing = not stored  # no stored position: the table's CDC starts now

    def run(self) -> None:
        """Reads until the task stops; raises CdcError for anything that stops this table."""
        try:
            if not self._may_start():
                log.info("Table %s: change data capture waits for its snapshot to be in Kafka", self._table.name)
                while not self._may_start():
                    if self._stopped.wait(0.2):
                        return
            listed_at = -SHARD_REFRESH_S
            idle = IDLE_MIN_S
            while not self._stopped.is_set():
                if self._clock() - listed_at >= SHARD_REFRESH_S:
                    self._refresh_shards()
                    listed_at = self._clock()
                emitted = sum(self._read(cursor) for cursor in self._ready())
                if emitted:
                    idle = IDLE_MIN_S
                else:
                    self._stopped.wait(idle)
                    idle = min(IDLE_MAX_S, idle * 2)
        except Exception as e:
            raise CdcError(self._table.name, e) from e

    def _refresh_shards(self) -> None:
        for stored in self._stored.values():
            if stored.stream_arn and stored.stream_arn != self._stream.arn:
                raise StreamReplaced(self._table.name, stored.stream_arn, self._stream.arn)
        if self._current_arn is not None and (now := self._current_arn()) != self._stream.arn:
            raise StreamReplaced(self._table.name, self._stream.arn, now)
        for shard in list_shards(self._streams, self._stream.arn):
            if shard.id not in self._cursors:
                self._cursors[shard.id] = self._cursor_for(shard)
        self._first_listing = False

    def _cursor_for(self, shard: Shard) -> ShardCursor:
        stored = self._stored.get(shard.id)
        if stored is not None:
            return ShardCursor(shard, stored.sequence_number, "TRIM_HORIZON", finished=stored.ended)
        if not self._first_listing:
            return ShardCursor(shard, None, "TRIM_HORIZON")  # a child that appeared since: from its beginning
        if self._initial.kind == "LATEST":
            # A closed shard holds only changes from before now.
            return ShardCursor(shard, None, "LATEST", finished=shard.closed)
        return ShardCursor(shard, None, "TRIM_HORIZON", not_before_ms=self._initial.at_ms)

    def _ready(self) -> list[ShardCursor]:
        """Unfinished shards whose parent has finished (or is no longer listed), parents first."""
        return [c for c in self._cursors.values() if not c.finished and
                (c.shard.parent not in self._cursors or self._cursors[c.shard.parent].finished)]

    def _read(self, cursor: ShardCursor) -> int:
        """One GetRecords on the shard; returns the number of changes emitted."""
        if cursor.iterator is None:
            cursor.iterator = self._iterator(cursor)
        try:
            page = self._streams.call("GetRecords", {"ShardIterator": cursor.iterator, "Limit": self._limit})
        except AwsError as e:
            if is_expired_iterator(e):
                cursor.iterator = None  # the next round asks for a fresh one after the position
                return 0
            if is_trimmed(e):
                raise StreamDataLost(
                    f"the changes of shard {cursor.shard.id} after sequence number {cursor.position} are past "
                    "DynamoDB Streams' 24-hour retention and were never read: they are lost. Take a new snapshot "
                    "(reset the connector's offsets with SNAPSHOT_CDC) to get back in step.") from e
            raise
        records = page.get("Records") or []
        following = page.get("NextShardIterator")
        if cursor.not_before_ms is not None:
            records = [r for r in records if created_ms(r) >= cursor.not_before_ms]
        if records:
            now = self._clock_ns()
            group = Group(StreamSource(self._table, self._stream.arn, cursor.shard.id).header(now),
                          change_records(records, self._table.key), None if following else offsets.SHARD_DONE)
            if not self._buffer.put(group):
                return 0
            cursor.position = records[-1]["dynamodb"]["SequenceNumber"]
        cursor.iterator = following
        if following is None:
            cursor.finished = True
            log.info("Table %s: shard %s read to its end", self._table.name, cursor.shard.id)
        return len(records)

    def _iterator(self, cursor: ShardCursor) -> str:
        request = {"StreamArn": self._stream.arn, "ShardId": cursor.shard.id}
        if cursor.position is not None:
            request |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": cursor.position}
        else:
            request["ShardIteratorType"] = cursor.start
        return self._streams.call("GetShardIterator", request)["ShardIterator"]
