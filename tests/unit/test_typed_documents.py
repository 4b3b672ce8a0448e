"""Inference and conversion of typed documents: every mapping and every disagreement rule, from tables."""

import orjson
import pytest

from python_connector.records import document_schema as ds
from python_connector.records import typed_documents as td

DOC = "io.confluent.connect.dynamodb.t.Document"


def infer(items, mode="double"):
    inference = td.Inference(mode, DOC)
    struct = ds.Struct(DOC)
    for item in items:
        struct = inference.observe(struct, item)
    return struct


def field_type(struct, attribute):
    return struct.fields[attribute].type


@pytest.mark.parametrize(("value", "mode", "type_", "written"), [
    ({"S": "x"}, "double", ds.STRING, "x"),
    ({"BOOL": False}, "double", ds.BOOLEAN, False),
    ({"B": "AAE="}, "double", ds.BYTES, "AAE="),
    ({"SS": ["a", "b"]}, "double", ds.Array(ds.STRING), ["a", "b"]),
    ({"BS": ["AAE="]}, "double", ds.Array(ds.BYTES), ["AAE="]),
    ({"N": "1.5"}, "double", ds.FLOAT64, 1.5),
    ({"N": "7"}, "double", ds.FLOAT64, 7.0),
    ({"N": "7"}, "long", ds.INT64, 7),
    ({"N": "1E+2"}, "long", ds.INT64, 100),
    ({"N": "-9223372036854775808"}, "long", ds.INT64, -(2**63)),
    ({"N": "12345678901234567890.123"}, "string", ds.NUMBER_STRING, "12345678901234567890.123"),
    ({"N": "7"}, "auto", ds.INT32, 7),
    ({"N": "2147483648"}, "auto", ds.INT64, 2147483648),
    ({"N": "0.25"}, "auto", ds.FLOAT64, 0.25),
    ({"NS": ["1", "2"]}, "long", ds.Array(ds.INT64), [1, 2]),
    ({"NS": ["1", "2.5"]}, "auto", ds.Array(ds.FLOAT64), [1.0, 2.5]),
    ({"L": [{"S": "a"}, {"S": "b"}]}, "double", ds.Array(ds.STRING), ["a", "b"]),
])
def test_each_dynamodb_type_maps_to_its_field_type_and_value(value, mode, type_, written):
    struct = infer([{"a": value}], mode)
    assert field_type(struct, "a") == type_
    assert td.document(struct, {"a": value}) == {"a": written}
    assert not struct.overflow


def test_a_nested_map_becomes_a_struct_named_by_its_path_inferred_recursively():
    item = {"m": {"M": {"x": {"N": "1"}, "inner": {"M": {"y": {"S": "z"}}}}}}
    struct = infer([item], "long")
    m = field_type(struct, "m")
    assert isinstance(m, ds.Struct) and m.name == td.struct_name(DOC, ("m",)) and m.name.startswith(f"{DOC}_m_")
    assert field_type(m, "inner").name == td.struct_name(DOC, ("m", "inner"))
    assert td.document(struct, item) == {"m": {"x": 1, "inner": {"y": "z"}}}


def test_a_list_of_maps_is_an_array_of_one_struct_holding_every_elements_attributes():
    item = {"l": {"L": [{"M": {"a": {"S": "x"}}}, {"M": {"b": {"BOOL": True}}}]}}
    struct = infer([item])
    element = field_type(struct, "l").items
    assert list(element.fields) == ["a", "b"]
    assert td.document(struct, item) == {"l": [{"a": "x"}, {"b": True}]}


def test_a_null_says_nothing_and_is_written_as_absent():
    struct = infer([{"a": {"NULL": True}}])
    assert struct.fields == {}
    assert td.document(struct, {"a": {"NULL": True}}) == {}
    struct = infer([{"a": {"S": "x"}}, {"a": {"NULL": True}}])
    assert td.document(struct, {"a": {"NULL": True}}) == {"a": None}


