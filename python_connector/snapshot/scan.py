"""Snapshot: scan a planned segment page by page into the buffer (the plan: :mod:`.plan`).

The scanner never stores progress itself: each record carries its own resume key in its offset,
and Connect stores that offset only after the record is written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from python_connector.aws.client import JsonClient
from python_connector.records import offsets
from python_connector.records.buffer import Group, RecordBuffer
from python_connector.records.document_builder import DocumentBuilder
from python_connector.records.envelope import Item, SnapshotSource, snapshot_records
from python_connector.snapshot.pacing import ReadBudget
from python_connector.snapshot.plan import SegmentPlan


class Outcome(Enum):
    COMPLETED = "completed"
    SKIPPED = "skipped"
    ABORTED = "aborted"


@dataclass(frozen=True)
class ScannedPage:
    items: list[Item]
    last: bool  # the segment's last page
    sent_ns: int  # when its Scan was sent, and when the answer arrived (wall clock)
    received_ns: int


class PageSink(Protocol):
    consistent_read: bool  # whether its pages must hold every write completed before their Scan

    def page(self, source: SnapshotSource, page: ScannedPage) -> int | None:
        """Takes a scanned page (may wait: back-pressure): the records it hands over now, None once the task
        stops."""
        ...


@dataclass(frozen=True)
class BufferSink:
    """Pages straight into the buffer (BLOCKING): each page's records share one group header."""

    buffer: RecordBuffer
    clock_ns: Callable[[], int] = time.time_ns
    consistent_read: bool = False
    documents: DocumentBuilder | None = None

    def page(self, source: SnapshotSource, page: ScannedPage) -> int | None:
        now = self.clock_ns()
        header, records = page_records(source, page.items, now, self.documents)
        return len(records) if self.buffer.put(Group(header, records, offsets.SEGMENT_DONE if page.last else None)) \
            else None


def page_records(source: SnapshotSource, items: list[Item], now_ns: int, documents: DocumentBuilder | None
                 ) -> tuple[dict[str, Any], list[bytes]]:
    """A page's group header and records: documents as DynamoDB-JSON strings, or typed by the table's builder."""
    header = source.header(now_ns)
    if documents is None:
        return header, snapshot_records(items, source.table.key, now_ns)
    return header, documents.snapshot(header, items, now_ns)


class SnapshotError(Exception):
    def __init__(self, table: str, segment: int, cause: BaseException):
        self.table = table
        self.segment = segment
        super().__init__(f"Snapshot of table '{table}' segment {segment} failed: {cause}")


def _scan_request(segment: SegmentPlan, consistent: bool) -> dict[str, Any]:
    source = segment.source
    request: dict[str, Any] = {"TableName": source.table.name, "Segment": source.segment,
                               "TotalSegments": source.total_segments, "ReturnConsumedCapacity": "TOTAL"}
    if consistent:
        request["ConsistentRead"] = True
    if segment.exclusive_start_key:
        request["ExclusiveStartKey"] = segment.exclusive_start_key
    return request


def scan_segment(client: JsonClient, segment: SegmentPlan, out: RecordBuffer | PageSink, limit: int,
                 budget: ReadBudget, stopped: threading.Event,
                 on_page: Callable[[str, int], None] = lambda table, items: None,
                 clock_ns: Callable[[], int] = time.time_ns) -> Outcome:
    """Scans one segment into the buffer, page by page, until its end, the task stops, or an error.

    Each request waits for the read budget, asks for a page sized to it (at most ``limit`` items), and
    charges what DynamoDB reports it consumed. A throttled request is retried by the client with the
    same ExclusiveStartKey, so no page is lost or read twice.
    """
    if segment.skip:
        return Outcome.SKIPPED
    source = segment.source
    sink = BufferSink(out, clock_ns, documents=segment.documents) if isinstance(out, RecordBuffer) else out
    request = _scan_request(segment, sink.consistent_read)
    units_per_item = source.table.units_per_item
    # A page is held until the next one shows whether it was the segment's last, so the last record
    # carries the completion even when DynamoDB ends a segment with an empty page.
    held: ScannedPage | None = None

    def emit(page: ScannedPage, last: bool) -> bool:
        handed = sink.page(source, ScannedPage(page.items, last, page.sent_ns, page.received_ns))
        if handed is None:
            return False
        on_page(source.table.name, handed)  # records: a skipped item (errors.tolerance=all) is never acked
        return True

    try:
        while not stopped.is_set():
            budget.wait(stopped)
            request["Limit"] = budget.page_limit(units_per_item, limit)
            sent_ns = clock_ns()
            page = client.call("Scan", request)
            received_ns = clock_ns()
            items = page.get("Items") or []
            consumed = float((page.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0.0)
            budget.charge(consumed)
            if items and consumed:
                units_per_item = consumed / len(items)
            last_key = page.get("LastEvaluatedKey")
            if items:
                if held is not None and not emit(held, last=False):
                    return Outcome.ABORTED
                held = ScannedPage(items, False, sent_ns, received_ns)
            if not last_key:
                if held is not None and not emit(held, last=True):
                    return Outcome.ABORTED
                return Outcome.COMPLETED
            request["ExclusiveStartKey"] = last_key
        return Outcome.ABORTED
    except Exception as e:
        raise SnapshotError(source.table.name, source.segment, e) from e
