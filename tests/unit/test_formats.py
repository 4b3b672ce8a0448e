"""Validation of the output format settings against the converters a configuration names."""

from python_connector.config import validate

BASE = {"dynamodb.table.includelist": "orders"}
AVRO = "io.ddbcdc.connect.converters.AvroConverter"


def test_a_format_the_named_converter_does_not_write_is_refused_naming_the_converter_to_use():
    problems = validate({**BASE, "output.data.format": "PROTOBUF", "value.converter": AVRO})
    assert problems["output.data.format"] == [
        "output.data.format=PROTOBUF but value.converter is io.ddbcdc.connect.converters.AvroConverter, which does "
        "not write PROTOBUF: set value.converter=io.ddbcdc.connect.converters.ProtobufConverter (`ddb-cdc translate` "
        "does) or change the format."]
    assert "output.data.key.format" in validate({**BASE, "output.data.key.format": "JSON", "key.converter": AVRO})


def test_matching_converters_ours_or_confluents_pass():
    assert validate({**BASE, "output.data.format": "AVRO", "value.converter": AVRO}) == {}
    assert validate({**BASE, "output.data.format": "JSON_SR",
                     "value.converter": "io.confluent.connect.json.JsonSchemaConverter"}) == {}
    assert validate({**BASE, "output.data.key.format": "JSON",
                     "key.converter": "org.apache.kafka.connect.json.JsonConverter"}) == {}


def test_without_a_named_converter_or_format_there_is_nothing_to_compare():
    assert validate({**BASE, "output.data.format": "PROTOBUF"}) == {}
    assert validate({**BASE, "value.converter": "org.apache.kafka.connect.storage.StringConverter"}) == {}


def test_a_subject_strategy_the_converter_is_not_set_to_is_refused():
    config = {**BASE, "value.converter": AVRO, "value.subject.name.strategy": "RecordNameStrategy"}
    assert "value.converter.value.subject.name.strategy=io.confluent.kafka.serializers.subject.RecordNameStrategy" in (
        validate(config)["value.subject.name.strategy"][0])
    assert validate({**config, "value.converter.value.subject.name.strategy": "RecordNameStrategy"}) == {}
    assert validate({**config, "value.converter.value.subject.name.strategy":
                     "io.confluent.kafka.serializers.subject.RecordNameStrategy"}) == {}
    # the default needs no converter setting
    assert validate({**BASE, "key.converter": AVRO, "key.subject.name.strategy": "TopicNameStrategy"}) == {}


def test_schema_contexts_are_refused_plainly():
    assert validate({**BASE, "schema.context.name": "default"}) == {}
    message = validate({**BASE, "schema.context.name": "prod"})["schema.context.name"][0]
    assert "not supported" in message and "'default'" in message
