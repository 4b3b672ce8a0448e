"""Typed documents (document.content.format=schema) end to end, in a worker of this checkout (its engine and its
jars) against the real registry: auto_infer with each decimal.handling.mode in AVRO (decoded with fastavro and the
schema the registry holds) and in JSON with Connect's embedded schema; schema evolution from snapshot to CDC; and
user-provided schemas, strict and lenient, failing the task or, with errors.tolerance=all, skipping records."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import fastavro
import orjson
import pytest
import requests

from python_connector.cli.translate import translate
from python_connector.records import document_schema as ds
from python_connector.records.document_builder import SKIPPED_METRIC
from tests.integration.conftest import Stack, wait_until
from tests.integration.registry import Registry, split
from tests.integration.tables import create_table
from tests.integration.workers import free_port, start_launched, wait_for_rest, worker_properties

pytestmark = pytest.mark.local_stack  # runs a worker process of its own

ITEMS = [
    {"pk": {"S": "a"}, "n": {"N": "3.5"}, "big": {"N": "5000000000"}, "flag": {"BOOL": True},
     "first name": {"S": "Ada"}, "blob": {"B": b"\x00\xff"}, "tags": {"SS": ["x"]}, "nums": {"NS": ["1", "2"]},
     "m": {"M": {"k": {"S": "v"}, "i": {"N": "7"}}}, "l": {"L": [{"M": {"q": {"N": "1"}}}, {"M": {"q": {"N": "2"}}}]}},
    {"pk": {"S": "b"}, "n": {"N": "12345678901234567890.5"}, "mixed": {"L": [{"S": "x"}, {"N": "1"}]}},
]
# What after.document holds for ITEMS[0], per decimal.handling.mode: n, big, nums, m.i, l[].q
NUMBERS = {
    "double": (3.5, 5e9, [1.0, 2.0], 7.0, [1.0, 2.0]),
    "long": (None, 5000000000, [1, 2], 7, [1, 2]),
    "string": ("3.5", "5000000000", ["1", "2"], "7", ["1", "2"]),
    "auto": (3.5, 5000000000, [1, 2], 7, [1, 2]),
}


@pytest.fixture(scope="module")
def worker(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A launcher worker of this checkout on free ports, in a Connect group of its own, serving engine metrics."""
    directory: Path = tmp_path_factory.mktemp("typed-worker")
    port, metrics_port = free_port(), free_port()
    group = f"typed-{directory.name}"
    props = worker_properties(directory / "worker.properties", stack.bootstrap, port, group,
                              extra=["rest.advertised.host.name=127.0.0.1", f"rest.advertised.port={port}"])
    log = directory / "worker.log"
    process = start_launched(props, log, options=["--metrics-port", str(metrics_port)])
    rest = Stack(stack.dynamodb_endpoint, stack.bootstrap, f"http://127.0.0.1:{port}", stack.schema_registry_url,
                 f"http://127.0.0.1:{metrics_port}/metrics", worker_log_reader=lambda: log.read_text(errors="replace"))
    try:
        wait_for_rest(process, rest.connect_url, log)
        yield rest
    finally:
        process.terminate()
        try:
            process.wait(30)
        except Exception:
            process.kill()


def typed_config(stack: Stack, table: str, fmt: str, prefix: str, **settings: str) -> dict[str, str]:
    cloud = {**stack.connector_config(table), "name": prefix, "output.data.format": fmt,
             "output.data.key.format": fmt, "document.content.format": "schema",
             "dynamodb.cdc.checkpointing.table.prefix": f"{prefix}-", **settings}
    config = translate(cloud, stack.schema_registry_url)["config"]
    if fmt == "JSON":  # with Connect's embedded schema, so the document's typed fields are visible
        config.update({"key.converter.schemas.enable": "true", "value.converter.schemas.enable": "true"})
    config.update({"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
                   "transforms.route.regex": "(.*)", "transforms.route.replacement": f"{prefix}.$1"})
    return config


