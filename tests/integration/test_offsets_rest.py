"""Offsets through Connect's REST API: GET shows TypeA/TypeC and shard positions, PATCH of a TypeC offset on a
stopped connector restarts that table's CDC from its timestamp in a new lease generation, refused edits answer
400 with the reason, and DELETE starts the connector afresh."""

import orjson
import requests

from tests.integration.conftest import wait_until
from tests.integration.tables import create_table
from tests.integration.test_cdc import CDC, put


def offsets_by_partition(stack, name):
    return {orjson.dumps(o["partition"], option=orjson.OPT_SORT_KEYS).decode(): o["offset"]
            for o in stack.offsets(name)}


def lease_table_of(stack, name, table):
    """The lease table TypeA names, once Connect stored it."""
    type_a = offsets_by_partition(stack, name).get(orjson.dumps({"cdcStarted": "true", "tableName": table},
                                                                option=orjson.OPT_SORT_KEYS).decode())
    return type_a and type_a["leaseTable"]


def stop(stack, name):
    assert requests.put(f"{stack.connect_url}/connectors/{name}/stop", timeout=30).status_code in (202, 204)
    wait_until(lambda: stack.status(name)["connector"]["state"] == "STOPPED", 60, "the connector to stop")


def resume(stack, name):
    assert requests.put(f"{stack.connect_url}/connectors/{name}/resume", timeout=30).status_code in (202, 204)


def patch(stack, name, partition, offset):
    return requests.patch(f"{stack.connect_url}/connectors/{name}/offsets", timeout=60,
                          json={"offsets": [{"partition": partition, "offset": offset}]})


def test_a_type_c_edit_replays_from_its_timestamp_and_delete_starts_afresh(stack, unique):
    table = f"offrest_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")], stream_view="NEW_AND_OLD_IMAGES")
    for key in ("k1", "k2", "k3"):
        put(ddb, table, key, 1)
    name = f"offrest-{unique}"
    stack.create_connector(name, stack.connector_config(table, **CDC))
    try:
        wait_until(lambda: stack.topic_size(table) == 3, 60, "the three changes")
        first_leases = wait_until(lambda: lease_table_of(stack, name, table), 30, "TypeA in Connect's offsets")
        stop(stack, name)

        refusals = {
            "unknown table": ({"stream": "nosuchtable"}, {"cdc.start.position.timestamp": "2024-01-01T00:00:00Z"}),
            "TypeB": ({"segment": "0", "tableName": table}, {"segment": "0", "snapshotCount": "9"}),
            "TypeA": ({"tableName": table, "cdcStarted": "true"}, {"cdcStarted": "false"}),
            "bad timestamp": ({"stream": table}, {"cdc.start.position.timestamp": "yesterday"}),
            "bad format": ({"stream": table}, {"cdc.start.position.timestamp": "2024-01-01",
                                               "cdc.start.position.timestamp.format": "yyyy-MM-dd-QQ"}),
        }
        for what, (partition, offset) in refusals.items():
            answer = patch(stack, name, partition, offset)
            assert answer.status_code == 400, (what, answer.status_code, answer.text)
        assert "Unknown table 'nosuchtable'" in patch(stack, name, *refusals["unknown table"]).json()["message"]
        assert "must not be edited" in patch(stack, name, *refusals["TypeB"]).json()["message"]

        # Before the oldest record: the whole stream again (as TRIM_HORIZON), in a new lease generation.
        answer = patch(stack, name, {"stream": table}, {"cdc.start.position.timestamp": "01/01/2020 00:00",
                                                        "cdc.start.position.timestamp.format": "dd/MM/yyyy HH:mm"})
        assert answer.status_code == 200, answer.text
        resume(stack, name)
        wait_until(lambda: stack.topic_size(table) == 6, 60, "the three changes again")
        put(ddb, table, "k4", 1)
        wait_until(lambda: stack.topic_size(table) == 7, 60, "a change after the edit")
        second_leases = wait_until(lambda: (t := lease_table_of(stack, name, table)) != first_leases and t, 30,
                                   "TypeA naming the new generation")
        assert second_leases.endswith(f"-{table}-t1577836800000")
        type_c = offsets_by_partition(stack, name)[orjson.dumps({"stream": table}).decode()]
        assert type_c["cdc.start.position.timestamp"] == "2020-01-01T00:00:00Z"
        tables = ddb.list_tables(Limit=100, ExclusiveStartTableName=first_leases[:-1])["TableNames"]
        assert first_leases not in tables and second_leases in tables  # the old generation was dropped

        stop(stack, name)
        assert requests.delete(f"{stack.connect_url}/connectors/{name}/offsets", timeout=60).status_code == 200
        resume(stack, name)
        wait_until(lambda: stack.topic_size(table) == 11, 60, "every change again after the reset")
        third_leases = wait_until(lambda: (t := lease_table_of(stack, name, table)) != second_leases and t, 30,
                                  "TypeA naming a fresh generation")
        assert second_leases not in ddb.list_tables(ExclusiveStartTableName=first_leases[:-1])["TableNames"]
    finally:
        stack.delete_connector(name)
    keys = [r.key["payload"]["id"] for r in stack.read_topic(table)]
    assert keys == ["k1", "k2", "k3"] * 2 + ["k4", "k1", "k2", "k3", "k4"]
    assert f"-{table}-s" in third_leases


def test_a_reset_snapshots_again_with_the_next_snapshot_count(stack, unique):
    table = f"recount_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")])
    for key in ("a", "b", "c"):
        put(ddb, table, key, 1)
    name = f"recount-{unique}"
    stack.create_connector(name, stack.connector_config(table))
    try:
        wait_until(lambda: stack.topic_size(table) == 3, 60, "the first snapshot")
        stop(stack, name)
        assert requests.delete(f"{stack.connect_url}/connectors/{name}/offsets", timeout=60).status_code == 200
        resume(stack, name)
        wait_until(lambda: stack.topic_size(table) == 6, 60, "the snapshot taken again")
    finally:
        stack.delete_connector(name)
    counts = [r.value["payload"]["source"]["snapshotCount"] for r in stack.read_topic(table)]
    assert counts == [1, 1, 1, 2, 2, 2]
