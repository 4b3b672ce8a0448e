"""Output formats: the converter that writes each, and the checks that a connector configuration's converter
settings agree with ``output.data.format`` and the schema properties.

On a self-managed worker the converters format the records, so the Cloud properties take effect through
converter settings (``ddb-cdc translate`` writes them). When a configuration names its converters, a
Cloud property they contradict would be silently ignored; validation refuses that instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

JSON_CONVERTER = "org.apache.kafka.connect.json.JsonConverter"
# The converters shipped with the plugin (java_shim/converters), per output.data.format.
CONVERTERS = {
    "AVRO": "io.ddbcdc.connect.converters.AvroConverter",
    "JSON_SR": "io.ddbcdc.connect.converters.JsonSchemaConverter",
    "PROTOBUF": "io.ddbcdc.connect.converters.ProtobufConverter",
    "JSON": JSON_CONVERTER,
}
# Confluent's own converters take the same settings and are as good a match.
CONFLUENT_CONVERTERS = {
    "AVRO": "io.confluent.connect.avro.AvroConverter",
    "JSON_SR": "io.confluent.connect.json.JsonSchemaConverter",
    "PROTOBUF": "io.confluent.connect.protobuf.ProtobufConverter",
}
FORMAT_OF = {cls: fmt for table in (CONVERTERS, CONFLUENT_CONVERTERS) for fmt, cls in table.items()}
SUBJECT_STRATEGY_PACKAGE = "io.confluent.kafka.serializers.subject."
DEFAULT_SUBJECT_STRATEGY = "TopicNameStrategy"


def format_property(side: str) -> str:
    return "output.data.key.format" if side == "key" else "output.data.format"


def check(values: Mapping[str, Any], raw: Mapping[str, str]) -> list[tuple[str, str]]:
    """(property, message) for each Cloud schema property the configuration's converters would not honour."""
    out = []
    context = values["schema.context.name"]
    if context != "default":
        out.append(("schema.context.name",
                    f"schema.context.name={context} is not supported here: the bundled converters register subjects "
                    "in the schema registry's default context (Apicurio Registry, the local stack's registry, has "
                    "no contexts). Remove it or set it to 'default'."))
    for side in ("key", "value"):
        converter = (raw.get(f"{side}.converter") or "").strip()
        if not converter:  # the worker's converter, which the connector cannot see
            continue
        fmt_property = format_property(side)
        fmt = FORMAT_OF.get(converter)
        if fmt_property in raw and fmt != values[fmt_property]:
            out.append((fmt_property,
                        f"{fmt_property}={values[fmt_property]} but {side}.converter is {converter}, which does not "
                        f"write {values[fmt_property]}: set {side}.converter={CONVERTERS[values[fmt_property]]} "
                        "(`ddb-cdc translate` does) or change the format."))
            continue
        strategy_property = f"{side}.subject.name.strategy"
        if fmt in (None, "JSON") or strategy_property not in raw:
            continue
        wanted = values[strategy_property]
        given = raw.get(f"{side}.converter.{strategy_property}", DEFAULT_SUBJECT_STRATEGY).strip()
        if given.rsplit(".", 1)[-1] != wanted:
            out.append((strategy_property,
                        f"{strategy_property}={wanted} takes effect through the {side} converter, which is set to "
                        f"{given}: set {side}.converter.{strategy_property}={SUBJECT_STRATEGY_PACKAGE}{wanted} "
                        "(`ddb-cdc translate` does)."))
    return out
