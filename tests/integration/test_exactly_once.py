"""kill -9 of the worker 5 times at random moments of a SNAPSHOT_CDC run with changes flowing, restarting it
each time. With exactly-once source support (KIP-618) a read_committed consumer sees every snapshot item and
every change exactly once; without it nothing is lost, and the duplicates are counted and reported. The same holds
in a stock worker, whose engine runs in child processes that die with it."""

import random
import signal
import threading
import time
from collections import Counter

import orjson
import pytest
from botocore.credentials import Credentials
from confluent_kafka import Consumer, TopicPartition

from python_connector.aws.client import JsonClient
from python_connector.records.envelope import created_ms
from python_connector.streams.dynamodb import STREAMS_TARGET, list_shards
from python_connector.streams.generations import HANDOVER_MARGIN_MS
from tests.integration.conftest import Stack, wait_until
from tests.integration.tables import create_table, load
from tests.integration.workers import (
    PLUGINS,
    children,
    free_port,
    running,
    start_launched,
    start_stock,
    wait_for_rest,
    worker_properties,
)

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own

ITEMS = 3000
CHANGES = 1200
KILLS = 5
MARKER = 999_999


def write_changes(ddb, table, rnd, deleted, done):
    """Updates, inserts and deletes at about 40/s, so they span the kills; then a last marker insert."""
    for i in range(CHANGES):
        roll = rnd.random()
        if roll < 0.6:
            ddb.update_item(TableName=table, Key={"id": {"N": str(rnd.randrange(ITEMS))}},
                            UpdateExpression="ADD v :one", ExpressionAttributeValues={":one": {"N": "1"}})
        elif roll < 0.85:
            ddb.put_item(TableName=table, Item={"id": {"N": str(ITEMS + i)}, "v": {"N": "0"}})
        else:
            victim = rnd.randrange(ITEMS)
            deleted.add(victim)
            ddb.delete_item(TableName=table, Key={"id": {"N": str(victim)}})
        done.wait(0.025)
    ddb.put_item(TableName=table, Item={"id": {"N": str(MARKER)}, "v": {"N": "0"}})
    done.set()


def read_committed(bootstrap, topic):
    """Every record a read_committed consumer sees, up to the topic's end (aborted ones are skipped)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"eos-{time.time_ns()}",
                         "isolation.level": "read_committed", "enable.auto.commit": False})
    try:
        _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
        consumer.assign([TopicPartition(topic, 0, 0)])
        out = []
        while consumer.position([TopicPartition(topic, 0)])[0].offset < high:
            for m in consumer.consume(1000, timeout=1):
                if not m.error():
                    out.append((orjson.loads(m.key())["payload"]["id"],
                                orjson.loads(m.value())["payload"] if m.value() is not None else None))
        return out
    finally:
        consumer.close()


def stream_changes(endpoint, table_arn):
    """Every change in the table's stream, read directly: (sequence number, created ms)."""
    streams = JsonClient(endpoint, "us-east-1", Credentials("test", "test"), STREAMS_TARGET)
    out = []
    for shard in list_shards(streams, table_arn):
        iterator = streams.call("GetShardIterator", {"StreamArn": table_arn, "ShardId": shard.id,
                                                     "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        while iterator:
            page = streams.call("GetRecords", {"ShardIterator": iterator, "Limit": 1000})
            out += [(r["dynamodb"]["SequenceNumber"], created_ms(r)) for r in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] or shard.closed else None
    return out


@pytest.mark.parametrize(("eos", "stock"), [(True, False), (False, False), (True, True)],
                         ids=["exactly-once", "at-least-once", "exactly-once-stock-worker"])
def test_five_kills_lose_nothing_and_repeat_nothing_under_exactly_once(stack, unique, tmp_path, eos, stock, request):
    table = f"eos{int(eos)}_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "N")], stream_view="NEW_AND_OLD_IMAGES")
    load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}, "v": {"N": "0"}})
    group, port = f"eos{int(eos)}-{unique}", free_port()
    install = request.getfixturevalue("stock_install") if stock else None
    props = worker_properties(tmp_path / "worker.properties", stack.bootstrap, port, group,
                              install.plugins if install else PLUGINS,
                              extra=["exactly.once.source.support=enabled"] if eos else [])

    def start_worker(properties, log):  # launched, or stock with the packaged plugin and its engine's Python
        return start_stock(properties, log, install.python) if install else start_launched(properties, log)

    rest = Stack(stack.dynamodb_endpoint, stack.bootstrap, f"http://127.0.0.1:{port}")
    rnd, deleted, done = random.Random(11), set(), threading.Event()
    worker = start_worker(props, tmp_path / "run0.log")
    try:
        wait_for_rest(worker, rest.connect_url, tmp_path / "run0.log")
        rest.create_connector("c", stack.connector_config(table, **{
            "dynamodb.table.sync.mode": "SNAPSHOT_CDC", "dynamodb.snapshot.max.poll.records": "50",
            "max.batch.size": "200", "poll.linger.ms": "50", **({"exactly.once.support": "required"} if eos else {})}))
        threading.Thread(target=write_changes, args=(ddb, table, random.Random(12), deleted, done), daemon=True).start()
        for kill in range(1, KILLS + 1):
            wait_until(lambda: [t["state"] for t in rest.status("c").get("tasks", [])] == ["RUNNING"], 120,
                       "the task to run")
            moment = time.monotonic() + rnd.uniform(1.0, 6.0)
            wait_until(lambda m=moment: time.monotonic() >= m, 10, "a random moment", interval_s=0.05)
            engines = children(worker.pid)  # a stock worker's engine processes must die with it
            worker.send_signal(signal.SIGKILL)
            worker.wait(30)
            wait_until(lambda e=engines: not any(running(pid) for pid in e), 30, "the engine processes to exit")
            worker = start_worker(props, tmp_path / f"run{kill}.log")
            wait_for_rest(worker, rest.connect_url, tmp_path / f"run{kill}.log")
        assert done.wait(180), "the changes were not all written"
        records = wait_until(lambda: (got := read_committed(stack.bootstrap, table)) and
                             any(key == str(MARKER) for key, _ in got) and got, 240, "the last change in Kafka")
    finally:
        worker.kill()
        worker.wait(30)

    reads = Counter(key for key, v in records if v is not None and v["op"] == "r")
    changes = Counter(v["source"]["seq_No"] for _, v in records if v is not None and v["op"] != "r")
    snapshot_start = min(v["source"]["snapshotStartTime"] for _, v in records if v is not None and v["op"] == "r")
    arn = ddb.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    expected = {seq for seq, at in stream_changes(stack.dynamodb_endpoint, arn)
                if at >= snapshot_start - HANDOVER_MARGIN_MS}
    kept = {str(i) for i in range(ITEMS)} - {str(i) for i in deleted}
    lost = len(kept - set(reads)) + len(expected - set(changes))
    repeated = sum(n - 1 for n in reads.values()) + sum(n - 1 for n in changes.values())
    print(f"{'exactly-once' if eos else 'at-least-once'}: {KILLS} kills, {sum(reads.values())} snapshot records, "
          f"{sum(changes.values())} change records, {lost} lost, {repeated} duplicated")
    assert lost == 0
    assert set(changes) <= expected  # nothing from before the hand-over margin
    if eos:
        assert repeated == 0
