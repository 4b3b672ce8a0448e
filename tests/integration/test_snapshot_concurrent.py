"""CONCURRENT snapshots: the table's change events flow while it is scanned, and the topic still replays, key by
key, to the table, with no ``r`` record over a newer change; also across a kill -9 of the worker mid-snapshot."""

from __future__ import annotations

import signal
import time
import uuid

import pytest

from tests.integration.conftest import wait_until
from tests.integration.replay import Changes, check_replay, own_worker, stop_run
from tests.integration.tables import create_table, load, scan_all
from tests.integration.workers import stored_offsets

pytestmark = pytest.mark.local_stack  # runs a worker of its own (this checkout's engine)

ITEMS = 1200
PAD = "p" * 1000  # ~1 KB items
PAGE = 25  # items per Scan page: a table holds at most 16 pages, so the scan waits on the stream
LOAD_AGE_S = 65  # DynamoDB Local's minute rounding plus the window's margin
READ_CAPACITY = 100  # at 50%: ~50 units/s; DynamoDB Local charges a consistent read a unit per item: ~25 s


def snapshot_keys(records):
    return {r.key["payload"]["id"] for r in records if r.value is not None and r.value["payload"]["op"] == "r"}


def completed_segments(rest, name):
    return sum(o["offset"].get("segmentCompleted") == "true" for o in rest.offsets(name))


@pytest.fixture(scope="module")
def loaded(stack):
    """The tests' tables, loaded together, so they wait out the load's age once: {test: (table, loaded at)}."""
    ddb = stack.dynamodb()
    out = {}
    for test in ("flow", "kill"):
        table = f"conc_{test}_{uuid.uuid4().hex[:8]}"
        create_table(ddb, table, [("id", "N")], read_capacity=READ_CAPACITY, stream_view="NEW_AND_OLD_IMAGES")
        load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}, "v": {"N": "0"}, "pad": {"S": PAD}})
        out[test] = (table, time.time())
    return out


def run_concurrent_snapshot(stack, tmp_path, unique, loaded_table, kill_after_records=None):
    table, loaded_s = loaded_table
    ddb = stack.dynamodb()
    initial = {item["id"]["N"]: item for item in scan_all(ddb, table)}
    rest, start = own_worker(stack, tmp_path, unique)
    name = f"conc-{unique}"
    changes = Changes(ddb, table, 7, ITEMS)
    worker = start(1)
    # The stream is read from a minute before the snapshot, and DynamoDB Local's minute timestamps leave out of the
    # pages every key written a minute before: a load that recent would leave the scan nearly nothing to emit.
    wait_until(lambda: time.time() > loaded_s + LOAD_AGE_S, LOAD_AGE_S + 5, "the load to be older than the window")
    try:
        rest.create_connector(name, stack.connector_config(table, **{
            "dynamodb.table.sync.mode": "SNAPSHOT_CDC", "dynamodb.snapshot.strategy": "CONCURRENT",
            "dynamodb.snapshot.max.rcu.percentage": "50", "dynamodb.snapshot.max.poll.records": str(PAGE),
            "max.batch.size": "200", "poll.linger.ms": "100"}))
        changes.start()
        if kill_after_records is not None:
            wait_until(lambda: stack.topic_size(table) > 0
                       and len(snapshot_keys(stack.read_topic(table))) >= kill_after_records, 120,
                       "the snapshot to be under way", interval_s=2)
            assert any("segment" in o["partition"] and o["offset"].get("exclusiveStartKey") for o in rest.offsets(name))
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
            done = {p["segment"] for p, o in stored_offsets(stack.bootstrap, f"conc-{unique}-offsets", name)
                    if "segment" in p and o.get("segmentCompleted") == "true"}
            assert len(done) < 5, "the snapshot completed before the kill: nothing was tested"
            worker = start(2)
        wait_until(lambda: completed_segments(rest, name) == 5, 150, "the concurrent snapshot to complete")
        changes.halt.set()
        changes.join(10)
        ddb.put_item(TableName=table, Item={"id": {"N": "999999"}, "v": {"N": "0"}})
        wait_until(lambda: any(r.key["payload"]["id"] == "999999" for r in stack.read_topic(table)), 120,
                   "the last change to arrive")
        records = stack.read_topic(table)
    finally:
        stop_run(changes, rest, name, worker)
    final = {item["id"]["N"]: item for item in scan_all(ddb, table)}
    ops = check_replay(records, initial, final)
    last_snapshot = max(i for i, (op, _) in enumerate(ops) if op == "r")
    first_change = min(i for i, (op, _) in enumerate(ops) if op in ("c", "u", "d"))
    snapshotted = {k for op, k in ops if op == "r"}
    print(f"{len(records)} records, {len(snapshotted)} keys snapshotted, {changes.count} changes made, "
          f"first change at {first_change}, last r at {last_snapshot}")
    assert first_change < last_snapshot, "no change event reached Kafka before the snapshot's end"
    changed = {op_key for op, op_key in ops if op in ("c", "u", "d")}
    assert all(k in snapshotted or k in changed for k in initial), "a key is in neither the snapshot nor a change"
    return records


def test_changes_flow_during_a_concurrent_snapshot_and_the_topic_replays_to_the_table(stack, unique, tmp_path, loaded):
    run_concurrent_snapshot(stack, tmp_path, unique, loaded["flow"])


def test_a_worker_killed_mid_concurrent_snapshot_resumes_scan_and_stream(stack, unique, tmp_path, loaded):
    records = run_concurrent_snapshot(stack, tmp_path, unique, loaded["kill"], kill_after_records=200)
    starts = {r.value["payload"]["source"]["snapshotStartTime"] for r in records
              if r.value is not None and r.value["payload"]["op"] == "r"}
    assert len(starts) == 1, "the restart began a new snapshot instead of resuming"
