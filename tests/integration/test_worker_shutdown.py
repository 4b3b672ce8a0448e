"""SIGTERM/SIGINT to the launcher stops Connect the normal way and exits 0, even mid-snapshot."""

import signal
import uuid

import orjson
import pytest
from confluent_kafka import Consumer, TopicPartition

from tests.integration.conftest import wait_until
from tests.integration.workers import free_port, rest_answers, start_launched, worker_properties

ITEMS = 30_000


def load_table(ddb, table: str) -> None:
    ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
    pad = "x" * 200
    for start in range(0, ITEMS, 25):
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {"id": {"S": f"{i:08d}"}, "pad": {"S": pad}}}} for i in range(start, start + 25)]})


def stored_offsets(bootstrap: str, topic: str, connector: str) -> list:
    """The (partition, offset) pairs Connect wrote for a connector, read from the worker's offsets topic."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4()}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        out, read = [], dict.fromkeys(partitions, 0)
        while any(read[p] < ends[p] for p in partitions):
            for m in consumer.consume(500, timeout=2):
                read[m.partition()] = m.offset() + 1
                key = orjson.loads(m.key())
                if key[0] == connector and m.value():
                    out.append((key[1], orjson.loads(m.value())))
        return out
    finally:
        consumer.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_snapshot_stops_connect_cleanly_and_exits_zero(stack, unique, tmp_path, signum):
    table = f"shutdown_{unique}"
    load_table(stack.dynamodb(), table)
    group = f"shutdown-{unique}"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = tmp_path / "worker.log"
    worker = start_launched(worker_properties(tmp_path / "worker.properties", stack.bootstrap, port, group), log)
    try:
        wait_until(lambda: worker.poll() is not None or rest_answers(url), 120, "the launched worker's REST API")
        assert worker.poll() is None, log.read_text()[-3000:]
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
