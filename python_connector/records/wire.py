"""The batch format that crosses the bridge in one ``byte[]`` per poll.

Read by ``java_shim/plugin/.../RecordBatchDecoder.java``; integers little-endian::

    batch  := i64 batchId, i32 groupCount, group*
    group  := str headerJson, i32 recordCount, record*
    record := i64 sourceTsNs, str op, str seqNo, str key[keyCount], str before, str after, str position,
              str headers (a JSON object of string headers, or null)
    str    := i32 byteLength (-1 for null), UTF-8 bytes

A group's header carries what its records share (table, topic, source fields, key schema, source
partition and offset); each record carries its op (c, u, d, r); see :mod:`python_connector.records.envelope`.
One blob per poll is what makes the crossing cheap: measured here, a ``byte[]`` crosses ~2x faster than a ``String[]``
and ~20x faster than a Java list of maps; lending the bytes as a direct ``ByteBuffer`` instead of
converting them to a ``byte[]`` saves another ~0.8 ms per 1,000-record batch.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import orjson

I32 = struct.Struct("<i").pack  # a str's length prefix
I64 = struct.Struct("<q").pack
_BATCH_HEAD = struct.Struct("<qi").pack
NULL = I32(-1)


def string(value: bytes | None) -> bytes:
    return NULL if value is None else I32(len(value)) + value


def record_head(source_ts_ns: int, op: bytes, seq_no: bytes | None) -> bytes:
    """What a record starts with; records that share it (a snapshot page's) can share one."""
    return I64(source_ts_ns) + string(op) + string(seq_no)


def record_from(head: bytes, key: Sequence[bytes], before: bytes | None, after: bytes | None,
                position: bytes | None, headers: bytes | None = None) -> bytes:
    # Length prefixes and values go into one join: a prefixed copy of each ~1 KB document would cost a copy more.
    parts = [head]
    for value in (*key, before, after, position, headers):
        if value is None:
            parts.append(NULL)
        else:
            parts.append(I32(len(value)))
            parts.append(value)
    return b"".join(parts)


def record(source_ts_ns: int, op: bytes, seq_no: bytes | None, key: Sequence[bytes], before: bytes | None,
           after: bytes | None, position: bytes | None, headers: bytes | None = None) -> bytes:
    return record_from(record_head(source_ts_ns, op, seq_no), key, before, after, position, headers)


def batch(batch_id: int, groups: Sequence[tuple[dict[str, Any], Sequence[bytes]]]) -> bytearray:
    """The batch as a bytearray, which the bridge lends to Java as a direct buffer without copying."""
    parts = [_BATCH_HEAD(batch_id, len(groups))]
    for header, records in groups:
        parts.append(string(orjson.dumps(header)))
        parts.append(I32(len(records)))
        parts.extend(records)
    return bytearray().join(parts)