def avro_values(stack: Stack, registry: Registry, topic: str) -> list[tuple[int, dict[str, Any]]]:
    """(schema id, value) of each record, read with fastavro and the writer schema fetched from the registry."""
    out = []
    for record in stack.read_topic(topic, decode=lambda b: b):
        if record.value is not None:
            schema_id, payload = split(record.value)
            schema = fastavro.parse_schema(json.loads(registry.schema(schema_id)["schema"]))
            out.append((schema_id, fastavro.schemaless_reader(io.BytesIO(payload), schema)))
    return out


def json_values(stack: Stack, topic: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(schema, payload) of each record written by JsonConverter with schemas.enable=true."""
    return [(r.value["schema"], r.value["payload"]) for r in stack.read_topic(topic) if r.value is not None]


def by_pk(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["pk"]: d for d in documents}


def check_first_item(document: dict[str, Any], mode: str, escaped: str) -> None:
    n, big, nums, i, qs = NUMBERS[mode]
    assert (document.get("n"), document["big"], document["nums"]) == (n, big, nums), mode
    assert (document["m"]["k"], document["m"]["i"], [e["q"] for e in document["l"]]) == ("v", i, qs), mode
    assert (document["flag"], document["tags"], document[escaped]) == (True, ["x"], "Ada")
    if mode == "long":  # 3.5 is not a whole number: it is in the overflow, as DynamoDB JSON
        assert orjson.loads(document["_ddb_overflow"]) == {"n": {"N": "3.5"}}


def check_second_item(document: dict[str, Any], mode: str) -> None:
    overflow = orjson.loads(document["_ddb_overflow"])
    assert overflow["mixed"] == {"L": [{"S": "x"}, {"N": "1"}]}  # a mixed list has no type
    if mode == "string":
        assert document["n"] == "12345678901234567890.5"  # exactly as stored
    else:  # no double or long holds it exactly
        assert document.get("n") is None and overflow["n"] == {"N": "12345678901234567890.5"}


def escaped_name(fields: list[dict[str, Any]]) -> str:
    """The field holding the attribute 'first name' (its doc is the attribute's name)."""
    return next(field_name(f) for f in fields if f.get("doc") == "first name")


def field_name(field: dict[str, Any]) -> str:
    """A field's name in an Avro schema ("name") or in JsonConverter's ("field"; "name" is a struct's)."""
    return field["field"] if "field" in field else field["name"]


def test_auto_infer_with_each_decimal_mode_in_avro_and_json(worker: Stack, unique: str) -> None:
    ddb = worker.dynamodb()
    table = f"typed-{unique}"
    create_table(ddb, table, [("pk", "S")])
    for item in ITEMS:
        ddb.put_item(TableName=table, Item=item)
    registry = Registry(worker.schema_registry_url)
    variants = {(mode, fmt): f"t{unique}-{mode}-{fmt.lower()}" for mode in NUMBERS for fmt in ("AVRO", "JSON")}
    for (mode, fmt), prefix in variants.items():
        worker.create_connector(prefix, typed_config(worker, table, fmt, prefix, **{
            "document.schema.source": "auto_infer", "decimal.handling.mode": mode}))
    try:
        wait_until(lambda: all(worker.topic_size(f"{p}.{table}") >= len(ITEMS) for p in variants.values()), 180,
                   "every variant's snapshot records")
    finally:
        for prefix in variants.values():
            worker.delete_connector(prefix)
    for (mode, fmt), prefix in variants.items():
        topic = f"{prefix}.{table}"
        # Segments scan in parallel, so the items may come with different versions: the last holds both
        if fmt == "AVRO":
            values = avro_values(worker, registry, topic)
            schemas = [json.loads(registry.schema(i)["schema"]) for i in {i for i, _ in values}]
            # "before" defines the Value record, "after" refers to it by name
            documents_fields = [next(f for f in s["fields"] if f["name"] == "before")["type"][1]["fields"][0]["type"][1]
                                ["fields"] for s in schemas]
            documents = by_pk([v["after"]["document"] for _, v in values])
        else:
            pairs = json_values(worker, topic)
            documents_fields = [next(f for f in schema["fields"] if f["field"] == "after")["fields"][0]["fields"]
                                for schema, _ in pairs]
            documents = by_pk([p["after"]["document"] for _, p in pairs])
        document_fields = max(documents_fields, key=len)
        escaped = escaped_name(document_fields)
        assert escaped.startswith("_ddbx_first_name_")
        names = [field_name(f) for f in document_fields]
        assert names[:-1] == sorted(names[:-1]) and names[-1] == "_ddb_overflow", names  # canonical order
        check_first_item(documents["a"], mode, escaped)
        check_second_item(documents["b"], mode)
        if fmt == "AVRO":
            assert bytes(documents["a"]["blob"]) == b"\x00\xff"


def start_evolving(worker: Stack, table: str, fmt: str, prefix: str) -> tuple[Any, str, str, str]:
    """A stream-enabled table with one item, captured with inferred documents in ``fmt``: (client, table, connector
    name, topic)."""
    ddb = worker.dynamodb()
    create_table(ddb, table, [("pk", "S")], stream_view="NEW_AND_OLD_IMAGES")
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "x": {"S": "1"}})
    worker.create_connector(prefix, typed_config(worker, table, fmt, prefix, **{
        "document.schema.source": "auto_infer", "dynamodb.table.sync.mode": "SNAPSHOT_CDC"}))
    return ddb, table, prefix, f"{prefix}.{table}"


