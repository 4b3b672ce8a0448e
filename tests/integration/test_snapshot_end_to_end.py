"""One table snapshotted end to end on the real stack: DynamoDB Local -> Connect -> Kafka."""

import random
from decimal import Decimal

import orjson

from tests.integration.conftest import wait_until
from tests.integration.tables import as_wire_json

ITEMS = 1000


def mixed_item(i: int, rnd: random.Random) -> dict:
    item = {
        "pk": {"S": f"customer-{i % 97}"},
        "sk": {"N": str(i * 7 - 3000)},
        "name": {"S": f"näme {i} ✓"},
        "price": {"N": str(Decimal(rnd.randint(-10**6, 10**6)) / 1000)},
        "big": {"N": "12345678901234567890123456789012345678"},
        "blob": {"B": bytes([i % 256, 0, 255])},
        "active": {"BOOL": i % 2 == 0},
        "nothing": {"NULL": True},
        "tags": {"SS": [f"t{i % 3}", "common"]},
        "scores": {"NS": ["0.5", str(i)]},
        "nested": {"M": {"list": {"L": [{"S": "x"}, {"N": "1.5"}, {"M": {"deep": {"BOOL": False}}}]}}},
    }
    if i % 5 == 0:
        item["bins"] = {"BS": [b"\x01", b"\x02\x03"]}
    return item


def test_snapshot_emits_every_item_once_with_the_documented_envelope(stack, unique):
    table = f"snap_{unique}"
    ddb = stack.dynamodb()
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}])
    rnd = random.Random(7)
    for start in range(0, ITEMS, 25):
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": mixed_item(i, rnd)}}
                                                   for i in range(start, min(start + 25, ITEMS))]})
    stored = {}
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        for item in page["Items"]:
            stored[(item["pk"]["S"], item["sk"]["N"])] = as_wire_json(item)
    assert len(stored) == ITEMS

    name = f"snapshot-{unique}"
    stack.create_connector(name, stack.connector_config(table, **{"tasks.max": "2", "max.batch.size": "100",
                                                                  "dynamodb.snapshot.max.poll.records": "70"}))
    try:
        # All five segments stored as completed means every record before them was written.
        wait_until(lambda: len([o for o in stack.offsets(name)
                                if o["offset"].get("segmentCompleted") == "true"]) == 5,
                   120, "all 5 snapshot segments to be committed as completed")
        records = stack.read_topic(table)
        offsets = stack.offsets(name)
    finally:
        stack.delete_connector(name)

    assert len(records) == ITEMS, f"{len(records)} records for {ITEMS} items"
    seen = {}
    for r in records:
        payload = r.value["payload"]
        document = orjson.loads(payload["after"]["document"])
        ident = (document["pk"]["S"], document["sk"]["N"])
        assert ident not in seen, f"item {ident} emitted twice"
        seen[ident] = payload
        assert r.key["payload"] == {"pk": ident[0], "sk": ident[1]}
        assert r.key["schema"]["name"] == f"io.confluent.connect.dynamodb.{table}.Key"
        assert r.value["schema"]["name"] == f"io.confluent.connect.dynamodb.{table}.Envelope"
        assert payload["op"] == "r" and payload["before"] is None
        assert payload["ts_us"] // 1000 == payload["ts_ms"] and payload["ts_ns"] // 1000 == payload["ts_us"]
        source = payload["source"]
        assert source["tableName"] == table and source["sync_mode"] == "SNAPSHOT"
        assert source["totalSegments"] == 5 and source["segment"] in range(5)
        assert source["snapshotCount"] == 1 and source["version"] is None
        assert source["shard_Id"] is None and source["seq_No"] is None
        assert document == stored[ident]
    assert set(seen) == set(stored)

    start_times = {p["source"]["snapshotStartTime"] for p in seen.values()}
    assert len(start_times) == 1
    assert sorted(o["partition"]["segment"] for o in offsets) == ["0", "1", "2", "3", "4"]
    for o in offsets:
        assert o["partition"]["tableName"] == table
        assert o["offset"]["snapshotStartTime"] in start_times
        assert (o["offset"]["totalSegments"], o["offset"]["snapshotCount"]) == ("5", "1")
        assert o["offset"]["segment"] == o["partition"]["segment"]
