"""Snapshot: scan a planned segment page by page into the buffer (the plan: :mod:`.plan`).

The scanner never stores progress itself: each record carries its own resume key in its offset,
and Connect stores that offset only after the record is written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from enum import Enum
from typing import Any

from python_connector.aws.client import JsonClient
from python_connector.records import offsets
from python_connector.records.buffer import Group, RecordBuffer
from python_connector.records.envelope import snapshot_records
from python_connector.snapshot.pacing import ReadBudget
from python_connector.snapshot.plan import SegmentPlan


class Outcome(Enum):
    COMPLETED = "completed"
    SKIPPED = "skipped"
    ABORTED = "aborted"


class SnapshotError(Exception):
    def __init__(self, table: str, segment: int, cause: BaseException):
        self.table = table
        self.segment = segment
        super().__init__(f"Snapshot of table '{table}' segment {segment} failed: {cause}")


def scan_segment(client: JsonClient, segment: SegmentPlan, buffer: RecordBuffer, limit: int, budget: ReadBudget,
                 stopped: threading.Event, on_page: Callable[[str, int], None] = lambda table, items: None,
                 clock_ns: Callable[[], int] = time.time_ns) -> Outcome:
    """Scans one segment into the buffer, page by page, until its end, the task stops, or an error.

    Each request waits for the read budget, asks for a page sized to it (at most ``limit`` items), and
    charges what DynamoDB reports it consumed. A throttled request is retried by the client with the
    same ExclusiveStartKey, so no page is lost or read twice.
    """
    if segment.skip:
        return Outcome.SKIPPED
    source = segment.source
    request: dict[str, Any] = {"TableName": source.table.name, "Segment": source.segment,
                               "TotalSegments": source.total_segments, "ReturnConsumedCapacity": "TOTAL"}
    if segment.exclusive_start_key:
        request["ExclusiveStartKey"] = segment.exclusive_start_key
    units_per_item = source.table.units_per_item
    # A page is held until the next one shows whether it was the segment's last, so the last record
    # carries the completion even when DynamoDB ends a segment with an empty page.
    held: list[dict[str, Any]] | None = None

    def emit(items: list[dict[str, Any]], last: bool) -> bool:
        now = clock_ns()
        header = source.header(now)
        records = snapshot_records(items, source.table.key, now) if segment.documents is None else \
            segment.documents.snapshot(header, items, now)
        group = Group(header, records, offsets.SEGMENT_DONE if last else None)
        if not buffer.put(group):
            return False
        on_page(source.table.name, len(records))  # records: a skipped item (errors.tolerance=all) is never acked
        return True

    try:
        while not stopped.is_set():
            budget.wait(stopped)
            request["Limit"] = budget.page_limit(units_per_item, limit)
            page = client.call("Scan", request)
            items = page.get("Items") or []
            consumed = float((page.get("ConsumedCapacity") or {}).get("CapacityUnits") or 0.0)
            budget.charge(consumed)
            if items and consumed:
                units_per_item = consumed / len(items)
            last_key = page.get("LastEvaluatedKey")
            if items:
                if held is not None and not emit(held, last=False):
                    return Outcome.ABORTED
                held = items
            if not last_key:
                if held is not None and not emit(held, last=True):
                    return Outcome.ABORTED
                return Outcome.COMPLETED
            request["ExclusiveStartKey"] = last_key
        return Outcome.ABORTED
    except Exception as e:
        raise SnapshotError(source.table.name, source.segment, e) from e
