"""The source partitions and offsets the connector stores in Connect, in one place.

TypeB, one per table and snapshot segment (documented fields, plus what resume needs)::

    partition {"segment": "0", "tableName": "orders"}
    offset    {"segment": "0", "snapshotCount": "1", "snapshotStartTime": 1719830776087,
               "tableName": "orders", "totalSegments": "5",
               "exclusiveStartKey": "{\\"id\\":{\\"S\\":\\"42\\"}}", "segmentCompleted": "false"}

``exclusiveStartKey`` is the primary key (DynamoDB JSON) of the last item whose record Connect
committed: a resumed Scan passes it as ExclusiveStartKey and continues right after that item, so
nothing is skipped and only records Connect had not yet committed are read again.
``segmentCompleted`` is "true" on the segment's last record; that segment is never read again.
``snapshotCount`` is the snapshot generation of the table (1 for the first snapshot).

Per stream shard, the position change data capture resumes from (Connect's offsets are the store)::

    partition {"tableName": "orders", "shardId": "shardId-00000001719827428220-04b3c3e0"}
    offset    {"sequenceNumber": "000000000000000000247", "shardEnded": "false",
               "streamArn": "arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2024-07-01T10:30:28.220",
               "leaseTable": "connect-KCL--c1-orders-s1719830776087"}

TypeA and TypeC, once per table when its change data capture starts (as documented; carried by a record
on ``dynamodb.cdc.heartbeat.topic``, the only way a task stores an offset)::

    partition {"tableName": "orders", "cdcStarted": "true"}
    offset    {"cdcStarted": "true", "leaseTable": "connect-KCL--c1-orders-s1719830776087"}
    partition {"stream": "orders"}
    offset    {"cdc.start.position.timestamp": "2024-07-01T10:30:28Z",
               "cdc.start.position.timestamp.format": "yyyy-MM-dd'T'HH:mm:ss'Z'",
               "leaseTable": "connect-KCL--c1-orders-s1719830776087"}

TypeC's timestamp is where the table's CDC began: ``cdc.start.position.timestamp`` with AT_TIMESTAMP, the
snapshot's start less the hand-over margin with SNAPSHOT_CDC, else the moment it started. ``leaseTable``
(both) names the lease generation (see :mod:`python_connector.streams.generations`); a TypeC a user edited through
PATCH lacks it, and starts a new generation from its timestamp.

``sequenceNumber`` is that of the last change whose record Connect committed; a restarted reader asks
for an iterator AFTER_SEQUENCE_NUMBER it. ``shardEnded`` is "true" on the last record of a closed shard.
``streamArn`` tells a position in the table's current stream from one in a stream since disabled, and
``leaseTable`` one of the current lease generation from one of an earlier generation. An idle shard's
position is renewed every ``dynamodb.cdc.heartbeat.interval.ms`` by a heartbeat record with
``caughtUpAt`` (epoch ms) added: the shard was read to its end then, with nothing after ``sequenceNumber``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

POSITION_FIELD = "exclusiveStartKey"
COMPLETED_FIELD = "segmentCompleted"
SEGMENT_DONE: Mapping[str, str] = {COMPLETED_FIELD: "true"}
SEQUENCE_FIELD = "sequenceNumber"
SHARD_ENDED_FIELD = "shardEnded"
SHARD_DONE: Mapping[str, str] = {SHARD_ENDED_FIELD: "true"}
STREAM_ARN_FIELD = "streamArn"


def snapshot_partition(table: str, segment: int) -> dict[str, str]:
    return {"segment": str(segment), "tableName": table}


def snapshot_offset(table: str, segment: int, total_segments: int, count: int, start_ms: int) -> dict[str, Any]:
    return {
        "segment": str(segment),
        "snapshotCount": str(count),
        "snapshotStartTime": start_ms,
        "tableName": table,
        "totalSegments": str(total_segments),
        COMPLETED_FIELD: "false",
    }


TIMESTAMP_FIELD = "cdc.start.position.timestamp"
TIMESTAMP_FORMAT_FIELD = "cdc.start.position.timestamp.format"
DEFAULT_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ss'Z'"
LEASE_TABLE_FIELD = "leaseTable"
CAUGHT_UP_FIELD = "caughtUpAt"


def cdc_started_partition(table: str) -> dict[str, str]:
    return {"tableName": table, "cdcStarted": "true"}


def cdc_started_offset(lease_table: str) -> dict[str, str]:
    return {"cdcStarted": "true", LEASE_TABLE_FIELD: lease_table}


def stream_partition(table: str) -> dict[str, str]:
    return {"stream": table}


def stream_start_offset(start_ms: int, lease_table: str) -> dict[str, str]:
    at = datetime.datetime.fromtimestamp(start_ms / 1000, datetime.UTC)
    return {TIMESTAMP_FIELD: at.strftime("%Y-%m-%dT%H:%M:%SZ"), TIMESTAMP_FORMAT_FIELD: DEFAULT_TIMESTAMP_FORMAT,
            LEASE_TABLE_FIELD: lease_table}


def shard_partition(table: str, shard: str) -> dict[str, str]:
    return {"tableName": table, "shardId": shard}


def shard_offset(stream_arn: str, lease_table: str) -> dict[str, str]:
    return {SHARD_ENDED_FIELD: "false", STREAM_ARN_FIELD: stream_arn, LEASE_TABLE_FIELD: lease_table}


@dataclass(frozen=True)
class ShardProgress:
    """What a stored shard offset says: the last committed sequence number, and whether the shard ended."""

    sequence_number: str
    ended: bool
    stream_arn: str | None = None
    lease_table: str | None = None
    caught_up_ms: int | None = None  # when the shard was last read to its end with nothing after this position


def read_shards(stored: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], ShardProgress]:
    """The shard entries of a stored-offsets list, by (table, shard)."""
    out = {}
    for entry in stored:
        partition, offset = entry["partition"], entry["offset"]
        if set(partition) == {"tableName", "shardId"}:
            out[(partition["tableName"], partition["shardId"])] = ShardProgress(
                offset[SEQUENCE_FIELD], str(offset.get(SHARD_ENDED_FIELD)) == "true", offset.get(STREAM_ARN_FIELD),
                offset.get(LEASE_TABLE_FIELD), offset.get(CAUGHT_UP_FIELD))
    return out


@dataclass(frozen=True)
class TableSnapshot:
    """The snapshot generation of a table the connector decided on: when it started and which it is."""

    start_ms: int
    count: int


@dataclass(frozen=True)
class SegmentProgress:
    """What a stored TypeB offset says about one segment."""

    start_ms: int
    count: int
    exclusive_start_key: str | None
    completed: bool


def read_segments(stored: Iterable[Mapping[str, Any]]) -> dict[tuple[str, int], SegmentProgress]:
    """The TypeB entries of a stored-offsets list ({partition, offset} maps), by (table, segment)."""
    out: dict[tuple[str, int], SegmentProgress] = {}
    for entry in stored:
        partition, offset = entry["partition"], entry["offset"]
        if set(partition) != {"segment", "tableName"}:
            continue
        out[(partition["tableName"], int(partition["segment"]))] = SegmentProgress(
            start_ms=int(offset["snapshotStartTime"]),
            count=int(offset["snapshotCount"]),
            exclusive_start_key=offset.get(POSITION_FIELD),
            completed=str(offset.get(COMPLETED_FIELD)) == "true",
        )
    return out


# Signals (``signal.kafka.topic``): per table, the next signal to read and the last snapshot a signal decided, in
# one offset so that a signal's effect and its position are stored together (carried by a heartbeat-topic record)::
#
#     partition {"signalTopic": "dbz-signals", "tableName": "orders"}
#     offset    {"signalOffset": 42, "signalId": "d139b9b7", "action": "execute-snapshot",
#                "snapshotCount": "2", "snapshotStartTime": 1719830776087}
SIGNAL_TOPIC_FIELD = "signalTopic"
SIGNAL_OFFSET_FIELD = "signalOffset"
EXECUTE_SNAPSHOT, STOP_SNAPSHOT = "execute-snapshot", "stop-snapshot"


def signal_partition(topic: str, table: str) -> dict[str, str]:
    return {SIGNAL_TOPIC_FIELD: topic, "tableName": table}


@dataclass(frozen=True)
class SignalDecision:
    """What the last signal acted on for a table decided: the snapshot it started or stopped."""

    next_offset: int  # the next signal to read from the signal topic
    signal_id: str
    action: str  # EXECUTE_SNAPSHOT or STOP_SNAPSHOT
    snapshot: TableSnapshot

    def offset(self) -> dict[str, Any]:
        return {SIGNAL_OFFSET_FIELD: self.next_offset, "signalId": self.signal_id, "action": self.action,
                "snapshotCount": str(self.snapshot.count), "snapshotStartTime": self.snapshot.start_ms}


def read_signals(stored: Iterable[Mapping[str, Any]], topic: str) -> dict[str, SignalDecision]:
    """The signal decisions stored for ``topic``, by table."""
    out = {}
    for entry in stored:
        partition, offset = entry["partition"], entry["offset"]
        if set(partition) == {SIGNAL_TOPIC_FIELD, "tableName"} and partition[SIGNAL_TOPIC_FIELD] == topic and offset:
            out[partition["tableName"]] = SignalDecision(
                int(offset[SIGNAL_OFFSET_FIELD]), str(offset.get("signalId")), str(offset.get("action")),
                TableSnapshot(int(offset["snapshotStartTime"]), int(offset["snapshotCount"])))
    return out
