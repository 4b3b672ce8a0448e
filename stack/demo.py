"""`make demo`: a sample table in DynamoDB Local, snapshotted by the connector into Kafka, printed.

Uses config-examples/snapshot-only.json as a user would (its endpoint pointed at this stack), and
leaves the stack running.
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

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config-examples" / "snapshot-only.json"
ITEMS = 300


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


def create_table(ddb, table: str) -> None:
    if table in ddb.list_tables()["TableNames"]:
        print(f"table {table} already exists; reusing it")
        return
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "customer", "KeyType": "HASH"},
                                {"AttributeName": "order_id", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "customer", "AttributeType": "S"},
                                           {"AttributeName": "order_id", "AttributeType": "N"}])
    rnd = random.Random(1)
    for start in range(0, ITEMS, 25):
        ddb.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": sample_item(i, rnd)}}
                                                   for i in range(start, min(start + 25, ITEMS))]})
    print(f"created table {table} with {ITEMS} items")


def register(connect: str, example: dict, dynamodb: str) -> str:
    name, config = example["name"], {**example["config"], "dynamodb.service.endpoint": dynamodb}
    r = requests.put(f"{connect}/connectors/{name}/config", json=config, timeout=30)
    if r.status_code not in (200, 201):
        sys.exit(f"connector {name} was refused: {r.text}")
    print(f"connector {name} registered from {EXAMPLE.relative_to(ROOT)}")
    return name


def read_records(bootstrap: str, topic: str, want: int, timeout_s: float = 120) -> list:
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


def stored_offsets(connect: str, name: str, segments: int, timeout_s: float = 30) -> list:
    """The connector's offsets once every segment's is stored (Connect flushes them every second)."""
    deadline = time.monotonic() + timeout_s
    while True:
        offsets = requests.get(f"{connect}/connectors/{name}/offsets", timeout=30).json()["offsets"]
        if len(offsets) >= segments or time.monotonic() > deadline:
            return offsets
        time.sleep(0.5)


def show(record) -> str:
    key = json.loads(record.key())["payload"]
    payload = json.loads(record.value())["payload"]
    src = payload["source"]
    doc = payload["after"]["document"]
    return (f"op={payload['op']} key={json.dumps(key)} segment={src['segment']}/{src['totalSegments']} "
            f"snapshotCount={src['snapshotCount']}\n    after.document={doc}")


def main() -> None:
    env = endpoints()
    example = json.loads(EXAMPLE.read_text())
    table = example["config"]["dynamodb.table.includelist"]
    ddb = boto3.client("dynamodb", endpoint_url=env["DYNAMODB_ENDPOINT"], region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    create_table(ddb, table)
    name = register(env["CONNECT_URL"], example, env["DYNAMODB_ENDPOINT"])
    records = read_records(env["KAFKA_BOOTSTRAP"], table, ITEMS)
    print(f"\n{len(records)} records in Kafka topic '{table}'; the first 5:\n")
    for record in records[:5]:
        print("  " + show(record))
    segments: dict[int, int] = {}
    for record in records:
        seg = json.loads(record.value())["payload"]["source"]["segment"]
        segments[seg] = segments.get(seg, 0) + 1
    print(f"\nrecords per scan segment: {dict(sorted(segments.items()))}")
    offsets = stored_offsets(env["CONNECT_URL"], name, len(segments))
    print(f"offsets stored by Connect (GET /connectors/{name}/offsets):")
    for entry in sorted(offsets, key=lambda o: o["partition"]["segment"]):
        print(f"  {json.dumps(entry['partition'])} -> {json.dumps(entry['offset'])}")
    print(f"\nThe stack is still running ({env['CONNECT_URL']}). Stop it with `make down`.")
    if len(records) < ITEMS:
        sys.exit(f"expected {ITEMS} records, read {len(records)}")


if __name__ == "__main__":
    main()