def test_a_new_attribute_in_cdc_registers_a_second_compatible_schema_version(worker: Stack, unique: str) -> None:
    ddb, table, prefix, topic = start_evolving(worker, f"evolve-{unique}", "AVRO", f"ev{unique}")
    registry = Registry(worker.schema_registry_url)
    try:
        wait_until(lambda: worker.topic_size(topic) >= 1, 120, "the snapshot record")
        # From here the registry refuses a version that cannot read the previous one's records
        r = requests.put(f"{worker.schema_registry_url}/config/{topic}-value", json={"compatibility": "BACKWARD"},
                         timeout=30)
        assert r.status_code == 200, r.text
        ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "x": {"S": "2"}, "added": {"BOOL": True}})
        wait_until(lambda: any(v["after"]["document"]["pk"] == "b" for _, v in avro_values(worker, registry, topic)),
                   120, "the change with the new attribute")
        values = avro_values(worker, registry, topic)
    finally:
        worker.delete_connector(prefix)
    ids = list(dict.fromkeys(schema_id for schema_id, _ in values))
    assert len(ids) >= 2, ids
    first, last = (fastavro.parse_schema(json.loads(registry.schema(i)["schema"])) for i in (ids[0], ids[-1]))
    versions = registry.get(f"/subjects/{topic}-value/versions")
    assert len(versions) >= 2
    # BACKWARD: the new schema reads what the old one wrote; the new attribute is null there
    old_record = next(r for r in worker.read_topic(topic, decode=lambda b: b) if split(r.value)[0] == ids[0])
    read = fastavro.schemaless_reader(io.BytesIO(split(old_record.value)[1]), first, last)
    assert read["after"]["document"] == {"pk": "a", "x": "1", "added": None}
    assert by_pk([v["after"]["document"] for _, v in values])["b"]["added"] is True
    compatible = requests.post(f"{worker.schema_registry_url}/compatibility/subjects/{topic}-value/versions/"
                               f"{versions[0]}", json={"schema": registry.schema(ids[-1])["schema"]}, timeout=30)
    if compatible.status_code == 200:  # the ccompat API's compatibility check, where the registry offers it
        assert compatible.json()["is_compatible"] is True


USER_SCHEMA = json.dumps({"type": "record", "name": "Order", "fields": [
    {"name": "pk", "type": "string"}, {"name": "qty", "type": "long"},
    {"name": "note", "type": ["null", "string"], "default": None}]})
USER_ITEMS = {
    "good": {"qty": {"N": "1"}},
    "extra": {"qty": {"N": "2"}, "colour": {"S": "red"}},
    "missing": {"note": {"S": "no qty"}},
    "mismatch": {"qty": {"S": "three"}},
}


