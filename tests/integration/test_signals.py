"""Signals on a Kafka topic: an execute-snapshot re-reads a table while its changes flow (snapshotCount + 1, and the
topic still replays to the table), a stop-snapshot stops one, and a restart repeats no handled signal."""

from __future__ import annotations

import signal
import time

import orjson
import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.integration.conftest import wait_until
from tests.integration.replay import Changes, check_replay, own_worker, stop_run
from tests.integration.tables import create_table, load, scan_all

pytestmark = pytest.mark.local_stack  # runs a worker of its own (this checkout's engine)

ITEMS = 1500
PAD = "p" * 1000
LEFT_OUT_WINDOW_MS = 62_000  # DynamoDB Local's minute rounding plus the window's margin
READ_CAPACITY = 100  # at 50%: a consistent re-snapshot (DynamoDB Local: a unit per item) takes ~30 s


def send(bootstrap, topic, connector, signal_id, kind, table):
    producer = Producer({"bootstrap.servers": bootstrap})
    producer.produce(topic, key=connector, value=orjson.dumps(
        {"id": signal_id, "type": kind, "data": {"data-collections": [table], "type": "incremental"}}))
    assert producer.flush(30) == 0


def snapshot_records(records, count):
    return [r for r in records if r.value is not None and r.value["payload"]["op"] == "r"
            and str(r.value["payload"]["source"]["snapshotCount"]) == str(count)]


def segments_done(rest, name, count):
    return sum(o["offset"].get("segmentCompleted") == "true" and o["offset"].get("snapshotCount") == str(count)
               for o in rest.offsets(name))


def decision(rest, name, table):
    return next((o["offset"] for o in rest.offsets(name) if o["partition"].get("signalTopic")
                 and o["partition"]["tableName"] == table), None)


def round_trip(stack, ddb, table, marker):
    """A change made now, once in Kafka: everything the connector emitted before it is there too."""
    ddb.put_item(TableName=table, Item={"id": {"N": str(marker)}, "v": {"N": "0"}})
    wait_until(lambda: any(r.key["payload"]["id"] == str(marker) for r in stack.read_topic(table)), 90,
               f"change {marker} to reach Kafka")


def test_signals_take_ad_hoc_snapshots_once(stack, unique, tmp_path):
    table = f"sig_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "N")], read_capacity=READ_CAPACITY, stream_view="NEW_AND_OLD_IMAGES")
    load(ddb, table, ITEMS, lambda i: {"id": {"N": str(i)}, "v": {"N": "0"}, "pad": {"S": PAD}})
    initial = {item["id"]["N"]: item for item in scan_all(ddb, table)}
    topic = f"signals-{unique}"
    admin = AdminClient({"bootstrap.servers": stack.bootstrap})
    admin.create_topics([NewTopic(topic, 1, 1)])[topic].result(30)
    rest, start = own_worker(stack, tmp_path, unique)
    name = f"sig-{unique}"
    worker = start(1)
    changes = Changes(ddb, table, 11, ITEMS)
    try:
        rest.create_connector(name, stack.connector_config(table, **{
            "dynamodb.table.sync.mode": "SNAPSHOT_CDC", "signal.kafka.topic": topic,
            "signal.kafka.bootstrap.servers": stack.bootstrap, "signal.consumer.client.id": f"sig-{unique}",
            "dynamodb.snapshot.max.rcu.percentage": "50", "dynamodb.snapshot.max.poll.records": "25",
            "max.batch.size": "200", "poll.linger.ms": "100"}))
        wait_until(lambda: segments_done(rest, name, 1) == 5, 120, "the first snapshot to complete")
        # Malformed and unknown-table signals are skipped, never fatal.
        producer = Producer({"bootstrap.servers": stack.bootstrap})
        producer.produce(topic, key=name, value=b"{not json")
        assert producer.flush(30) == 0
        send(stack.bootstrap, topic, name, "unknown-1", "execute-snapshot", "no_such_table")
        changes.start()
        signalled_ms = time.time() * 1000
        send(stack.bootstrap, topic, name, "again-1", "execute-snapshot", table)
        wait_until(lambda: segments_done(rest, name, 2) == 5, 150, "the signal's snapshot to complete")
        changes.halt.set()
        changes.join(10)
        round_trip(stack, ddb, table, 900_001)
        records = stack.read_topic(table)
        check_replay(records, initial, {i["id"]["N"]: i for i in scan_all(ddb, table)})
        again = {r.key["payload"]["id"] for r in snapshot_records(records, "2")}
        # A key left out of a page changed in its window: a change created (rounded down to the minute on
        # DynamoDB Local) at most a minute and the margin before the page was read, so after the signal less that.
        changed_since = {r.key["payload"]["id"] for r in records if r.value is not None
                         and r.value["payload"]["op"] != "r"
                         and r.value["payload"]["source"]["ts_ms"] >= signalled_ms - LEFT_OUT_WINDOW_MS}
        final_keys = {i["id"]["N"] for i in scan_all(ddb, table)}
        assert final_keys <= again | changed_since, "a key was read again neither by the snapshot nor as a change"
        print(f"read again {len(again)} of {len(final_keys)} keys; {changes.count} changes during it")
        assert decision(rest, name, table)["signalId"] == "again-1"

        # An execute-snapshot stopped by a stop-snapshot: no record of it after the stop is stored.
        send(stack.bootstrap, topic, name, "again-2", "execute-snapshot", table)
        wait_until(lambda: snapshot_records(stack.read_topic(table), "3"), 90, "the second signal's snapshot")
        send(stack.bootstrap, topic, name, "stop-2", "stop-snapshot", table)
        wait_until(lambda: (decision(rest, name, table) or {}).get("signalId") == "stop-2", 60, "the stop")
        round_trip(stack, ddb, table, 900_002)
        after_stop = len(snapshot_records(stack.read_topic(table), "3"))
        round_trip(stack, ddb, table, 900_003)
        assert len(snapshot_records(stack.read_topic(table), "3")) == after_stop, "the stopped snapshot went on"
        assert segments_done(rest, name, 3) < 5

        # A restart repeats no handled signal (nor resumes the stopped snapshot).
        worker.send_signal(signal.SIGKILL)
        worker.wait(30)
        size = stack.topic_size(table)
        worker = start(2)
        round_trip(stack, ddb, table, 900_004)
        records = stack.read_topic(table)
    finally:
        stop_run(changes, rest, name, worker)
    after_restart = [r for r in records if r.offset >= size and r.value is not None and r.value["payload"]["op"] == "r"]
    assert after_restart == [], f"{len(after_restart)} snapshot records after the restart: a signal was repeated"
    assert not snapshot_records(records, "4")
