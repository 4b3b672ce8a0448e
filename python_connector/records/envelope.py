"""Building the documented change-event envelope, as wire groups the Java shim assembles.

Pure: processing time and offsets are passed in. A snapshot record's ``source`` block::

    {"version": null, "tableName": "NumTable", "sync_mode": "SNAPSHOT",
     "ts_ms": 1719830776204, "ts_us": 1719830776204000, "ts_ns": 1719830776204000000,
     "snapshotStartTime": 1719830776087, "snapshotCount": 1, "segment": 0, "totalSegments": 5,
     "shard_Id": null, "seq_No": null}

``after.document`` is the item as a DynamoDB-JSON string, exactly as the service returned it; the
record key is a struct of the table's key attributes (S and N as strings, B as bytes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from python_connector.records import offsets, wire
from python_connector.records.tables import TableInfo

Item = dict[str, dict[str, Any]]

# The source operation of a stream record -> the envelope's op.
OPS = MappingProxyType({"INSERT": b"c", "MODIFY": b"u", "REMOVE": b"d"})
# A delete made by DynamoDB's TTL expiry, not a user, carries this record header (on the tombstone too).
TTL_USER_IDENTITY = MappingProxyType({"type": "Service", "principalId": "dynamodb.amazonaws.com"})
TTL_HEADERS = orjson.dumps({"dynamodb.ttl.delete": "true"})


def group_header(table: TableInfo, sync_mode: str, ts_ns: int, partition: dict[str, str], offset: dict[str, Any],
                 position_field: str, **source: Any) -> dict[str, Any]:
    """A wire group's header; ``source`` sets the optional source fields this kind of record has."""
    return {
        "table": table.name,
        "topic": table.name,
        "syncMode": sync_mode,
        "tsNs": ts_ns,
        "snapshotStartTime": None,
        "snapshotCount": None,
        "segment": None,
        "totalSegments": None,
        "shardId": None,
        **source,
        "key": [list(k) for k in table.key],
        "partition": partition,
        "offset": offset,
        "positionField": position_field,
        # A delete is followed by a tombstone (same key, null value), so compacted topics drop the key.
        "tombstones": True,
    }


def offset_header(topic: str, key: str, partition: Mapping[str, str], offset: Mapping[str, Any],
                  ts_ns: int) -> dict[str, Any]:
    """A group with no records that stands for one record on ``topic`` carrying only an offset: key ``key``,
    value the offset as JSON."""
    return {"kind": "offset", "topic": topic, "key": key, "partition": partition, "offset": offset, "tsNs": ts_ns}


@dataclass(frozen=True)
class SnapshotSource:
    """What all records of one snapshot segment share."""

    table: TableInfo
    segment: int
    total_segments: int
    count: int
    start_ms: int

    def header(self, ts_ns: int) -> dict[str, Any]:
        return group_header(
            self.table, "SNAPSHOT", ts_ns, offsets.snapshot_partition(self.table.name, self.segment),
            offsets.snapshot_offset(self.table.name, self.segment, self.total_segments, self.count, self.start_ms),
            offsets.POSITION_FIELD, snapshotStartTime=self.start_ms, snapshotCount=self.count, segment=self.segment,
            totalSegments=self.total_segments)


def item_key(item: Item, key: Sequence[tuple[str, str]]) -> Item:
    return {name: item[name] for name, _ in key}


def snapshot_records(items: Sequence[Item], key: Sequence[tuple[str, str]], ts_ns: int) -> list[bytes]:
    """One wire record per scanned item: its key, the item as ``after``, its key as the resume position."""
    dumps, record_from = orjson.dumps, wire.record_from
    head = wire.record_head(ts_ns, b"r", None)
    return [record_from(head, [item[name][type_].encode() for name, type_ in key], None, dumps(item),
                        dumps(item_key(item, key))) for item in items]


@dataclass(frozen=True)
class StreamSource:
    """What all records read from one stream shard share."""

    table: TableInfo
    stream_arn: str
    shard: str
    lease_table: str

    def header(self, ts_ns: int) -> dict[str, Any]:
        return group_header(self.table, "CDC", ts_ns, offsets.shard_partition(self.table.name, self.shard),
                            offsets.shard_offset(self.stream_arn, self.lease_table), offsets.SEQUENCE_FIELD,
                            shardId=self.shard)


def created_ms(record: dict[str, Any]) -> int:
    """ApproximateCreationDateTime (epoch seconds, a JSON number) in milliseconds, exactly."""
    return round(record["dynamodb"]["ApproximateCreationDateTime"] * 1000)


def change_records(records: Sequence[dict[str, Any]], key: Sequence[tuple[str, str]]) -> list[bytes]:
    """One wire record per stream record: op from the event, images as before/after, sequence as position.

    An image the stream does not carry (NEW_IMAGE, OLD_IMAGE, KEYS_ONLY views) is replaced by the item's
    key where the envelope needs a document: ``after`` of c and u, ``before`` of d.
    """
    dumps = orjson.dumps
    out = []
    for r in records:
        change = r["dynamodb"]
        op = OPS[r["eventName"]]
        keys = change["Keys"]
        old, new = change.get("OldImage"), change.get("NewImage")
        before = dumps(old or keys) if op == b"d" else (dumps(old) if old else None)
        after = None if op == b"d" else dumps(new or keys)
        sequence = change["SequenceNumber"].encode()
        headers = TTL_HEADERS if r.get("userIdentity") == TTL_USER_IDENTITY else None
        out.append(wire.record(created_ms(r) * 1_000_000, op, sequence,
                               [keys[name][type_].encode() for name, type_ in key], before, after, sequence, headers))
    return out
