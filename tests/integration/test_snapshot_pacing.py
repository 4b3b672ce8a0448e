"""On a provisioned table the snapshot reads at dynamodb.snapshot.max.rcu.percentage of its capacity."""

import time

from tests.integration.conftest import wait_until
from tests.integration.tables import create_table, load

READ_CAPACITY = 100
PERCENTAGE = 50
ITEMS = 3200


def consumed_by_full_scan(ddb, table):
    units, kwargs = 0.0, {}
    while True:
        page = ddb.scan(TableName=table, ReturnConsumedCapacity="TOTAL", **kwargs)
        units += page["ConsumedCapacity"]["CapacityUnits"]
        if "LastEvaluatedKey" not in page:
            return units
        kwargs = {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_snapshot_read_rate_stays_within_ten_percent_of_the_budget(stack, unique):
    table = f"paced_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "N")], read_capacity=READ_CAPACITY)
    load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}, "pad": {"S": "x" * 1500}})
    units = consumed_by_full_scan(ddb, table)
    budget = READ_CAPACITY * PERCENTAGE / 100
    name = f"paced-{unique}"
    created_ms = time.time() * 1000
    stack.create_connector(name, stack.connector_config(table, **{
        "dynamodb.snapshot.max.rcu.percentage": str(PERCENTAGE), "max.batch.size": "100"}))
    try:
        wait_until(lambda: sum(o["offset"].get("segmentCompleted") == "true" for o in stack.offsets(name)) == 5,
                   120, "the paced snapshot to complete")
    finally:
        stack.delete_connector(name)
    records = stack.read_topic(table)
    assert len(records) == ITEMS
    # From creation to the last record: the task's start is inside the window, and so is the wait for the
    # first pages, which are held until the next page shows whether they were their segment's last.
    seconds = (max(r.timestamp_ms for r in records) - created_ms) / 1000
    rate = units / seconds
    print(f"{units:.0f} read units in {seconds:.1f}s: {rate:.1f} units/s for a budget of {budget:.1f}")
    assert 0.9 * budget <= rate <= 1.1 * budget
