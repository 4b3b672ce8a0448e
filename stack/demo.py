"""`make demo`: sample tables in DynamoDB Local, snapshotted and then streamed by the connector, printed.

Registers config-examples/snapshot-cdc-includelist.json as a user would (its endpoint pointed at this
stack), prints snapshot records, makes a few changes and prints their change events, and leaves the stack
running.
"""

from __future__ import annotations

import json
import random
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import boto3
import requests
from confluent_kafka import Consumer, TopicPartition

from python_connector.cli import status

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config-examples" / "snapshot-cdc-includelist.json"
ORDERS = 300
CUSTOMERS = 20
STREAM = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}


def endpoints() -> dict[str, str]:
    return dict(line.split("=", 1) for line in (ROOT / ".stack" / "endpoints.env").read_text().split())


def sample_item(i: int, rnd: random.Random) -> dict:
    item = {
        "customer": {"S": f"customer-{i % 20:02d}"},
        "order_id": {"N": str(1000 + i)},
        "total": {"N": str(Decimal(rnd.randint(100, 99999)) / 100)},
        "paid": {"BOOL": rnd.random() < 0.7},
        "items": {"L": [{"M": {"sku": {"S": f"SKU-{rnd.randint(1, 50)}"}, "qty": {"N": str(rnd.randint(1, 5))}}}
                        for _ in range(rnd.randint(1, 3))]},
        "tags": {"SS": sorted({rnd.choice(["gift", "express", "bulk", "fragile"]) for _ in range(2)})},
        "note": {"NULL": True} if i % 7 == 0 else {"S": f"Order n°{i} ✓"},
        "receipt": {"B": bytes([i % 256, 42])},
    }
    return item


