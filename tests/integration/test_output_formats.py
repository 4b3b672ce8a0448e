"""Each output format end to end, decoded without the connector's code.

One stream-enabled table; one SNAPSHOT_CDC connector per format, configured by `ddb-cdc translate` from a
Cloud configuration, its topic prefixed by Kafka's RegexRouter. AVRO, JSON_SR and PROTOBUF records are decoded
with the schema fetched from the registry by the id each record carries (fastavro, jsonschema, protoc); JSON
with and without Connect's embedded schema. Snapshot and change records, keys and values, are compared with the
table's items; schema names and subjects with the documentation and the configured strategies.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import fastavro
import orjson
import pytest
import requests

from python_connector.cli.translate import translate
from tests.integration.conftest import wait_until
from tests.integration.registry import Registry, as_dict
from tests.integration.tables import as_wire_json, create_table

ITEMS = [
    {"pk": {"S": "a"}, "sk": {"N": "1"}, "name": {"S": "Ada"}, "n": {"N": "3.14"}, "flag": {"BOOL": True}},
    {"pk": {"S": "a"}, "sk": {"N": "2"}, "blob": {"B": b"\x00\x01\xff"}, "tags": {"SS": ["x", "y"]}},
    {"pk": {"S": "b"}, "sk": {"N": "-7"}, "doc": {"M": {"k": {"L": [{"N": "1"}, {"NULL": True}]}}}},
    {"pk": {"S": "ü ✓"}, "sk": {"N": "100000000000000000001"}, "s": {"S": "unicode ✓"}},
]
UPDATED = {**ITEMS[0], "name": {"S": "Grace"}}
INSERTED = {"pk": {"S": "c"}, "sk": {"N": "0"}, "new": {"S": "yes"}}
DELETED = ITEMS[2]

# variant -> (output format, Cloud settings, self-managed settings on top of the translation)
VARIANTS: dict[str, tuple[str, dict[str, str], dict[str, str]]] = {
    "avro": ("AVRO", {"key.subject.name.strategy": "RecordNameStrategy",
                      "value.subject.name.strategy": "TopicRecordNameStrategy"}, {}),
    "jsonsr": ("JSON_SR", {}, {}),
    "protobuf": ("PROTOBUF", {"value.converter.reference.subject.name.strategy":
                              "QualifiedReferenceSubjectNameStrategy"}, {}),
    "json": ("JSON", {}, {}),
    "jsonschemas": ("JSON", {}, {"key.converter.schemas.enable": "true", "value.converter.schemas.enable": "true"}),
}


def key_of(item: dict[str, Any]) -> tuple[str, str]:
    return item["pk"]["S"], item["sk"]["N"]


def canonical(document: Any) -> Any:
    """DynamoDB JSON with set members sorted (a set's order is not part of the item)."""
    if isinstance(document, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else canonical(v) for k, v in document.items()}
    if isinstance(document, list):
        return [canonical(v) for v in document]
    return document


def expected(item: dict[str, Any]) -> Any:
    return canonical(as_wire_json(item))


def connector_config(stack: Any, table: str, variant: str, unique: str) -> tuple[str, dict[str, str]]:
    fmt, cloud_settings, overrides = VARIANTS[variant]
    name = f"fmt-{variant}-{unique}"
    cloud = {**stack.connector_config(table), "name": name, "output.data.format": fmt,
             "output.data.key.format": fmt, "dynamodb.table.sync.mode": "SNAPSHOT_CDC",
             "dynamodb.cdc.checkpointing.table.prefix": f"fmt-{variant}-{unique}-", **cloud_settings}
    config = translate(cloud, stack.for_worker(stack.schema_registry_url))["config"]
    config.update({"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
                   "transforms.route.regex": "(.*)", "transforms.route.replacement": f"{variant}.$1", **overrides})
    return name, config


def decoder(variant: str, registry: Registry) -> Callable[[bytes], Any]:
    """Raw key or value bytes -> (schema id or None, the plain envelope or key dict)."""
    fmt = VARIANTS[variant][0]
    if variant == "jsonschemas":
        return lambda data: (None, orjson.loads(data)["payload"])
    if fmt == "JSON":
        return lambda data: (None, orjson.loads(data))
    return lambda data: registry.decode(fmt, data)


def read(stack: Any, topic: str, decode: Callable[[bytes], Any]) -> list[tuple[Any, Any, Any, Any]]:
    """(key id, key, value id, value) per record; a tombstone's value and id are None."""
    out = []
    for record in stack.read_topic(topic, decode=lambda b: b):
        key_id, key = decode(record.key)
        value_id, value = decode(record.value) if record.value is not None else (None, None)
        out.append((key_id, key, value_id, value))
    return out


def document(image: dict[str, Any] | None) -> Any:
    return None if image is None else canonical(json.loads(image["document"]))


def check_records(records: list[tuple[Any, Any, Any, Any]], table: str) -> None:
    keys = [(k["pk"], k["sk"]) for _, k, _, _ in records]
    ops = [v["op"] if v else None for _, _, _, v in records]
    snapshot = [i for i, op in enumerate(ops) if op == "r"]
    assert len(snapshot) == len(ITEMS) and snapshot == list(range(len(ITEMS))), ops
    assert {keys[i]: document(records[i][3]["after"]) for i in snapshot} == {key_of(i): expected(i) for i in ITEMS}
    for i in snapshot:
        value = records[i][3]
        source = value["source"]
        assert value["before"] is None and value["ts_ms"] > 0
        assert (source["tableName"], source["sync_mode"], source["totalSegments"]) == (table, "SNAPSHOT", 5)
        assert source["shard_Id"] is None and source["seq_No"] is None and source["snapshotCount"] == 1

    changes = [(keys[i], records[i][3]) for i in range(len(ITEMS), len(records))]
    for _, value in changes:
        if value is not None:
            assert value["source"]["sync_mode"] == "CDC" and value["source"]["shard_Id"] and value["source"]["seq_No"]
            assert value["source"]["segment"] is None and value["source"]["snapshotStartTime"] is None
    updates = [(k, document(v["before"]), document(v["after"])) for k, v in changes if v and v["op"] == "u"]
    assert updates == [(key_of(UPDATED), expected(ITEMS[0]), expected(UPDATED))]
    delete = next(i for i, (k, v) in enumerate(changes) if v and v["op"] == "d")
    assert changes[delete][0] == key_of(DELETED)
    assert document(changes[delete][1]["before"]) == expected(DELETED) and changes[delete][1]["after"] is None
    assert changes[delete + 1] == (key_of(DELETED), None), "no tombstone after the delete"
    # the initial puts may be replayed (the stream is read from before the snapshot began), then the insert
    inserts = {k: document(v["after"]) for k, v in changes if v and v["op"] == "c"}
    assert inserts[key_of(INSERTED)] == expected(INSERTED)
    assert all(inserts[key_of(i)] == expected(i) for i in ITEMS if key_of(i) in inserts)


def check_avro(registry: Registry, topic: str, table: str, records: list) -> None:
    scrubbed = table.replace("-", "_")  # Avro names hold letters, digits and '_' only
    key_id, value_id = records[0][0], records[0][2]
    envelope = fastavro.parse_schema(json.loads(registry.schema(value_id)["schema"]))  # names fully qualified
    assert envelope["name"] == f"io.confluent.connect.dynamodb.{scrubbed}.Envelope"
    fields = {f["name"]: f for f in envelope["fields"]}
    source = fields["source"]["type"][1]
    assert source["name"] == "io.confluent.connector.dynamodb.Source"
    assert {f["name"]: f.get("default", "none") for f in source["fields"]}["shard_Id"] is None  # nullable, null
    assert fields["before"]["type"][0] == "null" and fields["before"]["default"] is None
    assert fields["before"]["type"][1]["name"] == f"io.confluent.connect.dynamodb.{scrubbed}.Value"
    key = fastavro.parse_schema(json.loads(registry.schema(key_id)["schema"]))
    assert (key["name"], [f["name"] for f in key["fields"]]) == (f"io.confluent.connect.dynamodb.{scrubbed}.Key",
                                                                 ["pk", "sk"])
    # RecordNameStrategy for keys, TopicRecordNameStrategy for values
    assert registry.latest(f"io.confluent.connect.dynamodb.{scrubbed}.Key")["id"] == key_id
    assert registry.latest(f"{topic}-io.confluent.connect.dynamodb.{scrubbed}.Envelope")["id"] == value_id


def check_json_sr(registry: Registry, topic: str, table: str, records: list) -> None:
    key_id, value_id = records[0][0], records[0][2]
    envelope = json.loads(registry.schema(value_id)["schema"])
    assert envelope["title"] == f"io.confluent.connect.dynamodb.{table}.Envelope"
    assert envelope["properties"]["source"]["oneOf"][1]["title"] == "io.confluent.connector.dynamodb.Source"
    assert envelope["properties"]["after"]["oneOf"][1]["title"] == f"io.confluent.connect.dynamodb.{table}.Value"
    assert json.loads(registry.schema(key_id)["schema"])["title"] == f"io.confluent.connect.dynamodb.{table}.Key"
    assert registry.schema(value_id)["schemaType"] == "JSON"
    assert registry.latest(f"{topic}-key")["id"] == key_id and registry.latest(f"{topic}-value")["id"] == value_id


def check_protobuf(registry: Registry, topic: str, table: str, records: list) -> None:
    scrubbed = table.replace("-", "_")
    key_id, value_id = records[0][0], records[0][2]
    envelope = registry.protobuf_class(value_id, [0]).DESCRIPTOR
    assert envelope.full_name == f"io.confluent.connect.dynamodb.{scrubbed}.Envelope"
    assert envelope.fields_by_name["source"].message_type.full_name == "io.confluent.connector.dynamodb.Source"
    assert envelope.fields_by_name["after"].message_type.full_name == f"io.confluent.connect.dynamodb.{scrubbed}.Value"
    assert registry.protobuf_class(key_id, [0]).DESCRIPTOR.full_name == f"io.confluent.connect.dynamodb.{scrubbed}.Key"
    assert registry.latest(f"{topic}-key")["id"] == key_id and registry.latest(f"{topic}-value")["id"] == value_id
    # the imported files under QualifiedReferenceSubjectNameStrategy's subjects
    references = {r["name"]: r["subject"] for r in registry.latest(f"{topic}-value")["references"]}
    assert references == {
        "io/confluent/connector/dynamodb/Source.proto": "io.confluent.connector.dynamodb.Source",
        f"io/confluent/connect/dynamodb/{scrubbed}/Value.proto": f"io.confluent.connect.dynamodb.{scrubbed}.Value"}


def confluent_deserializer(variant: str, registry: Registry) -> Callable[[bytes, str, bool], Any]:
    """Confluent's own Python deserializers, which Schema Registry-aware consumers use."""
    from confluent_kafka.schema_registry import SchemaRegistryClient
    from confluent_kafka.schema_registry.avro import AvroDeserializer
    from confluent_kafka.schema_registry.json_schema import JSONDeserializer
    from confluent_kafka.schema_registry.protobuf import ProtobufDeserializer
    from confluent_kafka.serialization import MessageField, SerializationContext

    client = SchemaRegistryClient({"url": registry.url})
    if variant == "avro":
        deserializer = AvroDeserializer(client)
    elif variant == "jsonsr":
        deserializer = JSONDeserializer(None, schema_registry_client=client)

    def deserialize(data: bytes, topic: str, is_key: bool) -> Any:
        context = SerializationContext(topic, MessageField.KEY if is_key else MessageField.VALUE)
        if variant != "protobuf":
            return deserializer(data, context)
        cls = registry.protobuf_class(int.from_bytes(data[1:5], "big"), [0])
        return as_dict(ProtobufDeserializer(cls, {"use.deprecated.format": False})(data, context))

    return deserialize


def check_confluent_deserializers(stack: Any, registry: Registry, variant: str, topic: str) -> None:
    deserialize, decode = confluent_deserializer(variant, registry), decoder(variant, registry)
    for record in stack.read_topic(topic, decode=lambda b: b):
        assert deserialize(record.key, topic, True) == decode(record.key)[1]
        if record.value is not None:
            assert deserialize(record.value, topic, False) == decode(record.value)[1]


def check_json_schemas(stack: Any, topic: str, table: str) -> None:
    first = stack.read_topic(topic)[0]
    assert first.value["schema"]["name"] == f"io.confluent.connect.dynamodb.{table}.Envelope"
    assert first.key["schema"]["name"] == f"io.confluent.connect.dynamodb.{table}.Key"


def test_every_format_decodes_to_the_tables_items_for_snapshot_and_changes(stack, unique):
    table = f"fmt-{unique}"
    ddb = stack.dynamodb()
    create_table(ddb, table, [("pk", "S"), ("sk", "N")], stream_view="NEW_AND_OLD_IMAGES")
    for item in ITEMS:
        ddb.put_item(TableName=table, Item=item)
    registry = Registry(stack.schema_registry_url)
    topics = {v: f"{v}.{table}" for v in VARIANTS}
    decoders = {v: decoder(v, registry) for v in VARIANTS}
    connectors = [connector_config(stack, table, v, unique) for v in VARIANTS]
    for name, config in connectors:
        stack.create_connector(name, config)
    try:
        wait_until(lambda: all(stack.topic_size(t) >= len(ITEMS) for t in topics.values()), 120,
                   "every format's snapshot records")
        ddb.put_item(TableName=table, Item=UPDATED)
        ddb.delete_item(TableName=table, Key={"pk": DELETED["pk"], "sk": DELETED["sk"]})
        ddb.put_item(TableName=table, Item=INSERTED)

        def inserted(variant: str) -> bool:
            return any(k["pk"] == "c" and v and v["op"] == "c" for _, k, _, v in
                       read(stack, topics[variant], decoders[variant]))

        wait_until(lambda: all(inserted(v) for v in VARIANTS), 120, "every format's change events")
        records = {v: read(stack, topics[v], decoders[v]) for v in VARIANTS}
    finally:
        for name, _ in connectors:
            stack.delete_connector(name)

    for variant, found in records.items():
        try:
            check_records(found, table)
        except AssertionError as e:
            pytest.fail(f"{variant}: {e}")
    check_avro(registry, topics["avro"], table, records["avro"])
    check_json_sr(registry, topics["jsonsr"], table, records["jsonsr"])
    check_protobuf(registry, topics["protobuf"], table, records["protobuf"])
    check_json_schemas(stack, topics["jsonschemas"], table)
    for variant in ("avro", "jsonsr", "protobuf"):
        check_confluent_deserializers(stack, registry, variant, topics[variant])


def validation_errors(stack: Any, settings: dict[str, str]) -> dict[str, list[str]]:
    r = requests.put(f"{stack.connect_url}/connector-plugins/DynamoDbCdcSource/config/validate", json=settings,
                     timeout=30)
    return {c["value"]["name"]: c["value"]["errors"] for c in r.json()["configs"] if c["value"]["errors"]}


def test_validation_refuses_format_settings_the_converters_would_not_honour(stack):
    avro = "io.ddbcdc.connect.converters.AvroConverter"
    settings = {**stack.connector_config("orders"), "name": "formats", "output.data.format": "PROTOBUF",
                "value.converter": avro, "key.converter": avro, "key.subject.name.strategy": "RecordNameStrategy",
                "schema.context.name": "prod", "key.converter.schema.registry.url": stack.schema_registry_url,
                "value.converter.schema.registry.url": stack.schema_registry_url}
    errors = validation_errors(stack, settings)
    assert set(errors) == {"output.data.format", "key.subject.name.strategy", "schema.context.name"}
    assert "set value.converter=io.ddbcdc.connect.converters.ProtobufConverter" in errors["output.data.format"][0]
    assert "key.converter.key.subject.name.strategy" in errors["key.subject.name.strategy"][0]
    assert "not supported" in errors["schema.context.name"][0]
    # Connect checks the converters' own settings too: a schema-registry converter needs its URL
    del settings["key.converter.schema.registry.url"]
    assert "key.converter.schema.registry.url" in validation_errors(stack, settings)
