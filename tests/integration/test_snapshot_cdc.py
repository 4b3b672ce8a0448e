"""SNAPSHOT_CDC: snapshot, then every change after it began; replaying the topic by key gives the table."""

import random
import threading

import orjson

from tests.integration.conftest import wait_until
from tests.integration.tables import create_table, load, scan_all

ITEMS = 2000


def mixed_changes(ddb, table, rnd, count, next_id):
    """Inserts, updates (the same keys many times) and deletes; returns the next free id."""
    hot = [rnd.randrange(ITEMS) for _ in range(20)]
    for _ in range(count):
        roll = rnd.random()
        if roll < 0.3:
            ddb.put_item(TableName=table, Item={"id": {"N": str(next_id)}, "v": {"N": "0"}})
            next_id += 1
        elif roll < 0.85:
            key = rnd.choice(hot) if rnd.random() < 0.5 else rnd.randrange(next_id)
            ddb.update_item(TableName=table, Key={"id": {"N": str(key)}}, UpdateExpression="ADD v :one",
                            ExpressionAttributeValues={":one": {"N": "1"}})
        else:
            ddb.delete_item(TableName=table, Key={"id": {"N": str(rnd.randrange(next_id))}})
    return next_id


def test_snapshot_then_changes_replay_to_the_tables_final_state(stack, unique):
    table = f"snapcdc_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "N")], stream_view="NEW_AND_OLD_IMAGES")
    load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}, "v": {"N": "0"}})
    name = f"snapcdc-{unique}"
    rnd = random.Random(5)
    stack.create_connector(name, stack.connector_config(table, **{
        "dynamodb.table.sync.mode": "SNAPSHOT_CDC", "poll.linger.ms": "100",
        "dynamodb.snapshot.max.poll.records": "100"}))
    try:
        during = threading.Thread(target=mixed_changes, args=(ddb, table, random.Random(6), 1500, ITEMS + 10_000))
        during.start()
        wait_until(lambda: sum(o["offset"].get("segmentCompleted") == "true" for o in stack.offsets(name)) == 5,
                   120, "the snapshot to complete")
        during.join()
        mixed_changes(ddb, table, rnd, 1500, ITEMS)
        ddb.put_item(TableName=table, Item={"id": {"N": "999999"}, "v": {"N": "0"}})
        wait_until(lambda: any(r.key["payload"]["id"] == "999999" for r in stack.read_topic(table)), 120,
                   "the last change to arrive")
        records = stack.read_topic(table)
    finally:
        stack.delete_connector(name)

    state = {}
    ops = []
    for i, r in enumerate(records):
        key = r.key["payload"]["id"]
        if r.value is None:
            assert ops[-1] == ("d", key), f"tombstone at {i} does not follow a delete of {key}"
            state.pop(key, None)
            ops.append(("tombstone", key))
            continue
        p = r.value["payload"]
        ops.append((p["op"], key))
        if p["op"] == "d":
            state.pop(key, None)
        else:
            state[key] = orjson.loads(p["after"]["document"])
    final = {item["id"]["N"]: {"id": item["id"], "v": item["v"]} for item in scan_all(ddb, table)}
    assert state == final
    last_snapshot = max(i for i, (op, _) in enumerate(ops) if op == "r")
    first_change = min(i for i, (op, _) in enumerate(ops) if op in ("c", "u", "d"))
    assert last_snapshot < first_change, "a change event came before the last snapshot record"
    assert sum(op == "r" for op, _ in ops) >= ITEMS * 0.9