# Values that have no type, or disagree with their field: the field stays, the value goes to the overflow.
@pytest.mark.parametrize(("mode", "first", "then"), [
    ("double", None, {"L": [{"S": "a"}, {"N": "1"}]}),  # a mixed list
    ("double", None, {"L": []}),  # an empty list of unknown element type
    ("double", None, {"L": [{"L": [{"S": "a"}]}]}),  # a list of lists
    ("double", {"S": "x"}, {"N": "1"}),  # S in one item, N in another
    ("string", {"S": "x"}, {"N": "1"}),  # still a disagreement when N is written as a string
    ("double", {"N": "1"}, {"S": "x"}),
    ("double", None, {"N": "12345678901234567.5"}),  # a double would lose digits
    ("long", None, {"N": "9223372036854775808"}),  # does not fit a long
    ("long", None, {"N": "1.5"}),  # not a whole number
    ("auto", None, {"N": "0.12345678901234567890123"}),  # fits none of INT32, INT64, FLOAT64 exactly
    ("double", {"M": {"x": {"S": "a"}}}, {"S": "a"}),
    ("double", {"SS": ["a"]}, {"NS": ["1"]}),
])
def test_a_value_that_does_not_fit_goes_to_the_overflow_as_dynamodb_json(mode, first, then):
    items = ([{"a": first}] if first else []) + [{"a": then}]
    struct = infer(items, mode)
    assert struct.overflow
    written = td.document(struct, {"a": then})
    assert orjson.loads(written[ds.OVERFLOW_FIELD]) == {"a": then}
    assert td.overflowed(struct, {"a": then}) == ["a"]
    if first and "a" in struct.fields and mode != "auto":
        assert td.document(struct, {"a": first}).get("a") is not None  # the field keeps its first type


def test_auto_widens_int32_to_int64_to_float64_and_keeps_earlier_values_exact():
    struct = infer([{"a": {"N": "1"}}], "auto")
    assert field_type(struct, "a") == ds.INT32
    struct = td.Inference("auto", DOC).observe(struct, {"a": {"N": "5000000000"}})
    assert field_type(struct, "a") == ds.INT64
    struct = td.Inference("auto", DOC).observe(struct, {"a": {"N": "0.5"}})
    assert field_type(struct, "a") == ds.FLOAT64
    assert td.document(struct, {"a": {"N": "1"}}) == {"a": 1.0}
    assert not struct.overflow


def test_a_long_that_a_widened_double_field_cannot_hold_exactly_goes_to_the_overflow():
    big = {"a": {"N": "9007199254740993"}}  # 2**53 + 1
    struct = infer([big, {"a": {"N": "0.5"}}, big], "auto")
    assert field_type(struct, "a") == ds.FLOAT64 and struct.overflow
    assert orjson.loads(td.document(struct, big)[ds.OVERFLOW_FIELD]) == big


def test_a_struct_overflow_is_nested_where_the_disagreement_is():
    struct = infer([{"m": {"M": {"x": {"S": "a"}}}}, {"m": {"M": {"x": {"BOOL": True}}}}])
    assert not struct.overflow and field_type(struct, "m").overflow
    written = td.document(struct, {"m": {"M": {"x": {"BOOL": True}}}})
    assert orjson.loads(written["m"][ds.OVERFLOW_FIELD]) == {"x": {"BOOL": True}}
    assert td.overflowed(struct, {"m": {"M": {"x": {"BOOL": True}}}}) == ["m.x"]


def test_observing_what_the_schema_already_holds_returns_the_same_struct():
    item = {"a": {"S": "x"}, "m": {"M": {"b": {"N": "1"}}}, "l": {"L": [{"M": {"c": {"S": "y"}}}]}}
    struct = infer([item])
    assert td.Inference("double", DOC).observe(struct, item) is struct


@pytest.mark.parametrize(("text", "bounds", "expected"), [
    ("5", td.INT32_RANGE, 5), ("2147483648", td.INT32_RANGE, None), ("1.0", td.INT64_RANGE, 1),
    ("1.5", td.INT64_RANGE, None), ("-1E+3", td.INT64_RANGE, -1000),
])
def test_whole_numbers_within_bounds(text, bounds, expected):
    assert td.as_int(text, bounds) == expected


