"""A worker of this checkout's engine, changes made while a connector runs, and replaying a topic by key to check
it against the table."""

from __future__ import annotations

import random
import threading

import orjson

from tests.integration.conftest import Stack
from tests.integration.workers import free_port, start_launched, wait_for_rest, worker_properties


def own_worker(stack, tmp_path, unique):
    """A distributed worker of its own (group conc-<unique>); (its REST API as a Stack, start(run) -> process)."""
    group, port = f"conc-{unique}", free_port()
    url = f"http://127.0.0.1:{port}"
    props = worker_properties(tmp_path / "worker.properties", stack.bootstrap, port, group)

    def start(run):
        log = tmp_path / f"run{run}.log"
        worker = start_launched(props, log)
        wait_for_rest(worker, url, log)
        return worker

    return Stack(stack.dynamodb_endpoint, stack.bootstrap, url), start


class Changes(threading.Thread):
    """Puts of new keys, updates (some keys many times) and deletes, until stopped."""

    def __init__(self, ddb, table, seed, items):
        super().__init__(daemon=True)
        self.ddb, self.table, self.rnd = ddb, table, random.Random(seed)
        self.halt = threading.Event()
        self.items = items
        self.next_id = items
        self.count = 0

    def run(self):
        hot = [self.rnd.randrange(self.items) for _ in range(20)]
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


def stop_run(changes, rest, name, worker):
    """The end of a test's run, whatever happened: no more changes, the connector gone, its worker killed."""
    changes.halt.set()
    rest.delete_connector(name)
    worker.kill()
    worker.wait(30)
