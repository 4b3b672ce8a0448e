"""Change data capture from DynamoDB Streams on the real stack: c/u/d with images, tombstones, resume, LATEST,
AT_TIMESTAMP."""

import datetime
import itertools
import time

import orjson

from tests.integration.conftest import wait_until
from tests.integration.tables import create_table

CDC = {"dynamodb.table.sync.mode": "CDC", "poll.linger.ms": "100"}


def put(ddb, table, key, value):
    ddb.put_item(TableName=table, Item={"id": {"S": key}, "v": {"N": str(value)}})


def delete(ddb, table, key):
    ddb.delete_item(TableName=table, Key={"id": {"S": key}})


def changes_by_key(records):
    """(op, before v, after v) per key in topic order; a tombstone shows as ("tombstone", None, None)."""
    out = {}
    for r in records:
        key = r.key["payload"]["id"]
        if r.value is None:
            out.setdefault(key, []).append(("tombstone", None, None))
            continue
        p = r.value["payload"]
        before = orjson.loads(p["before"]["document"]) if p["before"] else None
        after = orjson.loads(p["after"]["document"]) if p["after"] else None
        out.setdefault(key, []).append((p["op"], before and before["v"]["N"], after and after["v"]["N"]))
    return out


def test_changes_stream_in_order_with_images_and_tombstones_and_resume_without_repeats(stack, unique):
    table = f"cdc_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")], stream_view="NEW_AND_OLD_IMAGES")
    put(ddb, table, "k1", 1)
    put(ddb, table, "k2", 1)
    put(ddb, table, "k1", 2)
    delete(ddb, table, "k2")
    name = f"cdc-{unique}"
    stack.create_connector(name, stack.connector_config(table, **CDC, **{
        "dynamodb.cdc.initial.stream.position": "TRIM_HORIZON"}))
    try:
        put(ddb, table, "k3", 1)
        put(ddb, table, "k3", 2)
        delete(ddb, table, "k1")
        wait_until(lambda: stack.topic_size(table) == 9, 60, "7 changes and 2 tombstones")
        records = stack.read_topic(table)
        stored = wait_until(lambda: [o for o in stack.offsets(name) if "shardId" in o["partition"]], 30,
                            "the shard position in Connect's offsets")
        documented = {orjson.dumps(o["partition"], option=orjson.OPT_SORT_KEYS): o["offset"]
                      for o in stack.offsets(name)}
    finally:
        stack.delete_connector(name)

    # TypeA and TypeC, as documented; TypeC's timestamp is when CDC began (TRIM_HORIZON: the start).
    type_a = documented[orjson.dumps({"cdcStarted": "true", "tableName": table})]
    assert type_a["cdcStarted"] == "true" and type_a["leaseTable"].startswith(f"connect-KCL--{name}-{table}-s")
    type_c = documented[orjson.dumps({"stream": table})]
    assert type_c["cdc.start.position.timestamp.format"] == "yyyy-MM-dd'T'HH:mm:ss'Z'"
    started = datetime.datetime.strptime(type_c["cdc.start.position.timestamp"], "%Y-%m-%dT%H:%M:%SZ")
    assert abs(started.replace(tzinfo=datetime.UTC).timestamp() - time.time()) < 120
    beats = [r for r in stack.read_topic("__dynamodb-cdc-heartbeat") if r.key["payload"] == {"tableName": table}]
    assert orjson.loads(beats[-1].value["payload"]["offset"]) == type_c  # they came that way

    assert changes_by_key(records) == {
        "k1": [("c", None, "1"), ("u", "1", "2"), ("d", "2", None), ("tombstone", None, None)],
        "k2": [("c", None, "1"), ("d", "1", None), ("tombstone", None, None)],
        "k3": [("c", None, "1"), ("u", "1", "2")],
    }
    changes = [r for r in records if r.value is not None]
    sequence_numbers = [r.value["payload"]["source"]["seq_No"] for r in changes]
    assert sequence_numbers == sorted(sequence_numbers, key=int)
    for r in changes:
        p = r.value["payload"]
        source = p["source"]
        assert source["sync_mode"] == "CDC" and source["tableName"] == table and source["shard_Id"]
        assert source["snapshotStartTime"] is None and source["segment"] is None
        assert source["ts_ms"] <= p["ts_ms"] and source["ts_ns"] == source["ts_ms"] * 1_000_000
        assert r.key["schema"]["name"] == f"io.confluent.connect.dynamodb.{table}.Key"
    (position,) = stored
    assert position["offset"]["sequenceNumber"] == sequence_numbers[-1]

    # Recreated under the same name, the connector resumes after the stored position: only the new change.
    put(ddb, table, "k4", 1)
    stack.create_connector(name, stack.connector_config(table, **CDC))
    try:
        wait_until(lambda: stack.topic_size(table) >= 10, 60, "the change made while the connector was away")
        put(ddb, table, "k5", 1)
        wait_until(lambda: stack.topic_size(table) >= 11, 60, "a change after the restart")
        after_restart = stack.read_topic(table)[9:]
    finally:
        stack.delete_connector(name)
    assert [(r.key["payload"]["id"], r.value["payload"]["op"]) for r in after_restart] == [("k4", "c"), ("k5", "c")]


