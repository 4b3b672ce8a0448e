"""SIGTERM/SIGINT to the launcher stops Connect the normal way and exits 0, even mid-snapshot."""

import signal

import pytest

from tests.integration.conftest import wait_until
from tests.integration.tables import create_table, load
from tests.integration.workers import free_port, start_launched, stored_offsets, wait_for_rest, worker_properties

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own

ITEMS = 30_000


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_snapshot_stops_connect_cleanly_and_exits_zero(stack, unique, tmp_path, signum):
    table = f"shutdown_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")])
    load(ddb, table, ITEMS, lambda i: {"id": {"S": f"{i:08d}"}, "pad": {"S": "x" * 200}})
    group = f"shutdown-{unique}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "worker.log"
    worker = start_launched(worker_properties(tmp_path / "worker.properties", stack.bootstrap, port, group), log)
    try:
        wait_for_rest(worker, url, log)
        rest = type(stack)(stack.dynamodb_endpoint, stack.bootstrap, url)
        rest.create_connector("busy", stack.connector_config(table, **{
            "tasks.max": "2", "max.batch.size": "100", "poll.linger.ms": "5000",
            "dynamodb.snapshot.max.poll.records": "50"}))
        wait_until(lambda: rest.topic_size(table) >= 2000, 120, "the snapshot to be under way")
        worker.send_signal(signum)
        code = worker.wait(90)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert code == 0, log.read_text()[-3000:]
    committed = stored_offsets(stack.bootstrap, f"{group}-offsets", "busy")
    assert committed, "no offsets were flushed on shutdown"
    assert {p["tableName"] for p, _ in committed} == {table}
