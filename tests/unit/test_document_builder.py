"""The per-table typed-document builder: schema versions in the group header, evolution, and user-provided
schemas (strict, lenient, errors.tolerance)."""

import struct
import threading

import orjson
import pytest

from python_connector import config
from python_connector.metrics.registry import METRICS
from python_connector.records import document_schema as ds
from python_connector.records import envelope
from python_connector.records.document_builder import SKIPPED_METRIC, DocumentBuilder, DocumentFailed, DocumentSettings
from python_connector.records.tables import TableInfo

TABLE = TableInfo("orders", (("pk", "S"),), 2)
GOOD = {"dynamodb.table.includelist": "orders", "dynamodb.service.endpoint": "http://127.0.0.1:8000"}
USER = ('{"type":"record","name":"Order","fields":[{"name":"pk","type":"string"},'
        '{"name":"qty","type":"long"},{"name":"note","type":["null","string"],"default":null}]}')


def settings(**raw):
    parsed = config.parse({**GOOD, "document.content.format": "schema", **raw})
    out = DocumentSettings.of(parsed.values, parsed.raw)
    assert out is not None
    return out


def auto(mode="double"):
    return DocumentBuilder(TABLE, settings(**{"document.schema.source": "auto_infer", "decimal.handling.mode": mode}))


def user(validation="strict", tolerance=None):
    raw = {"document.schema.value": USER, "document.schema.validation": validation}
    if tolerance:
        raw["errors.tolerance"] = tolerance
    return DocumentBuilder(TABLE, settings(**raw), {"connector": "c", "task": "0"})


def documents(records):
    """(before, after) of each wire record, as JSON."""
    out = []
    for record in records:
        pos = 8
        fields = []
        for _ in range(6):  # op, seqNo, pk, before, after, position
            (length,) = struct.unpack_from("<i", record, pos)
            pos += 4
            fields.append(None if length < 0 else record[pos:pos + length])
            pos += max(length, 0)
        out.append(tuple(None if f is None else orjson.loads(f) for f in fields[3:5]))
    return out


def item(pk, **attributes):
    return {"pk": {"S": pk}, **attributes}


def test_json_string_has_no_settings_and_the_envelope_is_unchanged():
    parsed = config.parse(GOOD)
    assert DocumentSettings.of(parsed.values, parsed.raw) is None
    items = [item("a", n={"N": "1.50"})]
    assert envelope.snapshot_records(items, TABLE.key, 5) == envelope.snapshot_records(items, TABLE.key, 5,
                                                                                        orjson.dumps)


def test_a_snapshot_page_carries_its_schema_version_in_the_group_header():
    builder = auto()
    header: dict = {}
    records = builder.snapshot(header, [item("a", n={"N": "1.5"}), item("b", flag={"BOOL": True})], 5)
    assert header["document"]["version"] == 2
    assert [f["name"] for f in header["document"]["schema"]["fields"]] == ["flag", "n", "pk"]
    assert documents(records) == [(None, {"pk": "a", "n": 1.5}), (None, {"pk": "b", "flag": True})]


def test_a_new_attribute_makes_a_new_version_with_one_more_optional_field():
    builder = auto()
    first: dict = {}
    builder.snapshot(first, [item("a", n={"N": "1"})], 5)
    same: dict = {}
    builder.snapshot(same, [item("b", n={"N": "2"})], 5)
    assert same["document"] is first["document"]  # no new version, no new registration
    later: dict = {}
    builder.snapshot(later, [item("c", extra={"S": "x"})], 5)
    old, new = first["document"]["schema"]["fields"], later["document"]["schema"]["fields"]
    assert later["document"]["version"] == first["document"]["version"] + 1
    assert [f for f in new if f["name"] != "extra"] == old
    assert next(f for f in new if f["name"] == "extra")["schema"]["optional"] is True


def test_two_builders_that_saw_the_same_attributes_in_any_order_have_the_identical_schema():
    a, b = auto("auto"), auto("auto")
    items = [item("1", z={"N": "1"}), item("2", **{"first name": {"S": "x"}}), item("3", m={"M": {"k": {"S": "v"}}})]
    for i in items:
        a.snapshot({}, [i], 5)
    b.snapshot({}, list(reversed(items)), 5)
    assert a.version.header["schema"] == b.version.header["schema"]


