"""Building the documented change-event envelope, as wire groups the Java shim assembles.

Pure: processing time and offsets are passed in. A snapshot record's ``source`` block::

    {"version": null, "tableName": "NumTable", "sync_mode": "SNAPSHOT",
     "ts_ms": 1719830776204, "ts_us": 1719830776204000, "ts_ns": 1719830776204000000,
     "snapshotStartTime": 1719830776087, "snapshotCount": 1, "segment": 0, "totalSegments": 5,
     "shard_Id": null, "seq_No": null}

``after.document`` is the item as a DynamoDB-JSON string, exactly as the service returned it (with
``document.content.format=schema``, a typed document: see ``document_builder``); the
record key is a struct of the table's key attributes (S and N as strings, B as bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def snapshot_records(items: Sequence[Item], key: Sequence[tuple[str, str]], ts_ns: int,
                     dumps: Callable[[Any], bytes] = orjson.dumps) -> list[bytes]:
    """One wire record per scanned item: its key, the item as ``after`` (written by ``dumps``: a typed
    document's writer, see document_builder), its key as the resume position.

    Each record is one join of :func:`wire.record_from`'s parts, written out for a key of one attribute and of two
    (a DynamoDB key has no other size): a call per record and per part cost a scan thread as much as writing the
    document (the records are the same bytes, tests/unit/test_envelope.py)."""
    head, i32, null, key_dumps = wire.record_head(ts_ns, b"r", None), wire.I32, wire.NULL, orjson.dumps
    (hash_name, hash_type), *range_key = key
    if not range_key:
        out = []
        for item in items:
            hash_value = item[hash_name]
            h, doc, position = hash_value[hash_type].encode(), dumps(item), key_dumps({hash_name: hash_value})
            out.append(b"".join((head, i32(len(h)), h, null, i32(len(doc)), doc, i32(len(position)), position,
                                 null)))
        return out
    ((range_name, range_type),) = range_key
    out = []
    for item in items:
        hash_value, range_value = item[hash_name], item[range_name]
        h, r, doc = hash_value[hash_type].encode(), range_value[range_type].encode(), dumps(item)
        position = key_dumps({hash_name: hash_value, range_name: range_value})
        out.append(b"".join((head, i32(len(h)), h, i32(len(r)), r, null, i32(len(doc)), doc, i32(len(position)),
                             position, null)))
    return out


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


def change_images(record: dict[str, Any]) -> tuple[Item | None, Item | None]:
    """A stream record's (before, after) documents. An image the stream does not carry (NEW_IMAGE, OLD_IMAGE,
    KEYS_ONLY views) is replaced by the item's key where the envelope needs a document: ``after`` of c and u,
    ``before`` of d."""
    change = record["dynamodb"]
    old = change.get("OldImage")
    if record["eventName"] == "REMOVE":
        return old or change["Keys"], None
    return old or None, change.get("NewImage") or change["Keys"]


def change_records(records: Sequence[dict[str, Any]], key: Sequence[tuple[str, str]],
                   dumps: Callable[[Any], bytes] = orjson.dumps) -> list[bytes]:
    """One wire record per stream record: op from the event, images (:func:`change_images`, written by
    ``dumps``) as before/after, sequence as position; each one join of :func:`wire.record`'s parts, as
    :func:`snapshot_records` writes them."""
    i32, null, string = wire.I32, wire.NULL, wire.string
    ops, ttl_headers = {event: string(op) for event, op in OPS.items()}, string(TTL_HEADERS)
    out = []
    for r in records:
        change = r["dynamodb"]
        keys = change["Keys"]
        sequence = string(change["SequenceNumber"].encode())  # the seqNo and the position
        parts = [wire.I64(created_ms(r) * 1_000_000), ops[r["eventName"]], sequence]
        for name, type_ in key:
            value = keys[name][type_].encode()
            parts += (i32(len(value)), value)
        for image in change_images(r):
            if image is None:
                parts.append(null)
            else:
                document = dumps(image)
                parts += (i32(len(document)), document)
        parts += (sequence, ttl_headers if r.get("userIdentity") == TTL_USER_IDENTITY else null)
        out.append(b"".join(parts))
    return out
