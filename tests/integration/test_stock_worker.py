"""The plugin in a stock Kafka Connect worker (plain `java`, no launcher): the engine runs in Python child processes
the plugin starts, supervises and stops; installed from the packaged archive and its wheel as the README says."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import jpype
import pytest
import requests

from python_connector.metrics.tables import ATTRIBUTES
from tests.integration import jvm
from tests.integration.conftest import Stack, wait_until
from tests.integration.tables import create_table, load, replay_by_key, state_by_key
from tests.integration.workers import StockWorker, running

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own

ITEMS = 300
CDC = {"dynamodb.table.sync.mode": "CDC", "poll.linger.ms": "100"}


def change(ddb, table, first, count):
    """Inserts ``count`` items from id ``first``, updates the first of them and deletes the second."""
    for i in range(first, first + count):
        ddb.put_item(TableName=table, Item={"id": {"N": str(i)}, "v": {"N": "0"}})
    ddb.update_item(TableName=table, Key={"id": {"N": str(first)}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "7"}})
    ddb.delete_item(TableName=table, Key={"id": {"N": str(first + 1)}})


def replays_to_table(stack, table):
    """Whether replaying the topic by key gives the table (False before the topic exists)."""
    return stack.topic_size(table) > 0 and replay_by_key(stack.read_topic(table), "id") == state_by_key(
        stack.dynamodb(), table, "id")


def validation_errors(url, config):
    """Connect's validation of a configuration: {property: [errors]} for those with errors."""
    validated = requests.put(f"{url}/connector-plugins/DynamoDbCdcSource/config/validate", json=config, timeout=60)
    values = [c["value"] for c in validated.json()["configs"] if c.get("value")]
    return {v["name"]: v["errors"] for v in values if v["errors"]}


def task_state(rest, name):
    tasks = rest.status(name).get("tasks", [])
    return tasks[0] if tasks else {}


def mbean(jmx_port, connector, table):
    """The table's engine metrics MBean read over remote JMX, as a JMX scraper would; None until registered."""
    jvm.start()
    remote = jpype.JPackage("javax.management.remote")
    client = remote.JMXConnectorFactory.connect(
        remote.JMXServiceURL(f"service:jmx:rmi:///jndi/rmi://127.0.0.1:{jmx_port}/jmxrmi"))
    try:
        server = client.getMBeanServerConnection()
        name = jpype.JClass("javax.management.ObjectName")(
            f'kafka.connect:type=dynamodb-cdc-table-metrics,connector="{connector}",table="{table}"')
        if not server.isRegistered(name):
            return None
        values = {a: server.getAttribute(name, a) for a in ATTRIBUTES}
        return {a: str(v) if a == "phase" else float(v) for a, v in values.items()}
    finally:
        client.close()


def test_snapshot_cdc_offsets_and_jmx_metrics_in_a_stock_worker(stack, unique, tmp_path, stock_install):
    table = f"stock_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "N")], stream_view="NEW_AND_OLD_IMAGES")
    load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}, "v": {"N": "0"}})
    worker = StockWorker(tmp_path, stack.bootstrap, stock_install, f"stock-{unique}")
    rest = Stack(stack.dynamodb_endpoint, stack.bootstrap, worker.url)
    name = "stock"
    try:
        rest.create_connector(name, stack.connector_config(table, **{
            "dynamodb.table.sync.mode": "SNAPSHOT_CDC", "poll.linger.ms": "100"}))
        wait_until(lambda: sum(o["offset"].get("segmentCompleted") == "true" for o in rest.offsets(name)) == 5,
                   120, "the snapshot to complete, in Connect's offsets")
        assert len(replay_by_key(stack.read_topic(table), "id")) == ITEMS
        assert replays_to_table(stack, table)

        change(ddb, table, ITEMS, 20)
        wait_until(lambda: replays_to_table(stack, table), 120, "the changes to replay to the table")
        wait_until(lambda: any("shardId" in o["partition"] for o in rest.offsets(name)), 60,
                   "the shard position in Connect's offsets")

        metrics = wait_until(lambda: (m := mbean(worker.jmx_port, name, table)) and m["cdc-records"] >= 22 and m,
                             60, "the table's MBean over JMX with the changes counted")
        assert metrics["snapshot-records"] == ITEMS and metrics["phase"] == "cdc"
        assert metrics["snapshot-items-read"] == ITEMS and metrics["leases-owned"] == 1

        engines = worker.engine_pids()
        assert len(engines) == 2  # the connector side's and the task's
        assert requests.put(f"{worker.url}/connectors/{name}/stop", timeout=30).status_code in (202, 204)
        wait_until(lambda: rest.status(name)["connector"]["state"] == "STOPPED", 60, "the connector to stop")
        wait_until(lambda: len(worker.engine_pids()) == 1, 30, "the task's engine process to end with the task")
        deleted = requests.delete(f"{worker.url}/connectors/{name}/offsets", timeout=60)
        assert deleted.status_code == 200, deleted.text
        assert rest.offsets(name) == []
        wait_until(lambda: mbean(worker.jmx_port, name, table) is None, 30, "the MBean to go with its task")
    finally:
        worker.stop()


