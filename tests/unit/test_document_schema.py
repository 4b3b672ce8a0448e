"""Field-name mapping, schema descriptions, and reading a user-provided Avro record schema."""

import re

import pytest

from python_connector.records import document_schema as ds

AVRO_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


@pytest.mark.parametrize("attribute", ["id", "user_id", "_private", "Camel42", "x" * 128])
def test_names_every_format_accepts_stay_as_they_are(attribute):
    assert ds.field_name(attribute) == attribute


@pytest.mark.parametrize("attribute", [
    "first name", "a.b", "#hash", "naïve", "名前", "1st", "x" * 129, "é" * 200, "", "_ddb_overflow", "_ddbx_a_0",
    "a-b", "user id ",
])
def test_other_names_are_escaped_into_valid_reserved_names(attribute):
    name = ds.field_name(attribute)
    assert AVRO_NAME.match(name), name
    assert name.startswith(ds.ESCAPED_PREFIX) and name != ds.OVERFLOW_FIELD
    assert len(name) <= len(ds.ESCAPED_PREFIX) + 40 + 1 + 12
    assert ds.field_name(attribute) == name  # the same on every task


def test_names_that_differ_only_in_what_is_escaped_do_not_collide():
    attributes = ["a b", "a.b", "a#b", "a_b", "a-b", "a b ", "A b", "_ddbx_a_b", "1a", "_1a"]
    names = [ds.field_name(a) for a in attributes]
    assert len(set(names)) == len(attributes)


def test_a_hash_collision_gets_a_longer_hash():
    taken = {ds.field_name("a b"): "other attribute"}
    name = ds.unique_field_name("a b", taken)
    assert name != ds.field_name("a b") and name.startswith("_ddbx_a_b_") and len(name) == len("_ddbx_a_b_") + 24
    assert ds.unique_field_name("a b", {ds.field_name("a b"): "a b"}) == ds.field_name("a b")


def test_a_description_lists_fields_with_their_attribute_name_as_doc_and_the_overflow_last():
    inner = ds.Struct("d_m_1", {"x": ds.Field("x", "x", ds.INT64)})
    struct = ds.Struct("d", {"first name": ds.Field("first name", "_ddbx_first_name_1", ds.STRING),
                             "m": ds.Field("m", "m", inner),
                             "l": ds.Field("l", "l", ds.Array(ds.BYTES), optional=False)}, overflow=True)
    described = ds.describe(struct)
    assert [f["name"] for f in described["fields"]] == ["_ddbx_first_name_1", "m", "l", ds.OVERFLOW_FIELD]
    assert described["fields"][0] == {"name": "_ddbx_first_name_1", "doc": "first name",
                                      "tag": ds.protobuf_tags([f["name"] for f in described["fields"]])[
                                          "_ddbx_first_name_1"],
                                      "schema": {"type": "string", "optional": True}}
    assert described["fields"][1]["schema"]["name"] == "d_m_1"
    assert described["fields"][2]["schema"] == {"type": "array", "optional": False,
                                                "items": {"type": "bytes", "optional": False}}


USER = ('{"type":"record","name":"User","namespace":"acme","fields":['
        '{"name":"id","type":"string"},{"name":"name","type":["null","string"],"default":null},'
        '{"name":"age","type":"int","default":0},{"name":"tags","type":{"type":"array","items":"string"}},'
        '{"name":"address","type":["null",{"type":"record","name":"Address","fields":[{"name":"city","type":"string"}]}]},'
        '{"name":"home","type":["null","Address"]},{"name":"scores","type":{"type":"map","values":"double"}},'
        '{"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B"]}},'
        '{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}]}')


def test_a_user_provided_avro_record_schema_becomes_a_struct():
    struct = ds.parse_avro_record(USER)
    assert struct.name == "acme.User"
    f = struct.fields
    assert (f["id"].type, f["id"].optional, f["id"].has_default) == (ds.STRING, False, False)
    assert (f["name"].optional, f["name"].has_default) == (True, True)
    assert (f["age"].type, f["age"].default) == (ds.INT32, 0)
    assert f["tags"].type == ds.Array(ds.STRING)
    assert f["address"].type.name == "acme.Address" and f["address"].optional
    assert f["home"].type is f["address"].type  # a named reference
    assert f["scores"].type == ds.Map(ds.FLOAT64)
    assert (f["kind"].type, f["at"].type) == (ds.STRING, ds.INT64)


@pytest.mark.parametrize(("text", "says"), [
    ("not json", "not JSON"),
    ('{"type":"string"}', "not an Avro record schema"),
    ('["null","string"]', "not an Avro record schema"),
    ('{"type":"record","fields":[]}', "needs a name"),
    ('{"type":"record","name":"R"}', "needs a list of fields"),
    ('{"type":"record","name":"R","fields":[{"name":"a"}]}', "needs a name and a type"),
    ('{"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]}', "unknown Avro type"),
    ('{"type":"record","name":"R","fields":[{"name":"a","type":["null","string","int"]}]}', "one other type"),
    ('{"type":"record","name":"R","fields":[{"name":"a b","type":"string"}]}', "not a valid Avro name"),
    ('{"type":"record","name":"R","fields":[{"name":"a","type":"string"},{"name":"a","type":"int"}]}', "two fields"),
    ('{"type":"record","name":"R","fields":[1]}', "needs a name and a type"),
])
def test_what_is_not_an_avro_record_schema_is_refused_saying_why(text, says):
    with pytest.raises(ds.SchemaValueError, match=says):
        ds.parse_avro_record(text)


def test_a_bytes_default_is_read_as_avro_writes_it_and_kept_as_base64():
    struct = ds.parse_avro_record('{"type":"record","name":"R","fields":[{"name":"b","type":"bytes",'
                                  '"default":"\\u0000\\u00ff"}]}')
    assert struct.fields["b"].default == "AP8="


def test_protobuf_tags_come_from_names_so_adding_a_field_changes_no_other_tag():
    names = ["pk", "x", "_ddbx_first_name_1b836d86806e", ds.OVERFLOW_FIELD]
    tags = ds.protobuf_tags(names)
    assert len(set(tags.values())) == len(names)
    assert all(1 <= t <= ds.MAX_TAG and t not in ds.RESERVED_TAGS for t in tags.values())
    grown = ds.protobuf_tags(["added", *names])
    assert {n: grown[n] for n in names} == tags
    assert ds.protobuf_tags(list(reversed(names))) == tags


def test_of_two_names_with_one_tag_the_later_in_order_takes_the_next_free_one(monkeypatch):
    class Same:
        def __init__(self, _: bytes):
            pass

        def digest(self) -> bytes:
            return (18999).to_bytes(4, "big")  # 18999 % MAX_TAG + 1 = 19000: reserved, so 20000 and on

    monkeypatch.setattr(ds.hashlib, "sha256", Same)
    assert ds.protobuf_tags(["b", "a"]) == {"a": 20000, "b": 20001}


def test_each_described_field_carries_its_protobuf_tag():
    struct = ds.Struct("d", {"a": ds.Field("a", "a", ds.STRING)}, overflow=True)
    fields = ds.describe(struct)["fields"]
    assert {f["name"]: f["tag"] for f in fields} == ds.protobuf_tags(["a", ds.OVERFLOW_FIELD])