def user_table(worker: Stack, unique: str, items: list[str]) -> str:
    ddb = worker.dynamodb()
    table = f"user-{unique}"
    create_table(ddb, table, [("pk", "S")])
    for pk in items:
        ddb.put_item(TableName=table, Item={"pk": {"S": pk}, **USER_ITEMS[pk]})
    return table


def run_user_provided(worker: Stack, table: str, prefix: str, **settings: str) -> dict[str, Any]:
    worker.create_connector(prefix, typed_config(worker, table, "JSON", prefix, **{
        "document.schema.value": USER_SCHEMA, **settings}))
    return worker.status(prefix)


def failed_trace(worker: Stack, name: str) -> str:
    tasks = wait_until(lambda: [t for t in worker.status(name).get("tasks", []) if t["state"] == "FAILED"], 120,
                       f"task of {name} FAILED")
    return tasks[0]["trace"]


@pytest.mark.parametrize(("validation", "bad", "field"), [
    ("strict", "extra", "colour"), ("strict", "missing", "qty"), ("strict", "mismatch", "qty"),
    ("lenient", "missing", "qty"), ("lenient", "mismatch", "qty"),
])
def test_user_provided_fails_the_task_naming_table_key_and_field(worker: Stack, unique: str, validation: str,
                                                                   bad: str, field: str) -> None:
    table = user_table(worker, unique, ["good", bad])
    prefix = f"u{unique}"
    run_user_provided(worker, table, prefix, **{"document.schema.validation": validation})
    try:
        trace = failed_trace(worker, prefix)
    finally:
        worker.delete_connector(prefix)
    assert f"Table '{table}'" in trace and f'{{"pk":{{"S":"{bad}"}}}}' in trace and f"field '{field}'" in trace


@pytest.mark.parametrize(("validation", "kept", "skipped"), [
    ("strict", {"good"}, 3), ("lenient", {"good", "extra"}, 2),
])
def test_user_provided_with_errors_tolerance_all_skips_and_counts_failing_records(
        worker: Stack, unique: str, validation: str, kept: set[str], skipped: int) -> None:
    table = user_table(worker, unique, list(USER_ITEMS))
    prefix = f"t{unique}"
    topic = f"{prefix}.{table}"
    run_user_provided(worker, table, prefix, **{"document.schema.validation": validation,
                                                "errors.tolerance": "all"})
    try:
        wait_until(lambda: sum(worker.metric(SKIPPED_METRIC, table=table, connector=prefix)) >= skipped, 120,
                   f"{skipped} skipped records counted")
        wait_until(lambda: worker.topic_size(topic) >= len(kept), 60, "the kept records")
        assert worker.status(prefix)["tasks"][0]["state"] == "RUNNING"
        assert sum(worker.metric(SKIPPED_METRIC, table=table, connector=prefix)) == skipped  # gone once it stops
    finally:
        worker.delete_connector(prefix)
    documents = by_pk([p["after"]["document"] for _, p in json_values(worker, topic)])
    assert set(documents) == kept
    assert documents["good"] == {"pk": "good", "qty": 1, "note": None}
    if "extra" in kept:
        assert documents["extra"] == {"pk": "extra", "qty": 2, "note": None}  # the extra attribute dropped
    log = worker.worker_log()
    assert all(f'{{"pk":{{"S":"{pk}"}}}}' in log for pk in set(USER_ITEMS) - kept)


