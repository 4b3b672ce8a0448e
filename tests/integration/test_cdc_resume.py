"""kill -9 of the worker while changes flow, then a restart: no change lost, and the only repeats are the
changes Connect had not committed when the worker died. Two tables over two tasks: their leases give each
task one table's shard."""

import signal
import threading

import pytest

from python_connector.streams import leases
from tests.integration.conftest import Stack, wait_until
from tests.integration.tables import create_table
from tests.integration.workers import free_port, start_launched, stored_offsets, wait_for_rest, worker_properties

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own

CHANGES = 1500


def write_changes(ddb, table, done):
    for i in range(CHANGES):
        ddb.put_item(TableName=table, Item={"id": {"N": str(i)}, "pad": {"S": "c" * 200}})
    done.set()


def lease_tables(rest, tables):
    """Each table's lease table, as its TypeA offset names it (None until Connect stored it)."""
    named = {o["partition"]["tableName"]: o["offset"].get("leaseTable") for o in rest.offsets("cdc")
             if o["partition"].get("cdcStarted")}
    return {t: named.get(t) for t in tables}


def lease_item(ddb, lease_table):
    """The lease of the table's (only) shard."""
    items = ddb.scan(TableName=lease_table, ConsistentRead=True)["Items"]
    assert len(items) == 1
    return items[0]


def lease_owner(ddb, lease_table):
    """The task holding the lease (its owner id less the instance suffix)."""
    return lease_item(ddb, lease_table).get("leaseOwner", {}).get("S", "").rsplit("-", 1)[0] or None


def test_a_killed_worker_loses_no_change_and_repeats_only_the_uncommitted(stack, unique, tmp_path):
    ddb = stack.dynamodb()
    tables = [f"cdckill{n}_{unique}" for n in range(2)]
    for table in tables:
        create_table(ddb, table, [("id", "N")], stream_view="NEW_AND_OLD_IMAGES")
    group, port = f"cdckill-{unique}", free_port()
    url = f"http://127.0.0.1:{port}"
    props = worker_properties(tmp_path / "worker.properties", stack.bootstrap, port, group)
    rest = Stack(stack.dynamodb_endpoint, stack.bootstrap, url)
    worker = start_launched(props, tmp_path / "run1.log")
    writers = []
    try:
        wait_for_rest(worker, url, tmp_path / "run1.log")
        rest.create_connector("cdc", stack.connector_config(",".join(tables), **{
            "dynamodb.table.sync.mode": "CDC", "tasks.max": "2", "poll.linger.ms": "50", "max.batch.size": "100"}))
        for table in tables:
            done = threading.Event()
            threading.Thread(target=write_changes, args=(ddb, table, done), daemon=True).start()
            writers.append(done)
        wait_until(lambda: stack.topic_size(tables[0]) >= CHANGES // 3, 120, "changes to be flowing")
        # tasks.max=2: the leases share the two tables' shards out, one to each task.
        named = wait_until(lambda: all((found := lease_tables(rest, tables)).values()) and found, 60,
                           "TypeA offsets naming the lease tables")
        wait_until(lambda: len({lease_owner(ddb, named[t]) for t in tables} - {None}) == 2, 60,
                   "each task to hold one table's shard")
        tasks = rest.status("cdc")["tasks"]
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        written_before_kill = {t: stack.topic_size(t) for t in tables}
        committed = {}
        for partition, offset in stored_offsets(stack.bootstrap, f"{group}-offsets", "cdc"):
            if "shardId" in partition:
                committed[partition["tableName"]] = offset["sequenceNumber"]  # one shard per table here
        # A restart resumes after the further of Connect's offset and the lease checkpoint.
        for table in tables:
            committed[table] = leases.further(lease_item(ddb, named[table])["checkpoint"]["S"],
                                              committed.get(table))
        assert written_before_kill[tables[0]] < CHANGES, "all changes were through before the kill"

        worker = start_launched(props, tmp_path / "run2.log")
        wait_for_rest(worker, url, tmp_path / "run2.log")
        for done in writers:
            done.wait(120)
        wait_until(lambda: all(len({r.key["payload"]["id"] for r in stack.read_topic(t)}) == CHANGES
                               for t in tables), 180, "every change of both tables in Kafka")
    finally:
        worker.kill()
        worker.wait(30)

    assert len(tasks) == 2
    for table in tables:
        records = stack.read_topic(table)
        before = records[:written_before_kill[table]]
        seqs = [r.value["payload"]["source"]["seq_No"] for r in before]
        last = committed.get(table)
        expected_again = seqs[seqs.index(last) + 1:] if last in seqs else seqs
        again = [r.value["payload"]["source"]["seq_No"] for r in records[written_before_kill[table]:]
                 if r.value["payload"]["source"]["seq_No"] in set(seqs)]
        print(f"{table}: {len(before)} before the kill, {len(again)} repeated, {len(expected_again)} uncommitted")
        assert again == expected_again
        assert sorted(int(r.key["payload"]["id"]) for r in records) == sorted(
            [*range(CHANGES), *(int(r.key["payload"]["id"]) for r in before if
                                r.value["payload"]["source"]["seq_No"] in set(expected_again))])