def test_cdc_images_are_typed_with_the_key_where_an_image_is_missing():
    builder = auto()
    change = {"eventName": "REMOVE", "dynamodb": {"Keys": {"pk": {"S": "a"}}, "SequenceNumber": "1",
                                                  "ApproximateCreationDateTime": 1.0}}
    header: dict = {}
    assert documents(builder.changes(header, [change])) == [({"pk": "a"}, None)]
    assert "document" in header


def test_pages_of_one_table_from_parallel_threads_share_one_growing_schema():
    builder = auto()
    threads = [threading.Thread(target=builder.snapshot, args=({}, [item(str(i), **{f"a{i}": {"S": "x"}})], 5))
               for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(builder.version.struct.fields) == sorted(["pk", *(f"a{i}" for i in range(8))])


def test_a_disagreeing_attribute_is_warned_about_once_and_written_to_the_overflow():
    warnings = []
    builder = DocumentBuilder(TABLE, settings(**{"document.schema.source": "auto_infer"}),
                              warn=lambda *args: warnings.append(args))
    builder.snapshot({}, [item("a", v={"S": "x"})], 5)
    records = builder.snapshot({}, [item("b", v={"N": "1"}), item("c", v={"N": "2"})], 5)
    assert [d[1][ds.OVERFLOW_FIELD] for d in documents(records)] == ['{"v":{"N":"1"}}', '{"v":{"N":"2"}}']
    assert len(warnings) == 1 and "'%s'" in warnings[0][0] and warnings[0][2] == "v"


def test_user_provided_writes_the_document_of_its_schema_with_defaults():
    header: dict = {}
    records = user().snapshot(header, [item("a", qty={"N": "3"})], 5)
    assert documents(records) == [(None, {"pk": "a", "qty": 3, "note": None})]
    assert header["document"]["schema"]["name"] == "Order"
    assert [f["schema"]["optional"] for f in header["document"]["schema"]["fields"]] == [False, False, True]


@pytest.mark.parametrize(("bad", "field"), [
    (item("a", qty={"N": "3"}, extra={"S": "x"}), "extra"),  # an extra attribute
    (item("a"), "qty"),  # a missing mandatory field
    (item("a", qty={"S": "3"}), "qty"),  # a type mismatch
    (item("a", qty={"N": "3.5"}), "qty"),  # a long that is not whole
    (item("a", qty={"NULL": True}), "qty"),  # null in a field that is not nullable
])
def test_strict_fails_the_record_naming_table_key_and_field(bad, field):
    with pytest.raises(DocumentFailed) as failed:
        user().snapshot({}, [bad], 5)
    assert (failed.value.table, failed.value.key, failed.value.field) == ("orders", {"pk": {"S": "a"}}, field)
    assert "'orders'" in str(failed.value) and '{"pk":{"S":"a"}}' in str(failed.value) and field in str(failed.value)


def test_lenient_drops_extra_attributes_and_still_fails_missing_and_mismatched_fields():
    records = user("lenient").snapshot({}, [item("a", qty={"N": "3"}, extra={"S": "x"})], 5)
    assert documents(records) == [(None, {"pk": "a", "qty": 3, "note": None})]
    for bad in (item("a"), item("a", qty={"BOOL": True})):
        with pytest.raises(DocumentFailed):
            user("lenient").snapshot({}, [bad], 5)


def test_with_errors_tolerance_all_a_failing_record_is_skipped_and_counted():
    before = dict(((n, tuple(sorted(lab.items()))), v) for n, lab, v in METRICS.samples())
    records = user(tolerance="all").snapshot({}, [item("a"), item("b", qty={"N": "1"})], 5)
    assert documents(records) == [(None, {"pk": "b", "qty": 1, "note": None})]
    labels = (SKIPPED_METRIC, (("connector", "c"), ("table", "orders"), ("task", "0")))
    after = {(n, tuple(sorted(lab.items()))): v for n, lab, v in METRICS.samples()}
    assert after[labels] == before.get(labels, 0) + 1


def test_the_skipped_metric_is_described_so_the_metrics_endpoint_can_render_it():
    from python_connector.metrics.registry import DESCRIPTIONS, Registry

    registry = Registry()
    registry.add(SKIPPED_METRIC, 1, table="orders")
    assert SKIPPED_METRIC in DESCRIPTIONS and f'{SKIPPED_METRIC}{{table="orders"}} 1' in registry.render()


def test_a_page_the_schema_already_holds_is_written_without_inferring_again(monkeypatch):
    builder = auto()
    builder.snapshot({}, [item("a", n={"N": "1"}, m={"M": {"k": {"S": "v"}}})], 5)
    observed = []
    monkeypatch.setattr(builder._inference, "observe", lambda *args: observed.append(args))
    header: dict = {}
    records = builder.snapshot(header, [item("b", n={"N": "2"}, m={"M": {"k": {"S": "w"}}})], 5)
    assert observed == [] and header["document"]["version"] == 2
    assert documents(records) == [(None, {"pk": "b", "n": 2.0, "m": {"k": "w"}})]


def test_a_schema_change_mid_page_is_seen_and_the_whole_page_is_written_against_the_new_version():
    builder = auto()
    builder.snapshot({}, [item("a", n={"N": "1"})], 5)
    header: dict = {}
    records = builder.snapshot(header, [item("b", n={"N": "2"}), item("c", new={"S": "x"}), item("d", n={"N": "3"})],
                               5)
    assert header["document"]["version"] == 3 and "new" in builder.version.struct.fields
    assert documents(records) == [(None, {"pk": "b", "n": 2.0}), (None, {"pk": "c", "new": "x"}),
                                  (None, {"pk": "d", "n": 3.0})]


def observed_images(builder, monkeypatch):
    """The images the builder's inference is asked to observe, from now on, in order."""
    observed = []
    real = builder._inference.observe

    def observe(struct, image):
        observed.append(image)
        return real(struct, image)
    monkeypatch.setattr(builder._inference, "observe", observe)
    return observed


def test_a_page_the_schema_does_not_hold_infers_only_the_items_it_does_not_hold(monkeypatch):
    builder = auto()
    builder.snapshot({}, [item("a", v={"S": "x"})], 5)
    builder.snapshot({}, [item("b", v={"N": "1"})], 5)  # v: S, then N: the overflow
    observed = observed_images(builder, monkeypatch)
    spilled = item("d", v={"N": "2"})
    records = builder.snapshot({}, [item("c", v={"S": "y"}), spilled, item("e", v={"S": "z"})], 5)
    assert observed == [spilled]
    assert [d[1] for d in documents(records)] == [
        {"pk": "c", "v": "y"}, {"pk": "d", ds.OVERFLOW_FIELD: '{"v":{"N":"2"}}'}, {"pk": "e", "v": "z"}]


def test_an_item_that_a_field_widened_later_in_the_page_no_longer_holds_goes_to_the_overflow():
    builder = auto("auto")
    builder.snapshot({}, [item("a", n={"N": "1"})], 5)  # INT32
    big = item("b", n={"N": "9007199254740993"})  # 2**53 + 1: INT64, which a FLOAT64 cannot hold exactly
    header: dict = {}
    records = builder.snapshot(header, [big, item("c", n={"N": "0.5"})], 5)  # INT64, then FLOAT64
    assert builder.version.struct.fields["n"].type == ds.FLOAT64 and builder.version.struct.overflow
    assert documents(records) == [(None, {"pk": "b", ds.OVERFLOW_FIELD: '{"n":{"N":"9007199254740993"}}'}),
                                  (None, {"pk": "c", "n": 0.5})]
    assert header["document"] is builder.version.header


def test_cdc_pages_use_the_same_schema_and_compiled_converters_as_snapshot_pages():
    builder = auto()
    builder.snapshot({}, [item("a", n={"N": "1"})], 5)
    change = {"eventName": "MODIFY", "dynamodb": {
        "Keys": {"pk": {"S": "a"}}, "SequenceNumber": "1", "ApproximateCreationDateTime": 1.0,
        "OldImage": item("a", n={"N": "1"}), "NewImage": item("a", n={"N": "2"})}}
    header: dict = {}
    assert documents(builder.changes(header, [change])) == [({"pk": "a", "n": 1.0}, {"pk": "a", "n": 2.0})]
    assert header["document"]["version"] == 2


def test_a_first_page_infers_its_first_item_and_then_only_the_items_the_schema_grown_so_far_does_not_hold(monkeypatch):
    builder = auto()
    observed = observed_images(builder, monkeypatch)
    page = [item(str(i), n={"N": str(i)}) for i in range(5)] + [item("x", new={"S": "y"}), item("y", n={"N": "1"})]
    header: dict = {}
    records = builder.snapshot(header, page, 5)
    assert observed == [page[0], page[5]]
    assert header["document"]["version"] == 2 and sorted(builder.version.struct.fields) == ["n", "new", "pk"]
    assert len(documents(records)) == len(page)