def connector_on_a_new_table(stack, unique, kind, first_key, **settings):
    """A table with a stream and one item (first_key), and a CDC connector on it: (ddb, table, connector)."""
    table, name = f"{kind}_{unique}", f"{kind}-{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")], stream_view="NEW_AND_OLD_IMAGES")
    put(ddb, table, first_key, 1)
    stack.create_connector(name, stack.connector_config(table, **CDC, **settings))
    return ddb, table, name


def test_latest_emits_only_changes_made_after_the_start(stack, unique):
    ddb, table, name = connector_on_a_new_table(stack, unique, "latest", "before", **{
        "dynamodb.cdc.initial.stream.position": "LATEST"})
    probes = itertools.count()
    try:
        # The reader takes its LATEST iterator when it starts: write probes until one comes through.
        wait_until(lambda: put(ddb, table, f"probe{next(probes)}", 1) or stack.topic_size(table) > 0, 60,
                   "a change made after the connector started", interval_s=1.0)
        records = stack.read_topic(table)
    finally:
        stack.delete_connector(name)
    keys = [r.key["payload"]["id"] for r in records]
    assert "before" not in keys and keys and all(k.startswith("probe") for k in keys)


def test_at_timestamp_emits_nothing_older_than_the_timestamp(stack, unique):
    table = f"attime_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")], stream_view="NEW_AND_OLD_IMAGES")
    put(ddb, table, "old", 1)
    put(ddb, table, "later", 1)  # changed again after the timestamp: only that change comes
    # DynamoDB Local stamps changes to the minute: the timestamp is the start of the next minute.
    at = (int(time.time()) // 60 + 1) * 60
    wait_until(lambda: time.time() >= at + 1, 70, "the next minute", interval_s=0.5)
    put(ddb, table, "later", 2)
    put(ddb, table, "new", 1)
    name = f"attime-{unique}"
    stack.create_connector(name, stack.connector_config(table, **CDC, **{
        "dynamodb.cdc.initial.stream.position": "AT_TIMESTAMP",
        "cdc.start.position.timestamp": datetime.datetime.fromtimestamp(at, datetime.UTC).strftime("%d/%m/%Y %H:%M:%S"),
        "cdc.start.position.timestamp.format": "dd/MM/yyyy HH:mm:ss"}))
    try:
        wait_until(lambda: stack.topic_size(table) >= 2, 60, "the changes after the timestamp")
        put(ddb, table, "last", 1)
        wait_until(lambda: stack.topic_size(table) >= 3, 60, "a change made while running")
        records = stack.read_topic(table)
    finally:
        stack.delete_connector(name)
    assert changes_by_key(records) == {"later": [("u", "1", "2")], "new": [("c", None, "1")],
                                       "last": [("c", None, "1")]}


def test_an_idle_table_has_its_stored_position_renewed_by_heartbeats(stack, unique):
    _, table, name = connector_on_a_new_table(stack, unique, "idle", "only", **{
        "dynamodb.cdc.heartbeat.interval.ms": "1000"})

    def caught_up_at():
        return [o["offset"].get("caughtUpAt", 0) for o in stack.offsets(name) if "shardId" in o["partition"]]

    try:
        first = wait_until(lambda: (at := caught_up_at()) and at[0] and at[0], 60, "a heartbeat")
        later = wait_until(lambda: (at := caught_up_at()) and at[0] > first and at[0], 30, "a later heartbeat")
        assert stack.topic_size(table) == 1  # heartbeats never reach the table's topic
    finally:
        stack.delete_connector(name)
    assert later - first >= 1000


def test_a_table_without_a_stream_fails_naming_the_table_and_the_fix(stack, unique):
    table = f"nostream_{unique}"
    create_table(stack.dynamodb(), table, [("id", "S")])
    name = f"nostream-{unique}"
    stack.create_connector(name, stack.connector_config(table, **CDC))
    try:
        status = wait_until(lambda: (s := stack.status(name)).get("tasks") and s["tasks"][0]["state"] == "FAILED"
                            and s, 60, "the task to fail")
    finally:
        stack.delete_connector(name)
    trace = status["tasks"][0]["trace"]
    assert f"DynamoDB table '{table}' has no enabled stream" in trace and "StreamViewType" in trace


def test_a_stream_disabled_and_enabled_again_stops_the_table_naming_the_gap(stack, unique):
    table = f"replaced_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")], stream_view="NEW_AND_OLD_IMAGES")
    name = f"replaced-{unique}"
    stack.create_connector(name, stack.connector_config(table, **CDC))
    try:
        put(ddb, table, "k1", 1)
        wait_until(lambda: stack.topic_size(table) == 1, 60, "the first change")
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": False})
        ddb.update_table(TableName=table, StreamSpecification={"StreamEnabled": True,
                                                               "StreamViewType": "NEW_AND_OLD_IMAGES"})
        status = wait_until(lambda: (s := stack.status(name)).get("tasks") and s["tasks"][0]["state"] == "FAILED"
                            and s, 60, "the task to stop on the replaced stream")
    finally:
        stack.delete_connector(name)
    assert f"The stream of table '{table}' was replaced" in status["tasks"][0]["trace"]