@pytest.mark.parametrize("fmt", ["JSON_SR", "PROTOBUF"])
def test_auto_infer_in_the_other_registry_formats(worker: Stack, unique: str, fmt: str) -> None:
    ddb = worker.dynamodb()
    table = f"typed-{unique}"
    create_table(ddb, table, [("pk", "S")])
    ddb.put_item(TableName=table, Item=ITEMS[0])
    registry = Registry(worker.schema_registry_url)
    prefix = f"f{unique}"
    topic = f"{prefix}.{table}"
    worker.create_connector(prefix, typed_config(worker, table, fmt, prefix, **{
        "document.schema.source": "auto_infer"}))
    try:
        wait_until(lambda: worker.topic_size(topic) >= 1, 120, "the snapshot record")
    finally:
        worker.delete_connector(prefix)
    (record,) = worker.read_topic(topic, decode=lambda b: b)
    document = registry.decode(fmt, record.value)[1]["after"]["document"]
    assert (document["n"], document["big"], document["flag"], document["tags"]) == (3.5, 5e9, True, ["x"])
    assert document[ds.field_name("first name")] == "Ada"
    assert document["m"]["k"] == "v" and [e["q"] for e in document["l"]] == [1.0, 2.0]
    assert document["blob"] in (b"\x00\xff", "AP8=")  # bytes, or base64 text in JSON


def test_connect_validation_reports_the_typed_document_properties(worker: Stack) -> None:
    def errors(**settings: str) -> dict[str, list[str]]:
        config = {**worker.connector_config("orders"), "name": "v", **settings}
        r = requests.put(f"{worker.connect_url}/connector-plugins/DynamoDbCdcSource/config/validate", json=config,
                         timeout=30)
        return {c["value"]["name"]: c["value"]["errors"] for c in r.json()["configs"] if c["value"]["errors"]}

    assert "document.schema.value is required" in errors(**{"document.content.format": "schema"})[
        "document.schema.value"][0]
    assert "must be one of double, long, string, auto" in errors(**{"decimal.handling.mode": "float"})[
        "decimal.handling.mode"][0]
    assert errors(**{"document.content.format": "schema", "document.schema.source": "auto_infer"}) == {}
    definitions = requests.get(f"{worker.connect_url}/connector-plugins/DynamoDbCdcSource/config", timeout=30).json()
    defaults = {d["name"]: d["default_value"] for d in definitions}
    assert (defaults["document.content.format"], defaults["decimal.handling.mode"]) == ("json_string", "double")


def subject_tree(registry: Registry, subject: str) -> list[str]:
    """A subject and, recursively, the subjects of the schemas its latest version references."""
    references = registry.latest(subject).get("references") or []
    return [subject, *(s for r in references for s in subject_tree(registry, r["subject"]))]


@pytest.mark.parametrize("fmt", ["PROTOBUF", "JSON_SR"])
def test_a_new_attribute_is_accepted_under_a_backward_rule_in_the_other_formats(worker: Stack, unique: str,
                                                                                fmt: str) -> None:
    """PROTOBUF: field numbers stay (they come from names); JSON_SR: an optional property is added."""
    ddb, table, prefix, topic = start_evolving(worker, f"evolve{fmt.lower()}-{unique}", fmt, f"ev{fmt.lower()}{unique}")
    registry = Registry(worker.schema_registry_url)
    try:
        wait_until(lambda: worker.topic_size(topic) >= 1, 120, "the snapshot record")
        for subject in subject_tree(registry, f"{topic}-value"):  # the Document is a file (subject) of its own
            r = requests.put(f"{worker.schema_registry_url}/config/{quote(subject, safe='')}",
                             json={"compatibility": "BACKWARD"}, timeout=30)
            assert r.status_code == 200, r.text
        # "added" sorts before the other fields: by position they would all move
        ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "x": {"S": "2"}, "added": {"BOOL": True}})

        def documents() -> dict[str, Any]:
            values = [registry.decode(fmt, r.value)[1] for r in worker.read_topic(topic, decode=lambda b: b)
                      if r.value is not None]
            return by_pk([v["after"]["document"] for v in values])

        found = wait_until(lambda: "b" in (d := documents()) and d, 120, "the change with the new attribute")
        assert worker.status(prefix)["tasks"][0]["state"] == "RUNNING"
    finally:
        worker.delete_connector(prefix)
    assert found["a"]["x"] == "1" and found["b"]["x"] == "2" and found["b"]["added"] is True
    assert len(registry.get(f"/subjects/{topic}-value/versions")) >= 2
