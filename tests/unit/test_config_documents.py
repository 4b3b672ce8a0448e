"""The typed-document properties: types, defaults, valid values and their cross-field rule."""

import pytest

from python_connector import config
from python_connector.cli.translate import translate

GOOD = {"dynamodb.table.includelist": "orders", "dynamodb.service.endpoint": "http://127.0.0.1:8000"}
SCHEMA = '{"type":"record","name":"User","fields":[{"name":"id","type":["null","string"]}]}'


def test_the_five_properties_have_their_documented_defaults():
    parsed = config.parse(GOOD)
    assert (parsed["document.content.format"], parsed["document.schema.source"], parsed["document.schema.value"],
            parsed["document.schema.validation"], parsed["decimal.handling.mode"]) == (
        "json_string", "user_provided", None, "strict", "double")
    for name in ("document.content.format", "document.schema.source", "document.schema.value",
                 "document.schema.validation", "decimal.handling.mode"):
        assert config.BY_NAME[name].type == "STRING"


@pytest.mark.parametrize(("name", "bad", "allowed"), [
    ("document.content.format", "avro", "json_string, schema"),
    ("document.schema.source", "inferred", "user_provided, auto_infer"),
    ("document.schema.validation", "loose", "strict, lenient"),
    ("decimal.handling.mode", "precise", "double, long, string, auto"),
])
def test_a_bad_value_names_the_property_and_what_is_allowed(name, bad, allowed):
    problems = config.validate({**GOOD, name: bad})
    assert problems[name] == [f"Invalid value for {name}: must be one of {allowed}, got '{bad}'."]


def test_user_provided_without_a_schema_value_fails_validation():
    problems = config.validate({**GOOD, "document.content.format": "schema"})
    assert "document.schema.value is required" in problems["document.schema.value"][0]


def test_a_schema_value_that_is_not_an_avro_record_schema_fails_validation():
    problems = config.validate({**GOOD, "document.content.format": "schema",
                                "document.schema.value": '{"type":"array","items":"string"}'})
    assert "must be an Avro record schema" in problems["document.schema.value"][0]


@pytest.mark.parametrize("extra", [
    {"document.content.format": "schema", "document.schema.value": SCHEMA},
    {"document.content.format": "schema", "document.schema.source": "auto_infer", "decimal.handling.mode": "auto"},
    {"document.schema.value": "ignored without document.content.format=schema"},
])
def test_good_typed_document_settings_validate(extra):
    assert config.validate({**GOOD, **extra}) == {}


def test_translate_carries_the_typed_document_properties_across():
    cloud = {"name": "c", **GOOD, "output.data.format": "JSON", "output.data.key.format": "JSON",
             "document.content.format": "schema", "document.schema.source": "user_provided",
             "document.schema.value": SCHEMA, "document.schema.validation": "lenient",
             "decimal.handling.mode": "long"}
    out = translate(cloud)["config"]
    for name in ("document.content.format", "document.schema.source", "document.schema.value",
                 "document.schema.validation", "decimal.handling.mode"):
        assert out[name] == cloud[name]
    assert config.validate(out) == {}
