"""Turning a Confluent Cloud connector configuration into one for a self-managed worker.

In Confluent Cloud the platform applies the Kafka credentials and the output format. On a
self-managed worker the worker owns the Kafka connection and converters do the formatting, so:

- ``kafka.api.key``/``kafka.api.secret`` (with ``kafka.auth.mode=KAFKA_API_KEY``) become
  ``producer.override.*`` SASL/PLAIN settings over TLS, which the worker applies to this connector's
  producer (the worker must allow it: ``connector.client.config.override.policy=All``, Kafka's default);
  with ``SERVICE_ACCOUNT`` the worker's own identity is used;
- ``output.data.format`` / ``output.data.key.format`` select the value and key converters (the plugin's
  schema-registry converters for AVRO, JSON_SR and PROTOBUF, with the subject strategies; Kafka's
  JsonConverter without schemas for JSON);
- ``topic.creation.default.*`` get defaults for CDC topics, so no broker auto-creation is needed;
- ``connector.class`` becomes our class.

Everything else passes through as it is, since the engine implements it: e.g. the typed-document properties
(``document.content.format``, ``document.schema.*``, ``decimal.handling.mode``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from python_connector.config import ConfigError, formats

CONNECTOR_CLASS = "io.ddbcdc.connect.DynamoDbCdcSourceConnector"
DEFAULT_FORMAT = "AVRO"
# KIP-158 topic creation, so the connector's topics exist on a broker with auto-creation off. Compacted
# topics keep each item's latest change for good and let the tombstone after a delete remove the item
# (after delete.retention.ms, one day, which readers of the deletes have to catch up within); partitions
# and replication come from the broker's defaults. Settings in the Cloud configuration win.
TOPIC_CREATION_DEFAULTS = {
    "topic.creation.default.partitions": "-1",
    "topic.creation.default.replication.factor": "-1",
    "topic.creation.default.cleanup.policy": "compact",
    "topic.creation.default.delete.retention.ms": "86400000",
}


def _converter(side: str, config: Mapping[str, str], registry_url: str | None,
               user_info: str | None) -> dict[str, str]:
    fmt_property = formats.format_property(side)
    fmt = config.get(fmt_property, DEFAULT_FORMAT)
    if fmt not in formats.CONVERTERS:
        raise ConfigError({fmt_property: [f"must be one of {', '.join(formats.CONVERTERS)}, got {fmt!r}"]})
    out = {f"{side}.converter": formats.CONVERTERS[fmt]}
    if fmt == "JSON":  # Cloud's JSON records are plain JSON, without Connect's embedded schema
        out[f"{side}.converter.schemas.enable"] = "false"
        return out
    if not registry_url:
        raise ConfigError({fmt_property: [f"{fmt} needs a schema registry: pass --schema-registry-url"]})
    out[f"{side}.converter.schema.registry.url"] = registry_url
    if user_info:
        out[f"{side}.converter.basic.auth.credentials.source"] = "USER_INFO"
        out[f"{side}.converter.basic.auth.user.info"] = user_info
    strategy = config.get(f"{side}.subject.name.strategy")
    if strategy:  # as a class name, which Confluent's converters need too
        out[f"{side}.converter.{side}.subject.name.strategy"] = formats.SUBJECT_STRATEGY_PACKAGE + strategy
    return out


def _kafka_overrides(config: Mapping[str, str]) -> dict[str, str]:
    if config.get("kafka.auth.mode", "KAFKA_API_KEY") != "KAFKA_API_KEY":
        return {}
    key, secret = config.get("kafka.api.key"), config.get("kafka.api.secret")
    if not key and not secret:
        return {}
    if not (key and secret):
        raise ConfigError({"kafka.api.secret" if key else "kafka.api.key":
                           ["kafka.api.key and kafka.api.secret go together: give both"]})
    escaped_key, escaped_secret = (v.replace("\\", "\\\\").replace('"', '\\"') for v in (key, secret))
    return {
        "producer.override.security.protocol": "SASL_SSL",
        "producer.override.sasl.mechanism": "PLAIN",
        "producer.override.sasl.jaas.config": "org.apache.kafka.common.security.plain.PlainLoginModule required "
                                              f'username="{escaped_key}" password="{escaped_secret}";',
    }


def translate(cloud: Mapping[str, Any], schema_registry_url: str | None = None,
              schema_registry_user_info: str | None = None) -> dict[str, Any]:
    """{"name", "config"} for a self-managed worker, from a Cloud config (flat or under "config")."""
    config = {k: str(v) for k, v in (cloud.get("config", cloud)).items()}
    name = config.get("name") or cloud.get("name")
    if not name:
        raise ConfigError({"name": ["the configuration has no connector name"]})
    out = {k: v for k, v in config.items() if k not in ("kafka.api.key", "kafka.api.secret")}
    out["connector.class"] = CONNECTOR_CLASS
    out.update(_kafka_overrides(config))
    for side in ("value", "key"):
        out.update(_converter(side, config, schema_registry_url, schema_registry_user_info))
    for key, value in TOPIC_CREATION_DEFAULTS.items():
        out.setdefault(key, value)
    return {"name": name, "config": out}
