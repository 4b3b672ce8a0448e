"""Topic names with a prefix and suffix through Kafka's RegexRouter, and topics created by Connect (KIP-158)
on a broker that does not create them: both from config-examples/avro-topic-routing.json."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from confluent_kafka.admin import AdminClient, ConfigResource, ResourceType

from python_connector.cli.translate import TOPIC_CREATION_DEFAULTS
from tests.integration.conftest import ROOT, Stack, wait_until
from tests.integration.registry import Registry
from tests.integration.tables import as_wire_json, create_table
from tests.integration.workers import free_port, start_broker, start_launched, wait_for_rest, worker_properties

EXAMPLE = ROOT / "config-examples" / "avro-topic-routing.json"
ITEMS = [{"id": {"S": f"item-{i}"}, "n": {"N": str(i)}} for i in range(3)]


def example(stack: Stack, table: str, unique: str) -> dict[str, str]:
    config = json.loads(EXAMPLE.read_text())["config"]
    registry = stack.for_worker(stack.schema_registry_url)
    config.update({"dynamodb.service.endpoint": stack.for_worker(stack.dynamodb_endpoint),
                   "dynamodb.table.includelist": table, "dynamodb.table.sync.mode": "SNAPSHOT",
                   "poll.linger.ms": "200", "key.converter.schema.registry.url": registry,
                   "value.converter.schema.registry.url": registry})
    return config


def routed(table: str) -> str:
    return f"dynamodb.{table}.cdc"


def table_with_items(stack: Stack, table: str) -> None:
    ddb = stack.dynamodb()
    create_table(ddb, table, [("id", "S")])
    for item in ITEMS:
        ddb.put_item(TableName=table, Item=item)


def snapshot_of(stack: Stack, topic: str) -> tuple[dict[str, Any], set[int], set[int]]:
    """{key id: item} of the topic's snapshot records, decoded through the registry, and the key and value ids."""
    registry = Registry(stack.schema_registry_url)
    items, key_ids, value_ids = {}, set(), set()
    for record in stack.read_topic(topic, decode=lambda b: b):
        key_id, key = registry.decode("AVRO", record.key)
        value_id, value = registry.decode("AVRO", record.value)
        assert value["op"] == "r"
        items[key["id"]] = json.loads(value["after"]["document"])
        key_ids.add(key_id)
        value_ids.add(value_id)
    return items, key_ids, value_ids


def test_regex_router_puts_a_prefix_and_suffix_on_topics_and_their_subjects(stack, unique):
    table = f"routed_{unique}"
    table_with_items(stack, table)
    name = f"routed-{unique}"
    stack.create_connector(name, example(stack, table, unique))
    try:
        wait_until(lambda: stack.topic_size(routed(table)) >= len(ITEMS), 120, "the routed topic's records")
    finally:
        stack.delete_connector(name)
    items, key_ids, value_ids = snapshot_of(stack, routed(table))
    assert items == {i["id"]["S"]: as_wire_json(i) for i in ITEMS}
    registry = Registry(stack.schema_registry_url)
    assert {registry.latest(f"{routed(table)}-key")["id"]} == key_ids  # TopicNameStrategy on the routed name
    assert {registry.latest(f"{routed(table)}-value")["id"]} == value_ids
    admin = AdminClient({"bootstrap.servers": stack.bootstrap})
    assert table not in admin.list_topics(timeout=10).topics, "records also went to the unrouted topic"


@pytest.mark.local_stack  # starts a broker and a worker of its own
def test_connect_creates_the_topics_with_cdc_settings_when_the_broker_does_not(stack, unique, tmp_path):
    config = example(stack, f"created_{unique}", unique)
    assert {k: v for k, v in config.items() if k.startswith("topic.creation.")} == TOPIC_CREATION_DEFAULTS
    table = f"created_{unique}"
    table_with_items(stack, table)
    broker, bootstrap = start_broker(tmp_path, auto_create=False)
    worker = None
    try:
        admin = AdminClient({"bootstrap.servers": bootstrap})
        wait_until(lambda: broker.poll() is not None or _answers(admin), 60, "the broker without auto-creation")
        assert broker.poll() is None, (tmp_path / "broker.log").read_text()[-3000:]
        broker_config = admin.describe_configs([ConfigResource(ResourceType.BROKER, "1")])
        settings = next(iter(broker_config.values())).result()
        assert settings["auto.create.topics.enable"].value == "false"

        port = free_port()
        url = f"http://127.0.0.1:{port}"
        props = worker_properties(tmp_path / "worker.properties", bootstrap, port, f"created-{unique}")
        worker = start_launched(props, tmp_path / "worker.log")
        wait_for_rest(worker, url, tmp_path / "worker.log")
        remote = dataclasses.replace(stack, bootstrap=bootstrap, connect_url=url)
        remote.create_connector(f"created-{unique}", config)
        wait_until(lambda: remote.topic_size(routed(table)) >= len(ITEMS), 120, "records in the created topic")

        topic = ConfigResource(ResourceType.TOPIC, routed(table))
        created = next(iter(admin.describe_configs([topic]).values())).result()
        assert created["cleanup.policy"].value == "compact"
        assert created["delete.retention.ms"].value == "86400000"
        items, _, _ = snapshot_of(remote, routed(table))
        assert items == {i["id"]["S"]: as_wire_json(i) for i in ITEMS}
    finally:
        for process in (worker, broker):
            if process is not None:
                process.terminate()
                process.wait(60)


def _answers(admin: AdminClient) -> bool:
    try:
        admin.list_topics(timeout=2)
        return True
    except Exception:
        return False
