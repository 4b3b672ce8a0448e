"""Turning a Confluent Cloud connector configuration into one for a self-managed worker.

In Confluent Cloud the platform applies the Kafka credentials and the output format. On a
self-managed worker the worker owns the Kafka connection and converters do the formatting, so:

- ``kafka.api.key``/``kafka.api.secret`` (with ``kafka.auth.mode=KAFKA_API_KEY``) become
  ``producer.override.*`` SASL/PLAIN settings over TLS, which the worker applies to this connector's
  producer (the worker must allow it: ``connector.client.config.override.policy=All``, Kafka's default);
  with ``SERVICE_ACCOUNT`` the worker's own identity is used;
- ``output.data.format`` / ``output.data.key.format`` select the value and key converters;
- ``connector.class`` becomes our class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from python_connector.config import ConfigError

CONNECTOR_CLASS = "io.ddbcdc.connect.DynamoDbCdcSourceConnector"
DEFAULT_FORMAT = "AVRO"
# Converter class per output format; the schema-registry ones take <prefix>.schema.registry.url.
CONVERTERS = {
    "JSON": "org.apache.kafka.connect.json.JsonConverter",
    "AVRO": "io.confluent.connect.avro.AvroConverter",
    "JSON_SR": "io.confluent.connect.json.JsonSchemaConverter",
    "PROTOBUF": "io.confluent.connect.protobuf.ProtobufConverter",
}
SUBJECT_STRATEGY_PACKAGE = "io.confluent.kafka.serializers.subject."


def _converter(prefix: str, fmt: str, registry_url: str | None, strategy: str | None) -> dict[str, str]:
    if fmt not in CONVERTERS:
        raise ConfigError({f"output.data{'.key' if prefix == 'key' else ''}.format":
                           [f"must be one of {', '.join(CONVERTERS)}, got {fmt!r}"]})
    out = {f"{prefix}.converter": CONVERTERS[fmt]}
    if fmt == "JSON":
        out[f"{prefix}.converter.schemas.enable"] = "true"
        return out
    if not registry_url:
        raise ConfigError({f"output.data{'.key' if prefix == 'key' else ''}.format":
                           [f"{fmt} needs a schema registry: pass --schema-registry-url"]})
    out[f"{prefix}.converter.schema.registry.url"] = registry_url
    if strategy:
        out[f"{prefix}.converter.{prefix}.subject.name.strategy"] = SUBJECT_STRATEGY_PACKAGE + strategy
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


def translate(cloud: Mapping[str, Any], schema_registry_url: str | None = None) -> dict[str, Any]:
    """{"name", "config"} for a self-managed worker, from a Cloud config (flat or under "config")."""
    config = {k: str(v) for k, v in (cloud.get("config", cloud)).items()}
    name = config.get("name") or cloud.get("name")
    if not name:
        raise ConfigError({"name": ["the configuration has no connector name"]})
    out = {k: v for k, v in config.items() if k not in ("kafka.api.key", "kafka.api.secret")}
    out["connector.class"] = CONNECTOR_CLASS
    out.update(_kafka_overrides(config))
    out.update(_converter("value", config.get("output.data.format", DEFAULT_FORMAT), schema_registry_url,
                          config.get("value.subject.name.strategy")))
    out.update(_converter("key", config.get("output.data.key.format", DEFAULT_FORMAT), schema_registry_url,
                          config.get("key.subject.name.strategy")))
    return {"name": name, "config": out}