@pytest.mark.parametrize(("text", "exact"), [
    ("0.1", True), ("123456789012345", True), ("1E+125", True), ("1E-130", True),
    ("9007199254740993", False), ("0.12345678901234567890123", False), ("9007199254740992", True),
])
def test_a_double_holds_a_number_exactly_or_not_at_all(text, exact):
    assert (td.as_double(text) is not None) == exact


@pytest.mark.parametrize("item", [
    {"new": {"S": "x"}},  # an attribute the schema has no field for
    {"a": {"N": "1"}},  # a value its field cannot hold
    {"m": {"M": {"new": {"S": "x"}}}},  # the same, nested
])
def test_without_spilling_a_value_the_schema_does_not_hold_asks_for_evolution(item):
    struct = infer([{"a": {"S": "x"}, "m": {"M": {"k": {"S": "v"}}}}])
    with pytest.raises(td.NeedsEvolution):
        td.document(struct, item, spill=False)
    assert td.document(struct, {"a": {"S": "y"}, "m": {"M": {"k": {"NULL": True}}}}, spill=False) == {
        "a": "y", "m": {"k": None}}


def test_nested_struct_names_are_distinct_for_distinct_paths_even_where_their_readable_part_is_not():
    paths = [("a_b", "c"), ("a", "b_c"), ("a/b",), ("a", "b"), ("l", td.ELEMENTS), ("l", "items"), ("x" * 80,),
             ("x" * 80 + "y",)]
    names = [td.struct_name(DOC, p) for p in paths]
    assert len(set(names)) == len(paths)
    assert all(n == td.struct_name(DOC, p) for n, p in zip(names, paths, strict=True))  # stable


def test_a_top_level_attribute_named_like_a_nested_path_gets_a_struct_of_another_name():
    struct = infer([{"a": {"M": {"b": {"M": {"x": {"S": "1"}}}}}, "a/b": {"M": {"y": {"S": "2"}}}}])
    nested = field_type(field_type(struct, "a"), "b")
    assert nested.name != field_type(struct, "a/b").name


def test_what_spills_inside_the_maps_of_a_list_is_found_for_the_warning():
    struct = infer([{"l": {"L": [{"M": {"x": {"S": "a"}}}]}}, {"l": {"L": [{"M": {"x": {"N": "1"}}}]}}])
    assert td.overflowed(struct, {"l": {"L": [{"M": {"x": {"N": "1"}}}, {"M": {"x": {"S": "b"}}}]}}) == ["l[].x"]


# --- the converters compiled per struct and attribute names ---------------------------------------------------

EVERY_KIND = {"s": {"S": "x"}, "n": {"N": "1.5"}, "b": {"BOOL": True}, "bin": {"B": "AAE="}, "ss": {"SS": ["a"]},
              "ns": {"NS": ["1", "2"]}, "bs": {"BS": ["AAE="]}, "m": {"M": {"k": {"S": "v"}, "j": {"N": "2"}}},
              "l": {"L": [{"S": "a"}, {"S": "b"}]}, "lm": {"L": [{"M": {"x": {"N": "1"}}}]}}


@pytest.mark.parametrize("mode", ["double", "long", "string", "auto"])
def test_a_compiled_converter_writes_what_the_general_way_writes(mode):
    items = [{k: v for k, v in EVERY_KIND.items() if not (mode == "long" and k == "n")}]  # 1.5: no long
    struct = infer(items, mode)
    for spill in (False, True):
        assert td.document(struct, items[0], spill) == td._document(struct, items[0], spill)
        assert struct.shapes[spill][tuple(items[0])] is not None  # compiled, and kept for the next item


