"""A valid setting whose feature is not built yet fails the connector at start with a clear message."""

import requests

from tests.integration.conftest import wait_until


def test_snapshot_cdc_is_refused_at_start_naming_what_to_set(stack, unique):
    name = f"unbuilt-{unique}"
    stack.create_connector(name, stack.connector_config(f"unbuilt_{unique}",
                                                        **{"dynamodb.table.sync.mode": "SNAPSHOT_CDC"}))
    try:
        status = wait_until(lambda: (s := requests.get(f"{stack.connect_url}/connectors/{name}/status",
                                                       timeout=10).json()).get("connector", {}).get("state")
                            == "FAILED" and s, 60, "the connector to fail")
    finally:
        stack.delete_connector(name)
    assert "set dynamodb.table.sync.mode=SNAPSHOT" in status["connector"]["trace"]
