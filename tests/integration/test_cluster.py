"""Two workers in one Connect group, both hosted by our launcher: the tasks spread over them; kill -9 of one
moves its shard leases to the other within the lease timeout and its tasks after the rebalance delay, and no
change is lost. Pause/resume and restarts of a task and of the connector through the REST API go on where they
were."""

import signal
import threading

import pytest
import requests

from python_connector.streams import leases
from tests.integration.conftest import Stack, wait_until
from tests.integration.tables import create_table
from tests.integration.workers import free_port, start_launched, wait_for_rest, worker_properties

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own

CHANGES = 600
# Connect waits this long for a departed worker to come back before reassigning its tasks (default 5 minutes).
REBALANCE_DELAY_MS = 10_000


def write_changes(ddb, table, pace, done):
    for i in range(CHANGES):
        ddb.put_item(TableName=table, Item={"id": {"N": str(i)}})
        pace.wait(0.02)
    done.set()


def distinct_ids(stack, table):
    return {r.key["payload"]["id"] for r in stack.read_topic(table)}


def test_a_killed_worker_hands_its_shards_and_tasks_to_the_other_and_nothing_is_lost(stack, unique, tmp_path):
    ddb = stack.dynamodb()
    tables = [f"cluster{n}_{unique}" for n in range(2)]
    for table in tables:
        create_table(ddb, table, [("id", "N")], stream_view="NEW_AND_OLD_IMAGES")
    group = f"cluster-{unique}"
    workers, rests = [], []
    for n in range(2):
        port = free_port()
        props = worker_properties(tmp_path / f"worker{n}.properties", stack.bootstrap, port, group,
                                  extra=[f"scheduled.rebalance.max.delay.ms={REBALANCE_DELAY_MS}",
                                         "rest.advertised.host.name=127.0.0.1", f"rest.advertised.port={port}"])
        workers.append(start_launched(props, tmp_path / f"worker{n}.log"))
        rests.append(Stack(stack.dynamodb_endpoint, stack.bootstrap, f"http://127.0.0.1:{port}"))
    pace, writers = threading.Event(), []
    try:
        for n, worker in enumerate(workers):
            wait_for_rest(worker, rests[n].connect_url, tmp_path / f"worker{n}.log")
        rest = rests[0]
        rest.create_connector("c", stack.connector_config(",".join(tables), **{
            "dynamodb.table.sync.mode": "CDC", "tasks.max": "2", "poll.linger.ms": "50"}))
        placed = wait_until(lambda: (tasks := rest.status("c").get("tasks", [])) and len(tasks) == 2 and
                            all(t["state"] == "RUNNING" for t in tasks) and tasks, 120, "both tasks running")
        assert len({t["worker_id"] for t in placed}) == 2, "the tasks share one worker"
        for table in tables:
            done = threading.Event()
            threading.Thread(target=write_changes, args=(ddb, table, pace, done), daemon=True).start()
            writers.append(done)
        wait_until(lambda: all(stack.topic_size(t) >= CHANGES // 4 for t in tables), 120,
                   "changes flowing on both tables")

        orphaned = placed[1]["id"]
        victim = next(n for n, r in enumerate(rests) if r.connect_url.endswith(placed[1]["worker_id"].split(":")[-1]))
        survivor = rests[1 - victim]
        workers[victim].send_signal(signal.SIGKILL)
        workers[victim].wait(30)
        lease_tables = {o["partition"]["tableName"]: o["offset"]["leaseTable"] for o in survivor.offsets("c")
                        if o["partition"].get("cdcStarted")}

        def owners():
            return {ddb.scan(TableName=lease_tables[t], ConsistentRead=True)["Items"][0].get("leaseOwner", {})
                    .get("S", "").split("-")[-2] for t in tables}

        # Within the lease timeout (and well before Connect moves the task) the survivor's task reads both.
        wait_until(lambda: len(owners()) == 1, leases.LEASE_DURATION_S + 3 * leases.RENEW_S + 10,
                   "the survivor's task to take the dead task's shard")
        for done in writers:
            assert done.wait(120)
        wait_until(lambda: all(len(distinct_ids(stack, t)) == CHANGES for t in tables), 120,
                   "every change of both tables in Kafka")
        # Connect then restarts the dead worker's task on the survivor.
        wait_until(lambda: [t["worker_id"] for t in survivor.status("c")["tasks"] if t["id"] == orphaned and
                            t["state"] == "RUNNING"], REBALANCE_DELAY_MS / 1000 + 60, "the task to move")

        # Pause, write, resume: the changes made while paused arrive; a task restart goes on where it was.
        url = survivor.connect_url
        assert requests.put(f"{url}/connectors/c/pause", timeout=30).status_code == 202
        wait_until(lambda: survivor.status("c")["connector"]["state"] == "PAUSED", 60, "the pause")
        ddb.put_item(TableName=tables[0], Item={"id": {"N": str(CHANGES)}})
        assert requests.put(f"{url}/connectors/c/resume", timeout=30).status_code == 202
        wait_until(lambda: len(distinct_ids(stack, tables[0])) == CHANGES + 1, 60, "the change made while paused")
        assert requests.post(f"{url}/connectors/c/tasks/0/restart", timeout=30).status_code in (200, 202, 204)
        ddb.put_item(TableName=tables[1], Item={"id": {"N": str(CHANGES)}})
        wait_until(lambda: len(distinct_ids(stack, tables[1])) == CHANGES + 1, 60, "a change after the restart")
        restart = requests.post(f"{url}/connectors/c/restart?includeTasks=true", timeout=30)
        assert restart.status_code in (200, 202, 204), restart.text
        ddb.put_item(TableName=tables[0], Item={"id": {"N": str(CHANGES + 1)}})
        wait_until(lambda: len(distinct_ids(stack, tables[0])) == CHANGES + 2, 60,
                   "a change after the connector's restart")
    finally:
        pace.set()
        for worker in workers:
            worker.kill()
            worker.wait(30)
