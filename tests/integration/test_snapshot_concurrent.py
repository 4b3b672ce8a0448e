"""CONCURRENT snapshots: the table's change events flow while it is scanned, and the topic still replays, key by
key, to the table, with no ``r`` record over a newer change; also across a kill -9 of the worker mid-snapshot."""

from __future__ import annotations

import random
import signal
import threading

import orjson
import pytest

from tests.integration.conftest import Stack, wait_until
from tests.integration.tables import create_table, load, scan_all
from tests.integration.workers import free_port, start_launched, stored_offsets, wait_for_rest, worker_properties

pytestmark = pytest.mark.local_stack  # runs a worker of its own (this checkout's engine)

ITEMS = 2000
PAD = "p" * 1000  # ~1 KB items: a consistent Scan of the table costs ~500 read units
READ_CAPACITY = 40  # at 50%: ~20 units/s, so the snapshot takes about 25 s


class Changes(threading.Thread):
    """Puts of new keys, updates (some keys many times) and deletes, until stopped."""

    def __init__(self, ddb, table, seed):
        super().__init__(daemon=True)
        self.ddb, self.table, self.rnd = ddb, table, random.Random(seed)
        self.halt = threading.Event()
        self.next_id = ITEMS
        self.count = 0

    def run(self):
        hot = [self.rnd.randrange(ITEMS) for _ in range(20)]
        while not self.halt.is_set():
            roll = self.rnd.random()
            if roll < 0.25:
                self.ddb.put_item(TableName=self.table, Item={"id": {"N": str(self.next_id)}, "v": {"N": "0"}})
                self.next_id += 1
            elif roll < 0.85:
                key = self.rnd.choice(hot) if self.rnd.random() < 0.5 else self.rnd.randrange(self.next_id)
                self.ddb.update_item(TableName=self.table, Key={"id": {"N": str(key)}}, UpdateExpression="ADD v :one",
                                     ExpressionAttributeValues={":one": {"N": "1"}})
            else:
                self.ddb.delete_item(TableName=self.table, Key={"id": {"N": str(self.rnd.randrange(self.next_id))}})
            self.count += 1
            self.halt.wait(0.02)


def own_worker(stack, tmp_path, unique):
    group, port = f"conc-{unique}", free_port()
    url = f"http://127.0.0.1:{port}"
    props = worker_properties(tmp_path / "worker.properties", stack.bootstrap, port, group)

    def start(run):
        log = tmp_path / f"run{run}.log"
        worker = start_launched(props, log)
        wait_for_rest(worker, url, log)
        return worker

    return Stack(stack.dynamodb_endpoint, stack.bootstrap, url), start


def completed_segments(rest, name):
    return sum(o["offset"].get("segmentCompleted") == "true" for o in rest.offsets(name))


def check_replay(records, initial, final):
    """Replays the topic by key from the loaded items: every ``r`` record is the state its key's records before
    it give (nothing newer overwritten, nothing unemitted shown), change events of a key come in sequence order
    (a change read again after a restart repeats an earlier one), and the end state is the table's."""
    state = dict(initial)
    seen_seq: dict[str, list[int]] = {}
    ops = []
    for i, r in enumerate(records):
        key = r.key["payload"]["id"]
        if r.value is None:
            assert ops[-1] == ("d", key), f"tombstone at {i} does not follow a delete of {key}"
            ops.append(("tombstone", key))
            continue
        p = r.value["payload"]
        ops.append((p["op"], key))
        if p["op"] == "r":
            document = orjson.loads(p["after"]["document"])
            assert state.get(key) == document, f"r record at {i} of {key} is not the state of its changes before it"
            continue
        seq = int(p["source"]["seq_No"])
        earlier = seen_seq.setdefault(key, [])
        assert not earlier or seq > earlier[-1] or seq in earlier, f"change {seq} of {key} out of order at {i}"
        if not earlier or seq > earlier[-1]:
            earlier.append(seq)
        if p["op"] == "d":
            state.pop(key, None)
        else:
            state[key] = orjson.loads(p["after"]["document"])
    assert state == final
    return ops


def run_concurrent_snapshot(stack, tmp_path, unique, kill_after_records=None):
    table = f"conc_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "N")], read_capacity=READ_CAPACITY, stream_view="NEW_AND_OLD_IMAGES")
    load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}, "v": {"N": "0"}, "pad": {"S": PAD}})
    initial = {item["id"]["N"]: item for item in scan_all(ddb, table)}
    rest, start = own_worker(stack, tmp_path, unique)
    name = f"conc-{unique}"
    changes = Changes(ddb, table, 7)
    worker = start(1)
    try:
        rest.create_connector(name, stack.connector_config(table, **{
            "dynamodb.table.sync.mode": "SNAPSHOT_CDC", "dynamodb.snapshot.strategy": "CONCURRENT",
            "dynamodb.snapshot.max.rcu.percentage": "50", "dynamodb.snapshot.max.poll.records": "100",
            "max.batch.size": "200", "poll.linger.ms": "100"}))
        changes.start()
        if kill_after_records is not None:
            wait_until(lambda: stack.topic_size(table) >= kill_after_records, 120, "the snapshot to be under way")
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
        changes.halt.set()
        rest.delete_connector(name)
        worker.kill()
        worker.wait(30)
    final = {item["id"]["N"]: item for item in scan_all(ddb, table)}
    ops = check_replay(records, initial, final)
    last_snapshot = max(i for i, (op, _) in enumerate(ops) if op == "r")
    first_change = min(i for i, (op, _) in enumerate(ops) if op in ("c", "u", "d"))
    snapshot_keys = {k for op, k in ops if op == "r"}
    print(f"{len(records)} records, {len(snapshot_keys)} keys snapshotted, {changes.count} changes made, "
          f"first change at {first_change}, last r at {last_snapshot}")
    assert first_change < last_snapshot, "no change event reached Kafka before the snapshot's end"
    changed = {op_key for op, op_key in ops if op in ("c", "u", "d")}
    assert all(k in snapshot_keys or k in changed for k in initial), "a key is in neither the snapshot nor a change"
    return records


def test_changes_flow_during_a_concurrent_snapshot_and_the_topic_replays_to_the_table(stack, unique, tmp_path):
    run_concurrent_snapshot(stack, tmp_path, unique)


def test_a_worker_killed_mid_concurrent_snapshot_resumes_scan_and_stream(stack, unique, tmp_path):
    records = run_concurrent_snapshot(stack, tmp_path, unique, kill_after_records=800)
    starts = {r.value["payload"]["source"]["snapshotStartTime"] for r in records
              if r.value is not None and r.value["payload"]["op"] == "r"}
    assert len(starts) == 1, "the restart began a new snapshot instead of resuming"
