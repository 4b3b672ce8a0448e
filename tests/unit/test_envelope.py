import struct

import orjson
import pytest

from python_connector.records import offsets, wire
from python_connector.records.envelope import SnapshotSource, StreamSource, change_records, snapshot_records
from python_connector.records.tables import TableInfo

TABLE = TableInfo("orders", (("pk", "S"), ("sk", "N")), 2)
ITEM = {"pk": {"S": "a"}, "sk": {"N": "-1.50E+3"}, "blob": {"B": "AAE="}, "tags": {"SS": ["x", "y"]}}


def read_str(buf, pos):
    (length,) = struct.unpack_from("<i", buf, pos)
    pos += 4
    if length < 0:
        return None, pos
    return buf[pos:pos + length].decode(), pos + length


def test_snapshot_record_carries_key_document_and_resume_position():
    (record,) = snapshot_records([ITEM], TABLE.key, 123)
    (ts,) = struct.unpack_from("<q", record, 0)
    op, pos = read_str(record, 8)
    assert op == "r"
    seq, pos = read_str(record, pos)
    pk, pos = read_str(record, pos)
    sk, pos = read_str(record, pos)
    before, pos = read_str(record, pos)
    after, pos = read_str(record, pos)
    position, pos = read_str(record, pos)
    headers, pos = read_str(record, pos)
    assert (ts, seq, pk, sk, before, headers) == (123, None, "a", "-1.50E+3", None, None)
    assert orjson.loads(after) == ITEM  # numbers stay strings exactly as stored
    assert orjson.loads(position) == {"pk": {"S": "a"}, "sk": {"N": "-1.50E+3"}}
    assert pos == len(record)


def test_binary_hash_key_is_sent_as_its_base64_text():
    table = TableInfo("bins", (("id", "B"),), 1)
    (record,) = snapshot_records([{"id": {"B": "3q2+7w=="}}], table.key, 0)
    key, _ = read_str(record, 17)  # after ts (8), op (4 + 1) and a null seq_No (4)
    assert key == "3q2+7w=="


@pytest.mark.parametrize("key", [(("pk", "S"),), (("pk", "S"), ("sk", "N")), (("blob", "B"), ("pk", "S"))])
def test_snapshot_records_are_the_wire_formats_records_with_only_the_key_attributes_as_position(key):
    items = [ITEM, {**ITEM, "pk": {"S": "b\u00e9"}}]
    expected = [wire.record_from(wire.record_head(5, b"r", None), [i[n][t].encode() for n, t in key], None,
                                 orjson.dumps(i), orjson.dumps({n: i[n] for n, _ in key})) for i in items]
    assert snapshot_records(items, key, 5) == expected


def test_snapshot_header_has_the_documented_source_fields_and_typeb_offset():
    header = SnapshotSource(TABLE, 3, 5, 1, 1700000000000).header(42)
    assert header["syncMode"] == "SNAPSHOT"
    assert (header["segment"], header["totalSegments"], header["snapshotCount"]) == (3, 5, 1)
    assert header["partition"] == {"segment": "3", "tableName": "orders"}
    assert header["offset"] == {"segment": "3", "snapshotCount": "1", "snapshotStartTime": 1700000000000,
                                "tableName": "orders", "totalSegments": "5", "segmentCompleted": "false"}
    assert header["positionField"] == offsets.POSITION_FIELD
    assert header["key"] == [["pk", "S"], ["sk", "N"]]


def test_batch_layout_is_id_group_count_then_groups():
    records = snapshot_records([ITEM], TABLE.key, 1)
    blob = wire.batch(7, [({"h": 1}, records)])
    batch_id, groups = struct.unpack_from("<qi", blob, 0)
    header, pos = read_str(blob, 12)
    (count,) = struct.unpack_from("<i", blob, pos)
    assert (batch_id, groups, orjson.loads(header), count) == (7, 1, {"h": 1}, 1)
    assert blob[pos + 4:] == records[0]


def parse(record):
    (ts,) = struct.unpack_from("<q", record, 0)
    fields, pos = [], 8
    while pos < len(record):
        value, pos = read_str(record, pos)
        fields.append(value)
    return ts, fields  # op, seq, key..., before, after, position


@pytest.mark.parametrize(("event", "old", "new", "expected"), [
    ("INSERT", None, {"id": {"S": "k"}, "v": {"N": "1"}}, ("c", None, {"id": {"S": "k"}, "v": {"N": "1"}})),
    ("MODIFY", {"id": {"S": "k"}, "v": {"N": "1"}}, {"id": {"S": "k"}, "v": {"N": "2"}},
     ("u", {"id": {"S": "k"}, "v": {"N": "1"}}, {"id": {"S": "k"}, "v": {"N": "2"}})),
    ("REMOVE", {"id": {"S": "k"}, "v": {"N": "2"}}, None, ("d", {"id": {"S": "k"}, "v": {"N": "2"}}, None)),
    # NEW_IMAGE / OLD_IMAGE / KEYS_ONLY views: the key stands in where the envelope needs a document.
    ("MODIFY", None, None, ("u", None, {"id": {"S": "k"}})),
    ("REMOVE", None, None, ("d", {"id": {"S": "k"}}, None)),
    ("INSERT", None, None, ("c", None, {"id": {"S": "k"}})),
])
def test_stream_records_map_to_ops_and_images(event, old, new, expected):
    body = {"ApproximateCreationDateTime": 1719830940.5, "Keys": {"id": {"S": "k"}}, "SequenceNumber": "0247"}
    if old:
        body["OldImage"] = old
    if new:
        body["NewImage"] = new
    (record,) = change_records([{"eventName": event, "dynamodb": body}], (("id", "S"),))
    ts, (op, seq, key, before, after, position, headers) = parse(record)
    assert headers is None
    assert ts == 1719830940500 * 1_000_000
    assert (op, seq, key, position) == (expected[0], "0247", "k", "0247")
    assert (before and orjson.loads(before), after and orjson.loads(after)) == expected[1:]


def test_stream_header_is_cdc_with_the_shard_partition():
    header = StreamSource(TABLE, "arn:s", "shardId-1", "leases-s1").header(9)
    assert header["syncMode"] == "CDC" and header["shardId"] == "shardId-1"
    assert header["partition"] == {"tableName": "orders", "shardId": "shardId-1"}
    assert header["positionField"] == "sequenceNumber" and header["snapshotStartTime"] is None
    assert header["offset"] == {"shardEnded": "false", "streamArn": "arn:s", "leaseTable": "leases-s1"}


def test_a_ttl_expiry_is_told_apart_from_a_user_delete_by_a_header():
    body = {"ApproximateCreationDateTime": 1.0, "Keys": {"id": {"S": "k"}}, "SequenceNumber": "1",
            "OldImage": {"id": {"S": "k"}}}
    ttl = {"eventName": "REMOVE", "dynamodb": body,
           "userIdentity": {"type": "Service", "principalId": "dynamodb.amazonaws.com"}}
    user = {"eventName": "REMOVE", "dynamodb": body}
    ttl_record, user_record = change_records([ttl, user], (("id", "S"),))
    assert orjson.loads(parse(ttl_record)[1][-1]) == {"dynamodb.ttl.delete": "true"}
    assert parse(user_record)[1][-1] is None