@pytest.mark.parametrize(("then", "written"), [
    ({"a": {"NULL": True}, "n": {"N": "2"}}, {"a": None, "n": 2}),  # another tag: NULL
    ({"a": {"S": "y"}, "n": {"N": "1.5"}}, {"a": "y", ds.OVERFLOW_FIELD: '{"n":{"N":"1.5"}}'}),  # not a long
    ({"a": {"N": "1"}, "n": {"N": "3"}}, {"n": 3, ds.OVERFLOW_FIELD: '{"a":{"N":"1"}}'}),  # S, then N
])
def test_an_item_of_known_attribute_names_that_the_compiled_converter_does_not_take_goes_the_general_way(then, written):
    struct = infer([{"a": {"S": "x"}, "n": {"N": "1"}}, then], "long")
    assert td.document(struct, {"a": {"S": "x"}, "n": {"N": "1"}}) == {"a": "x", "n": 1}  # compiles for (a, n)
    assert td.document(struct, then) == written
    assert td.document(struct, then) == td._document(struct, then, True)


def test_without_spilling_an_item_the_compiled_converter_does_not_take_still_asks_for_evolution():
    struct = infer([{"a": {"S": "x"}}])
    assert td.document(struct, {"a": {"S": "y"}}, spill=False) == {"a": "y"}
    with pytest.raises(td.NeedsEvolution):
        td.document(struct, {"a": {"N": "1"}}, spill=False)


def test_a_grown_struct_compiles_its_own_converters():
    struct = infer([{"a": {"S": "x"}}])
    td.document(struct, {"a": {"S": "x"}})
    grown = td.Inference("double", DOC).observe(struct, {"a": {"S": "x"}, "b": {"N": "1"}})
    assert grown is not struct and grown.shapes[True] == {} and struct.shapes[True] != {}
    assert td.document(grown, {"a": {"S": "x"}, "b": {"N": "1"}}) == {"a": "x", "b": 1.0}


def test_attribute_names_are_data_in_a_compiled_converter_never_code():
    names = ["x): import os  #", "a b", "'", '"', "\\", "{n0}", "1st", "_ddb_overflow", "é" * 3, "x" * 200]
    item = {name: {"S": name} for name in names}
    struct = infer([item])
    assert td.document(struct, item) == {struct.fields[n].name: n for n in names} == td._document(struct, item, True)


def test_compiled_converters_are_kept_for_a_bounded_number_of_attribute_name_tuples():
    items = [{f"a{i}": {"S": "x"}} for i in range(td.MAX_SHAPES + 10)]
    struct = infer(items)
    assert [td.document(struct, i) for i in items] == [{f"a{i}": "x"} for i in range(len(items))]
    assert len(struct.shapes[True]) == td.MAX_SHAPES


def test_a_page_of_documents_is_each_items_document_with_long_numbers_checked_for_exactness():
    struct = infer([{"n": {"N": "1"}, "s": {"S": "x"}}, {"n": {"N": "12345678901234567.5"}}])  # has the overflow
    items = [{"n": {"N": "1.25"}, "s": {"S": "a"}}, {"n": {"N": "9007199254740992"}, "s": {"S": "b"}},  # exact
             {"n": {"N": "9007199254740993"}, "s": {"S": "c"}}, {"s": {"S": "d"}, "n": {"N": "2"}}]  # not, order
    expected = [{"n": 1.25, "s": "a"}, {"n": 9007199254740992.0, "s": "b"},
                {"s": "c", ds.OVERFLOW_FIELD: '{"n":{"N":"9007199254740993"}}'}, {"s": "d", "n": 2.0}]
    assert td.documents(struct, items) == expected == [td._document(struct, i, True) for i in items]
    with pytest.raises(td.NeedsEvolution):
        td.documents(struct, items, spill=False)


def test_once_a_struct_has_its_maximum_of_compiled_converters_nothing_more_is_compiled(monkeypatch):
    struct = infer([{f"a{i}": {"S": "x"}} for i in range(td.MAX_SHAPES + 1)])
    for i in range(td.MAX_SHAPES):
        td.document(struct, {f"a{i}": {"S": "x"}})
    monkeypatch.setattr(td, "_compile", lambda *args: pytest.fail("compiled past the maximum"))
    assert td.document(struct, {f"a{td.MAX_SHAPES}": {"S": "y"}}) == {f"a{td.MAX_SHAPES}": "y"}