def test_a_killed_or_silent_engine_fails_its_task_clearly_a_restart_resumes_and_a_killed_worker_leaves_no_engine(
        stack, unique, tmp_path, stock_install):
    table = f"stockkill_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "N")], stream_view="NEW_AND_OLD_IMAGES")
    worker = StockWorker(tmp_path, stack.bootstrap, stock_install, f"stockkill-{unique}")
    rest = Stack(stack.dynamodb_endpoint, stack.bootstrap, worker.url)
    name = "kill"
    config = stack.connector_config(table, **CDC)
    try:
        requests.put(f"{worker.url}/connector-plugins/DynamoDbCdcSource/config/validate", json={**config, "name": name},
                     timeout=60).raise_for_status()
        (connector_side,) = worker.engine_pids()
        rest.create_connector(name, config)
        change(ddb, table, 0, 30)
        wait_until(lambda: replays_to_table(stack, table), 120, "the first changes")
        (task_engine,) = worker.engine_pids() - {connector_side}

        os.kill(task_engine, signal.SIGKILL)
        change(ddb, table, 100, 30)
        failed = wait_until(lambda: (t := task_state(rest, name)).get("state") == "FAILED" and t, 60,
                            "the task to fail")
        assert f"engine process pid {task_engine}" in failed["trace"]
        assert "was killed by signal 9 (SIGKILL)" in failed["trace"]

        restarted = requests.post(f"{worker.url}/connectors/{name}/restart?includeTasks=true", timeout=60)
        assert restarted.status_code in (200, 202, 204), restarted.text
        wait_until(lambda: task_state(rest, name).get("state") == "RUNNING", 60, "the task to run again")
        change(ddb, table, 200, 30)
        wait_until(lambda: replays_to_table(stack, table), 180, "every change, across the restart")
        assert task_engine not in worker.engine_pids()

        (silent,) = worker.engine_pids() - {connector_side}
        os.kill(silent, signal.SIGSTOP)  # alive, but answers nothing
        failed = wait_until(lambda: (t := task_state(rest, name)).get("state") == "FAILED" and t, 120,
                            "the silent engine's task to fail")
        assert f"engine process pid {silent}" in failed["trace"]
        assert "did not answer a health check within 60 s, so the plugin killed it" in failed["trace"]
        assert not running(silent)
        requests.post(f"{worker.url}/connectors/{name}/restart?includeTasks=true", timeout=60).raise_for_status()
        wait_until(lambda: task_state(rest, name).get("state") == "RUNNING", 60, "the task to run once more")

        engines = worker.engine_pids()
        assert len(engines) == 2
        worker.kill()
        wait_until(lambda: not any(running(pid) for pid in engines), 30, "the engine processes to exit")
    finally:
        worker.stop()


def test_an_interpreter_without_the_engine_or_with_another_version_or_in_process_mode_are_refused_saying_why(
        stack, unique, tmp_path, stock_install):
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    worker = StockWorker(tmp_path, stack.bootstrap, stock_install, f"stockbare-{unique}")
    config = {**stack.connector_config(f"bare_{unique}"), "name": "bare"}
    try:
        listed = requests.get(f"{worker.url}/connector-plugins/DynamoDbCdcSource/config", timeout=60).json()
        assert {"engine.mode", "engine.python", "dynamodb.table.sync.mode"} <= {p["name"] for p in listed}
        errors = validation_errors(worker.url, {**config, "dynamodb.table.sync.mode": "NOPE"})
        assert list(errors) == ["dynamodb.table.sync.mode"] and "got 'NOPE'" in errors["dynamodb.table.sync.mode"][0]

        errors = validation_errors(worker.url, {**config, "engine.python": str(bare / "bin" / "python")})
        (message,) = errors["engine.python"]
        assert f"Python '{bare / 'bin' / 'python'}' (engine.python)" in message
        assert "No module named 'python_connector'" in message
        assert f"{bare / 'bin' / 'python'} -m pip install {stock_install.wheel}" in message

        created = requests.put(f"{worker.url}/connectors/bare/config",
                               json={**config, "engine.python": str(bare / "bin" / "python")}, timeout=60)
        assert created.status_code == 400 and "No module named 'python_connector'" in created.json()["message"]

        older = tmp_path / "older-engine"  # the installed engine, saying it is another version
        older.write_text(f"#!/bin/sh\nexec '{stock_install.python}' -c 'import sys; from python_connector.engine "
                         "import Engine; from python_connector.process import server; server.version = lambda: "
                         "\"0.0.9\"; sys.exit(server.run(Engine()))'\n")
        older.chmod(0o755)
        errors = validation_errors(worker.url, {**config, "engine.python": str(older)})
        assert "is version 0.0.9, but this plugin is version 0.1.0" in errors["engine.python"][0]
        assert f"{older} -m pip install {stock_install.wheel}" in errors["engine.python"][0]

        errors = validation_errors(worker.url, {**config, "engine.mode": "in-process"})
        assert "not started by the launcher" in errors["engine.mode"][0]
    finally:
        worker.stop()
