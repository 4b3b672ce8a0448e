"""Every DynamoDB type round-trips exactly into after.document, and every key type into the record key."""

import orjson
import pytest

from tests.integration.conftest import wait_until
from tests.integration.tables import as_wire_json, create_table, scan_all


def nested(depth):
    value = {"S": "bottom"}
    for level in range(depth):
        value = {"M": {f"level{level}": value, "list": {"L": [value, {"N": str(level)}]}}} if level < 3 else \
            {"M": {f"level{level}": value}}
    return value


ATTRIBUTES = {
    "empty_string": {"S": ""},
    "unicode": {"S": "日本語 ✓ émoji 😀 \u0000 nul \\ back \" quote \n newline"},
    "n_38_digits": {"N": "12345678901234567890123456789012345678"},
    "n_negative_fraction": {"N": "-0.000000000000000000000000000000000000000000123"},
    "n_exponent": {"N": "1.5E+100"},
    "n_small_exponent": {"N": "-9.9E-120"},
    "n_plain": {"N": "42"},
    "binary": {"B": b"\x00\x01\xfe\xff"},
    "empty_binary": {"B": b""},
    "ss": {"SS": ["a", "b", "ü"]},
    "ns": {"NS": ["1", "-2.5", "1E+3"]},
    "bs": {"BS": [b"\x00", b"\xff\xfe"]},
    "deep": nested(25),
    "list": {"L": [{"S": "x"}, {"N": "1"}, {"BOOL": False}, {"NULL": True}, {"L": []}, {"M": {}}]},
    "empty_map": {"M": {}},
    "empty_list": {"L": []},
    "yes": {"BOOL": True},
    "nothing": {"NULL": True},
    "odd.name with space#:ü": {"S": "odd attribute name"},
}

KEYS = {
    "s_hash": [("k", "S")],
    "n_hash": [("k", "N")],
    "b_hash": [("k", "B")],
    "s_n": [("h", "S"), ("r", "N")],
    "n_b": [("h", "N"), ("r", "B")],
    "b_s": [("h", "B"), ("r", "S")],
}
KEY_VALUES = {"S": ["alpha", "ünïcode key", "x" * 1024], "N": ["-1.5", "0", "99999999999999999999999999999999999999"],
              "B": [b"\x00", b"\xff" * 10, b"key"]}

BIG_KEY = {"S": "big item", "N": "7777", "B": b"big"}


def items_for(key):
    out = []
    for i in range(3):
        item = {name: {type_: KEY_VALUES[type_][(i + j) % 3]} for j, (name, type_) in enumerate(key)}
        out.append({**item, **ATTRIBUTES, "index": {"N": str(i)}})
    big = {name: {type_: BIG_KEY[type_]} for name, type_ in key}
    big["index"] = {"N": "99"}
    big["big"] = {"S": "b" * 390_000}  # near the 400 KB item limit
    return [*out, big]


@pytest.mark.parametrize("kind", sorted(KEYS))
def test_every_type_and_key_type_round_trips_exactly(stack, unique, kind):
    key = KEYS[kind]
    table = f"fidelity_{kind}_{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, key)
    for item in items_for(key):
        ddb.put_item(TableName=table, Item=item)
    stored = {orjson.dumps({k: as_wire_json(item[k]) for k, _ in key}): as_wire_json(item)
              for item in scan_all(ddb, table)}
    assert len(stored) == 4
    name = f"fidelity-{kind}-{unique}"
    stack.create_connector(name, stack.connector_config(table))
    try:
        wait_until(lambda: stack.topic_size(table) >= 4, 60, "the four records")
    finally:
        stack.delete_connector(name)
    records = stack.read_topic(table)
    assert len(records) == 4
    for r in records:
        document = orjson.loads(r.value["payload"]["after"]["document"])
        key_json = orjson.dumps({k: document[k] for k, _ in key})
        assert document == stored[key_json]
        # The record key: S and N as their text, B as bytes (base64 in JSON).
        assert r.key["payload"] == {k: next(iter(document[k].values())) for k, _ in key}
        assert [f["type"] for f in r.key["schema"]["fields"]] == ["bytes" if t == "B" else "string" for _, t in key]
