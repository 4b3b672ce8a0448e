"""The packaged plugin installs like any Connect plugin: archive into a fresh plugin.path, wheel into a fresh
virtualenv (the session's stock_install), and a connector runs from them in a worker started by the installed
launcher, its engine in-process."""

import pytest
import requests

from tests.integration.conftest import Stack, wait_until
from tests.integration.registry import Registry
from tests.integration.tables import create_table, load
from tests.integration.workers import free_port, start_launched, wait_for_rest, worker_properties

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own

AVRO = "io.ddbcdc.connect.converters.AvroConverter"


def test_the_archive_and_wheel_install_into_a_fresh_worker_and_run_a_connector(stack, unique, tmp_path,
                                                                               stock_install):
    plugins = stock_install.plugins
    (unpacked,) = plugins.iterdir()
    assert {p.name for p in unpacked.iterdir()} == {"manifest.json", "lib", "wheel", "doc", "etc"}

    table = f"packaged_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")])
    load(ddb, table, 30, lambda i: {"id": {"S": f"k{i}"}})
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "worker.log"
    props = worker_properties(tmp_path / "worker.properties", stack.bootstrap, port, f"pkg-{unique}", plugins)
    # The installed command, run outside the checkout: the engine can only come from the wheel.
    worker = start_launched(props, log, launcher=[str(stock_install.python.parent / "ddb-cdc")])
    try:
        wait_for_rest(worker, url, log)
        plugins_listed = requests.get(f"{url}/connector-plugins", timeout=10).json()
        assert {"class": "io.ddbcdc.connect.DynamoDbCdcSourceConnector", "type": "source",
                "version": "0.1.0"} in plugins_listed
        converters = requests.get(f"{url}/connector-plugins?connectorsOnly=false", timeout=10).json()
        assert {"class": AVRO, "type": "converter", "version": "0.1.0"} in converters
        registry = {"schema.registry.url": stack.schema_registry_url}
        Stack(stack.dynamodb_endpoint, stack.bootstrap, url).create_connector("packaged", stack.connector_config(
            table, **{"key.converter": AVRO, "value.converter": AVRO, "output.data.format": "AVRO",
                      **{f"{side}.converter.{k}": v for side in ("key", "value") for k, v in registry.items()}}))
        wait_until(lambda: stack.topic_size(table) == 30, 60, "the snapshot through the installed plugin")
        first = stack.read_topic(table, decode=lambda b: b)[0]
        assert Registry(stack.schema_registry_url).decode("AVRO", first.value)[1]["source"]["tableName"] == table
    finally:
        worker.terminate()
        worker.wait(60)
