"""Secrets given to the connector never reach the worker log, whatever happens in a run."""

import requests

from tests.integration.conftest import wait_until


def test_secret_values_never_appear_in_the_worker_log(stack, unique):
    table = f"secrets_{unique}"
    ddb = stack.dynamodb()
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    for i in range(20):
        ddb.put_item(TableName=table, Item={"id": {"S": str(i)}})
    secrets = {"aws.access.key.id": f"AKIA{unique.upper()}", "aws.secret.access.key": f"aws-secret-{unique}",
               "kafka.api.key": f"kafka-key-{unique}", "kafka.api.secret": f"kafka-secret-{unique}"}
    good = stack.connector_config(table, **secrets)
    name = f"secrets-{unique}"
    # A refused configuration, a failing connector and a full snapshot run all pass through the logs.
    requests.put(f"{stack.connect_url}/connectors/{name}-bad/config", json={**good, "max.batch.size": "1"}, timeout=30)
    stack.create_connector(f"{name}-failing", {**good, "dynamodb.table.includelist": f"missing_{unique}"})
    stack.create_connector(name, good)
    try:
        wait_until(lambda: len(stack.read_topic(table)) == 20 if stack.topic_size(table) else False, 60,
                   "the snapshot of 20 items")
        wait_until(lambda: requests.get(f"{stack.connect_url}/connectors/{name}-failing/status", timeout=10)
                   .json()["tasks"][0]["state"] == "FAILED", 60, "the connector on a missing table to fail")
    finally:
        stack.delete_connector(name)
        stack.delete_connector(f"{name}-failing")
    log = stack.worker_log()
    assert f"missing_{unique}" in log  # the failure was logged...
    for prop, value in secrets.items():
        assert value not in log, f"{prop} appears in the worker log"  # ...without any secret
