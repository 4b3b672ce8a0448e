"""The plugin in a worker not started by our launcher says how to run the worker, at once."""

import pytest
import requests

from tests.integration.workers import free_port, start_stock_standalone, wait_for_rest, worker_properties

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own

MESSAGE = "needs a Kafka Connect worker started by its launcher: `ddb-cdc worker"


def test_a_stock_worker_lists_the_plugin_but_refuses_the_connector_with_a_clear_message(stack, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "stock-worker.log"
    worker = start_stock_standalone(worker_properties(tmp_path / "worker.properties", stack.bootstrap, port, None), log)
    try:
        wait_for_rest(worker, url, log)
        plugins = requests.get(f"{url}/connector-plugins", timeout=10).json()
        assert any(p["class"].endswith("DynamoDbCdcSourceConnector") for p in plugins)

        config = {"connector.class": "DynamoDbCdcSource", "dynamodb.table.includelist": "orders"}
        created = requests.put(f"{url}/connectors/stock/config", json=config, timeout=30)
        assert created.status_code == 400
        assert MESSAGE in created.json()["message"]

        validated = requests.put(f"{url}/connector-plugins/DynamoDbCdcSource/config/validate",
                                 json={**config, "name": "stock"}, timeout=30).json()
        errors = [e for v in validated["configs"] for e in v["value"]["errors"]]
        assert any(MESSAGE in e for e in errors)
    finally:
        worker.terminate()
        worker.wait(60)
