"""A table deleted during its snapshot stops alone; a table missing at start is named in the failure."""

from tests.integration.conftest import wait_until
from tests.integration.tables import create_table, load


def test_a_table_deleted_mid_snapshot_stops_with_an_error_while_the_others_complete(stack, unique):
    ddb = stack.dynamodb()
    keep, gone = f"keep_{unique}", f"gone_{unique}"
    create_table(ddb, keep, [("id", "N")])
    load(ddb, keep, 3000, lambda i: {"id": {"N": str(i)}})
    create_table(ddb, gone, [("id", "N")], read_capacity=10)  # paced to 5 units/s: slow enough to delete under it
    load(ddb, gone, 3000, lambda i: {"id": {"N": str(i)}, "pad": {"S": "g" * 1000}})
    name = f"deleted-{unique}"
    stack.create_connector(name, stack.connector_config(f"{keep},{gone}", **{"tasks.max": "1"}))
    try:
        wait_until(lambda: stack.topic_size(gone) > 0, 60, "the slow table's first records")
        ddb.delete_table(TableName=gone)
        wait_until(lambda: sum(o["offset"].get("segmentCompleted") == "true" and
                               o["partition"]["tableName"] == keep for o in stack.offsets(name)) == 5,
                   120, "the other table's snapshot to complete")
        stopped_line = f"table {gone} stopped; the other tables go on"
        wait_until(lambda: stopped_line in stack.worker_log(), 30,
                   "the deleted table's error in the worker log")
        status = stack.status(name)
    finally:
        stack.delete_connector(name)
    assert len(stack.read_topic(keep)) == 3000
    assert stack.topic_size(gone) < 3000
    assert status["tasks"][0]["state"] == "RUNNING"


def test_a_table_missing_at_start_fails_the_task_naming_it(stack, unique):
    ddb = stack.dynamodb()
    present, missing = f"present_{unique}", f"missing_{unique}"
    create_table(ddb, present, [("id", "S")])
    name = f"missing-{unique}"
    stack.create_connector(name, stack.connector_config(f"{present},{missing}"))
    try:
        status = wait_until(lambda: (s := stack.status(name)).get("tasks") and s["tasks"][0]["state"] == "FAILED"
                            and s, 60, "the task to fail")
    finally:
        stack.delete_connector(name)
    assert f"DynamoDB table '{missing}' does not exist" in status["tasks"][0]["trace"]
