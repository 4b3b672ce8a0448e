"""20,000 items over three tables, two tasks: every item exactly once, with the right envelope."""

import orjson

from tests.integration.conftest import wait_until
from tests.integration.tables import create_table, load

SIZES = {"a": 9000, "b": 7000, "c": 4000}


def test_three_tables_over_two_tasks_emit_every_item_exactly_once(stack, unique):
    ddb = stack.dynamodb()
    tables = {f"multi_{suffix}_{unique}": n for suffix, n in SIZES.items()}
    for table, n in tables.items():
        create_table(ddb, table, [("id", "N")])
        load(ddb, table, n, lambda i: {"id": {"N": str(i)}, "payload": {"S": "p" * 100}, "n": {"N": f"{i}.5"}})
    name = f"multi-{unique}"
    stack.create_connector(name, stack.connector_config(",".join(tables), **{
        "tasks.max": "2", "max.batch.size": "500", "dynamodb.snapshot.max.poll.records": "400"}))
    try:
        wait_until(lambda: sum(o["offset"].get("segmentCompleted") == "true" for o in stack.offsets(name)) == 15,
                   180, "all 15 segments of the three tables to complete")
        status = stack.status(name)
    finally:
        stack.delete_connector(name)
    assert len(status["tasks"]) == 2
    for table, n in tables.items():
        records = stack.read_topic(table)
        ids = [int(r.key["payload"]["id"]) for r in records]
        assert sorted(ids) == list(range(n)), f"{table}: {len(ids)} records, {len(set(ids))} distinct, {n} items"
        segments_by_task = {}
        for r in records:
            payload = r.value["payload"]
            assert payload["op"] == "r" and payload["source"]["tableName"] == table
            document = orjson.loads(payload["after"]["document"])
            assert document["id"] == {"N": r.key["payload"]["id"]}
            assert document["n"] == {"N": f"{r.key['payload']['id']}.5"}
            segments_by_task.setdefault(payload["source"]["segment"], 0)
        assert sorted(segments_by_task) == [0, 1, 2, 3, 4]