def create_tables(ddb) -> None:
    existing = ddb.list_tables()["TableNames"]
    if "orders" not in existing:
        ddb.create_table(TableName="orders", BillingMode="PAY_PER_REQUEST", StreamSpecification=STREAM,
                         KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"},
                                    {"AttributeName": "order_id", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"},
                                               {"AttributeName": "order_id", "AttributeType": "N"}])
        rnd = random.Random(1)
        for start in range(0, ORDERS, 25):
            ddb.batch_write_item(RequestItems={"orders": [{"PutRequest": {"Item": sample_item(i, rnd)}}
                                                          for i in range(start, min(start + 25, ORDERS))]})
    if "customers" not in existing:
        ddb.create_table(TableName="customers", BillingMode="PAY_PER_REQUEST", StreamSpecification=STREAM,
                         KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"}])
        for i in range(CUSTOMERS):
            ddb.put_item(TableName="customers", Item={"customer": {"S": f"customer-{i:02d}"},
                                                      "name": {"S": f"Customer {i}"}, "vip": {"BOOL": i % 5 == 0}})
    print(f"tables orders ({ORDERS} items) and customers ({CUSTOMERS} items), with streams, are ready")


def register(connect: str, example: dict, dynamodb: str) -> str:
    name, config = example["name"], {**example["config"], "dynamodb.service.endpoint": dynamodb}
    r = requests.put(f"{connect}/connectors/{name}/config", json=config, timeout=30)
    if r.status_code not in (200, 201):
        sys.exit(f"connector {name} was refused: {r.text}")
    print(f"connector {name} registered from {EXAMPLE.relative_to(ROOT)}")
    return name


def read_records(bootstrap: str, topic: str, want: int, timeout_s: float = 120) -> list:
    """Records of a topic from its start until `want` are read (or the timeout)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"demo-{uuid.uuid4()}",
                         "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])
    out = []
    deadline = time.monotonic() + timeout_s
    try:
        while len(out) < want and time.monotonic() < deadline:
            out.extend(m for m in consumer.consume(500, timeout=1) if not m.error())
    finally:
        consumer.close()
    return out


def show(record) -> str:
    key = json.dumps(json.loads(record.key())["payload"])
    if record.value() is None:
        return f"tombstone key={key}"
    p = json.loads(record.value())["payload"]
    src = p["source"]
    where = (f"segment={src['segment']}/{src['totalSegments']}" if p["op"] == "r"
             else f"shard={src['shard_Id']} seq={src['seq_No']}")
    lines = [f"op={p['op']} key={key} {where}"]
    for side in ("before", "after"):
        if p[side]:
            lines.append(f"    {side}.document={p[side]['document']}")
    return "\n".join(lines)


CHANGED = ({"customer": "customer-99", "order_id": "5000"}, {"customer": "customer-01", "order_id": "1001"})


def is_demo_change(record) -> bool:
    """One of make_changes' events: the insert and update of the new order, the delete and its tombstone."""
    key = json.loads(record.key())["payload"]
    if record.value() is None:
        return key == CHANGED[1]
    op = json.loads(record.value())["payload"]["op"]
    return (key == CHANGED[0] and op in ("c", "u")) or (key == CHANGED[1] and op == "d")


def wait_for_changes(bootstrap: str, timeout_s: float = 60) -> list:
    """The events of the demo's own changes. The stream is read from 60 s before the snapshot began (the
    hand-over margin), so items loaded just before also show up once more as inserts: those are skipped."""
    deadline = time.monotonic() + timeout_s
    while True:
        mine = [r for r in read_records(bootstrap, "orders", 10**9, timeout_s=2) if is_demo_change(r)]
        if len(mine) >= 4 or time.monotonic() > deadline:
            return mine


def make_changes(ddb) -> None:
    ddb.put_item(TableName="orders", Item={"customer": {"S": "customer-99"}, "order_id": {"N": "5000"},
                                           "total": {"N": "12.50"}, "paid": {"BOOL": False}})
    ddb.update_item(TableName="orders", Key={"customer": {"S": "customer-99"}, "order_id": {"N": "5000"}},
                    UpdateExpression="SET paid = :t", ExpressionAttributeValues={":t": {"BOOL": True}})
    ddb.delete_item(TableName="orders", Key={"customer": {"S": "customer-01"}, "order_id": {"N": "1001"}})
    print("\nchanged orders: inserted customer-99/5000, updated it, deleted customer-01/1001")


def main() -> None:
    env = endpoints()
    example = json.loads(EXAMPLE.read_text())
    ddb = boto3.client("dynamodb", endpoint_url=env["DYNAMODB_ENDPOINT"], region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    create_tables(ddb)
    name = register(env["CONNECT_URL"], example, env["DYNAMODB_ENDPOINT"])
    snapshot = read_records(env["KAFKA_BOOTSTRAP"], "orders", ORDERS)
    print(f"\n{len(snapshot)} snapshot records in Kafka topic 'orders'; the first 3:\n")
    for record in snapshot[:3]:
        print("  " + show(record))
    if len(snapshot) < ORDERS:
        sys.exit(f"expected {ORDERS} snapshot records, read {len(snapshot)}")
    make_changes(ddb)
    mine = wait_for_changes(env["KAFKA_BOOTSTRAP"])
    print("their change events (a delete is followed by its tombstone):\n")
    for record in mine:
        print("  " + show(record))
    offsets = requests.get(f"{env['CONNECT_URL']}/connectors/{name}/offsets", timeout=30).json()["offsets"]
    segments = sum("segment" in o["partition"] for o in offsets)
    shards = sum("shardId" in o["partition"] for o in offsets)
    print(f"\nConnect stores {segments} snapshot segment offsets and {shards} stream shard positions "
          f"(GET /connectors/{name}/offsets).")
    print("\n`ddb-cdc status`, per table: the phase, a snapshot's progress, CDC lag (from the worker's metrics):\n")
    sys.stdout.flush()
    status.main(env["CONNECT_URL"], [env["METRICS_URL"]], None, [name])
    print(f"\nThe stack is still running ({env['CONNECT_URL']}). Stop it with `make down`.")
    if len(mine) < 4:
        sys.exit(f"expected 4 change records, read {len(mine)}")


if __name__ == "__main__":
    main()
