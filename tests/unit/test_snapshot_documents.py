"""A snapshot segment with typed documents: each page's group carries the table's schema version, and a record
skipped under errors.tolerance=all is not counted as one Connect will acknowledge."""

import threading
from dataclasses import replace

from python_connector import config
from python_connector.records.buffer import RecordBuffer
from python_connector.records.document_builder import DocumentBuilder, DocumentSettings
from python_connector.records.offsets import TableSnapshot
from python_connector.records.tables import TableInfo
from python_connector.snapshot.pacing import ReadBudget
from python_connector.snapshot.plan import plan
from python_connector.snapshot.scan import Outcome, scan_segment
from tests.unit.fakes import FakeScanClient

TABLE = TableInfo("t", (("pk", "S"),), 10)
GOOD = {"dynamodb.table.includelist": "ttt", "dynamodb.service.endpoint": "http://127.0.0.1:8000",
        "document.content.format": "schema"}


def builder(**raw):
    parsed = config.parse({**GOOD, **raw})
    settings = DocumentSettings.of(parsed.values, parsed.raw)
    assert settings is not None
    return DocumentBuilder(TABLE, settings)


def scan(documents, items, limit=2):
    segment = replace(plan({"t": TABLE}, [("t", 0)], 5, {"t": TableSnapshot(1000, 1)}, {})[0], documents=documents)
    buffer, pages = RecordBuffer(1000), []
    outcome = scan_segment(FakeScanClient({0: items}), segment, buffer, limit, ReadBudget(1e12), threading.Event(),
                           lambda table, n: pages.append(n))
    assert outcome is Outcome.COMPLETED
    return buffer.take(10_000, 0), pages


def test_each_page_carries_the_schema_version_that_holds_its_items():
    items = [{"pk": {"S": "a"}}, {"pk": {"S": "b"}}, {"pk": {"S": "c"}, "new": {"BOOL": True}}]
    groups, pages = scan(builder(**{"document.schema.source": "auto_infer"}), items)
    versions = [g.header["document"]["version"] for g in groups]
    assert versions == [2, 3] and pages == [2, 1]
    assert [f["name"] for f in groups[1].header["document"]["schema"]["fields"]] == ["new", "pk"]


def test_a_skipped_record_is_not_counted_as_scanned_into_kafka():
    schema = '{"type":"record","name":"R","fields":[{"name":"pk","type":"string"},{"name":"q","type":"long"}]}'
    items = [{"pk": {"S": "a"}, "q": {"N": "1"}}, {"pk": {"S": "b"}}]
    groups, pages = scan(builder(**{"document.schema.value": schema, "errors.tolerance": "all"}), items)
    assert [len(g.records) for g in groups] == [1] and pages == [1]
