"""TAG discovery against moto's tagging API, and a live table set: tables join and leave a running connector."""

import boto3
import orjson
import requests

from tests.integration.conftest import wait_until
from tests.integration.tables import create_table, load

ITEMS = 50


def tagging_side(stack):
    """moto_server holds the tags (DynamoDB Local has no tagging API); the data lives in DynamoDB Local."""
    return stack.for_worker(stack.tagging_endpoint), boto3.client(
        "dynamodb", endpoint_url=stack.tagging_endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key="test")


def assigned_tables(stack, name):
    tasks = requests.get(f"{stack.connect_url}/connectors/{name}/tasks", timeout=30).json()
    return {table for t in tasks for table, _ in orjson.loads(t["config"]["ddbcdc.task.assignment"])}


def tables_with_data(stack, unique, count, stream_view=None):
    ddb = stack.dynamodb()
    names = [f"disc{i}_{unique}" for i in range(count)]
    for table in names:
        create_table(ddb, table, [("id", "N")], stream_view=stream_view)
        load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}})
    return names


def snapshotted(stack, table):
    return stack.topic_size(table) >= ITEMS and sum(
        r.value["payload"]["op"] == "r" for r in stack.read_topic(table) if r.value) == ITEMS


def changed(stack, table):
    """The change made after the snapshot (key ITEMS) is in the table's topic. (Loads just before a SNAPSHOT_CDC
    snapshot also come back as change events: its stream starts 60 s before the snapshot.)"""
    return stack.topic_size(table) > 0 and any(r.key["payload"]["id"] == str(ITEMS) for r in stack.read_topic(table))


def change(stack, table, key):
    stack.dynamodb().put_item(TableName=table, Item={"id": {"N": str(key)}})


def test_tagged_tables_are_captured_and_the_set_follows_tag_changes(stack, unique):
    """SNAPSHOT_CDC: a table tagged while running is snapshotted, then streamed; an untagged one stops; a tagged
    table without a stream is reported (its error counted in the metrics) while the others go on."""
    t1, t2, t3 = tables_with_data(stack, unique, 3, stream_view="NEW_AND_OLD_IMAGES")
    (no_stream,) = [f"nostream_{unique}"]
    create_table(stack.dynamodb(), no_stream, [("id", "N")])
    endpoint, moto = tagging_side(stack)
    arns = {}
    for table, tags in ((t1, [{"Key": "env", "Value": f"prod-{unique}"}]),
                        (t2, [{"Key": "env", "Value": f"staging-{unique}"}]), (t3, []),
                        (no_stream, [{"Key": "env", "Value": f"prod-{unique}"}])):
        moto.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", Tags=tags or [{"Key": "x", "Value": "y"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}])
        arns[table] = moto.describe_table(TableName=table)["Table"]["TableArn"]
    name = f"tagged-{unique}"
    stack.create_connector(name, stack.connector_config("", **{
        "dynamodb.table.sync.mode": "SNAPSHOT_CDC", "tasks.max": "2",
        "dynamodb.table.discovery.mode": "TAG", "aws.resource.tagging.endpoint": endpoint,
        "dynamodb.table.tag.filters": f"env:prod-{unique},staging-{unique}",
        "dynamodb.table.discovery.interval.ms": "1000"}))
    try:
        wait_until(lambda: snapshotted(stack, t1) and snapshotted(stack, t2), 60, "the two tagged tables' snapshots")
        assert stack.topic_size(t3) == 0 and assigned_tables(stack, name) == {t1, t2, no_stream}
        wait_until(lambda: sum(stack.metric("ddbcdc_table_errors_total", connector=name, table=no_stream)), 60,
                   "the table without a stream to be reported")

        moto.tag_resource(ResourceArn=arns[t3], Tags=[{"Key": "env", "Value": f"prod-{unique}"}])
        wait_until(lambda: snapshotted(stack, t3), 60, "the newly tagged table's snapshot")
        change(stack, t3, ITEMS)
        wait_until(lambda: changed(stack, t3), 60, "then its changes")

        moto.untag_resource(ResourceArn=arns[t1], TagKeys=["env"])
        wait_until(lambda: t1 not in assigned_tables(stack, name), 60, "the untagged table to leave the tasks")
        change(stack, t1, ITEMS)
        change(stack, t2, ITEMS)  # comes after t1's change: once it is in, t1's would be too
        wait_until(lambda: changed(stack, t2), 60, "a change of a table still tagged")
        kept = {o["partition"].get("tableName") for o in stack.offsets(name)}
        statuses = [t["state"] for t in stack.status(name)["tasks"]]
    finally:
        stack.delete_connector(name)
    assert t1 in kept, "the untagged table's offsets were dropped"
    assert not changed(stack, t1), "the untagged table is still read"
    assert statuses == ["RUNNING"] * len(statuses)  # the table without a stream stopped alone


def test_includelist_edits_through_the_rest_api_add_and_remove_tables(stack, unique):
    a, b = tables_with_data(stack, unique, 2)
    name = f"edited-{unique}"
    stack.create_connector(name, stack.connector_config(a))
    try:
        wait_until(lambda: stack.topic_size(a) == ITEMS, 60, "the first table's snapshot")
        stack.create_connector(name, stack.connector_config(f"{a},{b}"))
        wait_until(lambda: stack.topic_size(b) == ITEMS, 60, "the added table's snapshot")
        stack.create_connector(name, stack.connector_config(b))
        wait_until(lambda: assigned_tables(stack, name) == {b}, 60, "the removed table to leave the tasks")
        kept = {o["partition"]["tableName"] for o in stack.offsets(name)}
    finally:
        stack.delete_connector(name)
    assert kept == {a, b}
    assert stack.topic_size(a) == ITEMS  # not read again
