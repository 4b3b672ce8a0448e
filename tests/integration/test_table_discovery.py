"""TAG discovery against moto's tagging API, and a live table set: tables join and leave a running connector."""

import boto3
import orjson
import requests

from tests.integration.conftest import ENDPOINTS, wait_until
from tests.integration.tables import create_table, load

ITEMS = 50


def tagging_side():
    """moto_server holds the tags (DynamoDB Local has no tagging API); the data lives in DynamoDB Local."""
    env = dict(line.split("=", 1) for line in ENDPOINTS.read_text().split())
    return env["TAGGING_ENDPOINT"], boto3.client("dynamodb", endpoint_url=env["TAGGING_ENDPOINT"],
                                                 region_name="us-east-1", aws_access_key_id="test",
                                                 aws_secret_access_key="test")


def assigned_tables(stack, name):
    tasks = requests.get(f"{stack.connect_url}/connectors/{name}/tasks", timeout=30).json()
    return {table for t in tasks for table, _ in orjson.loads(t["config"]["ddbcdc.task.assignment"])}


def tables_with_data(stack, unique, count):
    ddb = stack.dynamodb()
    names = [f"disc{i}_{unique}" for i in range(count)]
    for table in names:
        create_table(ddb, table, [("id", "N")])
        load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}})
    return names


def test_tagged_tables_are_captured_and_the_set_follows_tag_changes(stack, unique):
    t1, t2, t3 = tables_with_data(stack, unique, 3)
    endpoint, moto = tagging_side()
    arns = {}
    for table, tags in ((t1, [{"Key": "env", "Value": f"prod-{unique}"}]),
                        (t2, [{"Key": "env", "Value": f"staging-{unique}"}]), (t3, [])):
        moto.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", Tags=tags or [{"Key": "x", "Value": "y"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}])
        arns[table] = moto.describe_table(TableName=table)["Table"]["TableArn"]
    name = f"tagged-{unique}"
    stack.create_connector(name, stack.connector_config("", **{
        "dynamodb.table.discovery.mode": "TAG", "aws.resource.tagging.endpoint": endpoint,
        "dynamodb.table.tag.filters": f"env:prod-{unique},staging-{unique}",
        "dynamodb.table.discovery.interval.ms": "1000"}))
    try:
        wait_until(lambda: stack.topic_size(t1) == ITEMS and stack.topic_size(t2) == ITEMS, 60,
                   "the two tagged tables' snapshots")
        assert stack.topic_size(t3) == 0 and assigned_tables(stack, name) == {t1, t2}

        moto.tag_resource(ResourceArn=arns[t3], Tags=[{"Key": "env", "Value": f"prod-{unique}"}])
        wait_until(lambda: stack.topic_size(t3) == ITEMS, 60, "the newly tagged table's snapshot")

        moto.untag_resource(ResourceArn=arns[t1], TagKeys=["env"])
        wait_until(lambda: assigned_tables(stack, name) == {t2, t3}, 60, "the untagged table to leave the tasks")
        kept = {o["partition"]["tableName"] for o in stack.offsets(name)}
    finally:
        stack.delete_connector(name)
    assert t1 in kept, "the untagged table's offsets were dropped"
    assert [stack.topic_size(t) for t in (t1, t2, t3)] == [ITEMS] * 3


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
