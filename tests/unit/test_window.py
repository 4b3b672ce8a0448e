"""The CONCURRENT snapshot's window rule (pure, table-driven) and the table window that applies it."""

import threading

import orjson
import pytest

from python_connector.records.buffer import RecordBuffer
from python_connector.records.envelope import SnapshotSource
from python_connector.records.tables import TableInfo
from python_connector.snapshot.concurrent import TableWindow, params_for
from python_connector.snapshot.scan import ScannedPage
from python_connector.snapshot.window import (
    LOCAL_ROUNDING_MS,
    PageRead,
    StreamView,
    WindowParams,
    decide,
    watermark,
)
from python_connector.streams.source import Page, Shard

AWS = WindowParams(rounding_ms=1000, margin_ms=2000)
LOCAL = WindowParams(rounding_ms=60_000, margin_ms=2000)
SENT, RECEIVED = 1_000_000, 1_000_400  # a Scan sent at 1000 s, answered 400 ms later
PAGE = PageRead(SENT, RECEIVED)
K = b'{"pk":{"S":"k"}}'


@pytest.mark.parametrize(("case", "params", "mark", "changes", "expected"), [
    ("stream never read", AWS, None, {}, None),
    ("stream read just short of the page + margin", AWS, RECEIVED + 1999, {}, None),
    ("stream read to page + margin, no change", AWS, RECEIVED + 2000, {}, frozenset()),
    ("change long before the page: the page holds it", AWS, RECEIVED + 2000, {K: SENT - 3001}, frozenset()),
    ("change at the window's start (rounded down)", AWS, RECEIVED + 2000, {K: SENT - 3000}, {K}),
    ("change just before the read", AWS, RECEIVED + 2000, {K: SENT - 1}, {K}),
    ("change at the read", AWS, RECEIVED + 2000, {K: SENT}, {K}),
    ("change just after the read (delete or put)", AWS, RECEIVED + 2000, {K: RECEIVED + 1}, {K}),
    ("change after the release point", AWS, RECEIVED + 5000, {K: RECEIVED + 4000}, {K}),
    ("minute timestamps: a change 50 s before the read may be after it", LOCAL, RECEIVED + 2000,
     {K: SENT - 50_000}, {K}),
    ("minute timestamps: a change 62 s before the read is not", LOCAL, RECEIVED + 2000, {K: SENT - 62_001},
     frozenset()),
    ("another key's change does not matter", AWS, RECEIVED + 2000, {b"other": SENT}, frozenset()),
])
def test_window_rule(case, params, mark, changes, expected):
    got = decide(PAGE, [K], mark, changes, params)
    assert got == (None if expected is None else frozenset(expected)), case


@pytest.mark.parametrize(("case", "view", "expected"), [
    ("never listed", StreamView(None, {"s1": None}, {"s1": 10}), None),
    ("a listed shard not read yet", StreamView(100, {"s1": None, "s2": None}, {"s1": 90}), None),
    ("the slowest shard bounds it", StreamView(100, {"s1": None, "s2": None}, {"s1": 90, "s2": 70}), 70),
    ("idle shard read to its end: its read time", StreamView(100, {"s1": None}, {"s1": 95}), 95),
    ("the listing bounds it (a shard born later is unknown)", StreamView(50, {"s1": None}, {"s1": 95}), 50),
    ("a split: parent finished, child listed but unread", StreamView(100, {"p": None, "c": "p"}, {"p": 80}, {"p"}),
     None),
    ("a split: child read", StreamView(100, {"p": None, "c": "p"}, {"p": 80, "c": 90}, {"p"}), 90),
    ("a parent finished elsewhere (its child is read)", StreamView(100, {"g": None, "p": "g", "c": "p"}, {"c": 90}),
     90),
    ("a closed shard not read to its end still holds it", StreamView(100, {"p": None, "c": "p"}, {"p": 60}), None),
])
def test_watermark(case, view, expected):
    assert watermark(view) == expected, case


def test_local_endpoints_round_to_the_minute():
    assert params_for("http://127.0.0.1:18000").rounding_ms == LOCAL_ROUNDING_MS
    assert params_for("https://dynamodb.eu-west-1.amazonaws.com").rounding_ms == 1000
    assert params_for(None).rounding_ms == 1000


TABLE = TableInfo("t", (("pk", "S"),), 10)


def item(k):
    return {"pk": {"S": k}, "v": {"N": "1"}}


def change(k, created_s, seq):
    return {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": k}}, "NewImage": item(k),
                                                "ApproximateCreationDateTime": created_s, "SequenceNumber": str(seq)}}


class FakeChanges:
    def __init__(self, pages):
        self.pages = list(pages)

    def shards(self, arn, after=None):
        return [Shard("s1", None, False)]

    def iterator(self, arn, shard, after, start):
        return "it0"

    def read(self, iterator, limit):
        return self.pages.pop(0) if self.pages else Page([], "it-end")


class Clock:
    def __init__(self, ms):
        self.ms = ms

    def __call__(self):
        return self.ms * 10**6


def test_pages_wait_for_the_stream_and_leave_out_keys_changed_in_their_window():
    clock = Clock(1_000_000)
    buffer = RecordBuffer(1000)
    win = TableWindow(TABLE, buffer, AWS, floor_ms=0, heartbeat_topic="hb", stopped=threading.Event(),
                      clock_ns=clock)
    source = SnapshotSource(TABLE, 0, 1, 1, 0)
    assert win.page(source, ScannedPage([item("a"), item("b"), item("c")], False, 999_000 * 10**6,
                                        999_100 * 10**6))
    # b changed a second after the page was read: its change event is ahead and the page must not overwrite it
    watched = win.watch(FakeChanges([Page([change("b", 1000.1, 1)], "it1")]))
    watched.shards("arn")
    watched.read(watched.iterator("arn", "s1", None, "TRIM_HORIZON"), 10)
    assert buffer.take(100, 0) == []  # stream read up to 1000 s only: less than the page + margin
    clock.ms = 1_002_000
    watched.read("it1", 10)  # empty at the end: the stream is read to 1_002_000
    assert buffer.take(100, 0) == []  # the read's progress counts only at the reader's next call
    watched.read("it-end", 10)
    assert buffer.take(100, 0) == []  # and the shards were listed at 1_000_000: a new one may have come since
    watched.shards("arn")
    watched.read("it-end", 10)
    groups = buffer.take(100, 0)
    assert len(groups) == 1 and len(groups[0].records) == 2
    assert win.dropped_items == 1 and win.held_pages() == 0


def test_a_page_left_empty_still_stores_its_resume_key():
    clock = Clock(1_000_000)
    buffer = RecordBuffer(1000)
    win = TableWindow(TABLE, buffer, AWS, 0, "hb", threading.Event(), clock)
    win.page(SnapshotSource(TABLE, 2, 4, 1, 0), ScannedPage([item("b")], True, 999_000 * 10**6, 999_100 * 10**6))
    watched = win.watch(FakeChanges([Page([change("b", 999.5, 1)], "it1"), Page([], "it2")]))
    watched.shards("arn")
    watched.read(watched.iterator("arn", "s1", None, "TRIM_HORIZON"), 10)
    clock.ms = 1_005_000
    watched.shards("arn")
    watched.read("it1", 10)
    watched.read("it2", 10)  # a second empty page: read to its end
    watched.read("it-end", 10)
    [group] = buffer.take(100, 0)
    assert group.records == [] and group.header["kind"] == "offset" and group.header["topic"] == "hb"
    assert group.header["partition"] == {"segment": "2", "tableName": "t"}
    assert orjson.loads(group.header["offset"]["exclusiveStartKey"]) == {"pk": {"S": "b"}}
    assert group.header["offset"]["segmentCompleted"] == "true"


def test_a_scanner_waits_while_its_table_holds_the_most_pages():
    stopped = threading.Event()
    win = TableWindow(TABLE, RecordBuffer(1000), AWS, 0, "hb", stopped, Clock(0), max_held=2)
    source = SnapshotSource(TABLE, 0, 1, 1, 0)
    assert win.page(source, ScannedPage([item("a")], False, 0, 0))
    assert win.page(source, ScannedPage([item("b")], False, 0, 0))
    third = threading.Thread(target=win.page, args=(source, ScannedPage([item("c")], False, 0, 0)))
    third.start()
    third.join(0.5)
    assert third.is_alive() and win.held_pages() == 2  # back-pressure, not growth
    stopped.set()
    third.join(2)
    assert not third.is_alive() and win.held_pages() == 2


def test_pages_of_a_segment_are_released_in_scan_order():
    clock = Clock(1_000_000)
    buffer = RecordBuffer(1000)
    win = TableWindow(TABLE, buffer, AWS, 0, "hb", threading.Event(), clock)
    source = SnapshotSource(TABLE, 0, 1, 1, 0)
    win.page(source, ScannedPage([item("late")], False, 1_010_000 * 10**6, 1_010_000 * 10**6))
    win.page(source, ScannedPage([item("early")], False, 990_000 * 10**6, 990_000 * 10**6))
    watched = win.watch(FakeChanges([]))
    watched.shards("arn")
    watched.read(watched.iterator("arn", "s1", None, "TRIM_HORIZON"), 10)
    watched.read("it-end", 10)
    assert buffer.take(100, 0) == []  # the second page may go, but not before the first


def test_a_stopped_snapshot_releases_none_of_its_pages():
    clock = Clock(1_000_000)
    buffer = RecordBuffer(1000)
    win = TableWindow(TABLE, buffer, AWS, 0, "hb", threading.Event(), clock)
    stopped, next_one = SnapshotSource(TABLE, 0, 1, 2, 0), SnapshotSource(TABLE, 0, 1, 3, 0)
    assert win.page(stopped, ScannedPage([item("a")], False, 990_000 * 10**6, 990_000 * 10**6))
    win.discard(2)
    assert not win.page(stopped, ScannedPage([item("b")], False, 990_000 * 10**6, 990_000 * 10**6))
    assert win.held_pages() == 0
    assert win.page(next_one, ScannedPage([item("c")], True, 990_000 * 10**6, 990_000 * 10**6))
    watched = win.watch(FakeChanges([]))
    watched.shards("arn")
    watched.read(watched.iterator("arn", "s1", None, "TRIM_HORIZON"), 10)
    watched.read("it-end", 10)
    watched.read("it-end", 10)
    [group] = buffer.take(100, 0)
    assert group.header["snapshotCount"] == 3


def test_one_empty_page_is_not_trusted_to_be_the_shards_end():
    clock = Clock(1_000_000)
    buffer = RecordBuffer(1000)
    win = TableWindow(TABLE, buffer, AWS, 0, "hb", threading.Event(), clock)
    win.page(SnapshotSource(TABLE, 0, 1, 1, 0), ScannedPage([item("a")], False, 990_000 * 10**6, 990_000 * 10**6))
    # a sparse stretch: an empty page, then records older than LIVE_MS
    watched = win.watch(FakeChanges([Page([], "it1"), Page([change("x", 600.0, 1)], "it2")]))
    watched.shards("arn")
    watched.read(watched.iterator("arn", "s1", None, "TRIM_HORIZON"), 10)
    watched.read("it1", 10)
    watched.read("it2", 10)
    assert buffer.take(100, 0) == [] and win.watermark_ms() == 600_000


def test_one_empty_page_right_after_recent_records_is_the_shards_end():
    clock = Clock(1_005_000)
    buffer = RecordBuffer(1000)
    win = TableWindow(TABLE, buffer, AWS, 0, "hb", threading.Event(), clock)
    win.page(SnapshotSource(TABLE, 0, 1, 1, 0), ScannedPage([item("a")], False, 990_000 * 10**6, 990_000 * 10**6))
    watched = win.watch(FakeChanges([Page([change("x", 1004.0, 1)], "it1"), Page([], "it2")]))
    watched.shards("arn")
    watched.read(watched.iterator("arn", "s1", None, "TRIM_HORIZON"), 1)  # a full page: more may follow
    watched.read("it1", 10)  # one empty page after a live record counts
    assert win.watermark_ms() == 1_004_000  # counted at the reader's next call
    watched.read("it2", 10)
    assert win.watermark_ms() == 1_005_000 and len(buffer.take(100, 0)) == 1


class SlowChanges(FakeChanges):
    """Each GetRecords answers ``delay_ms`` after it was sent."""

    def __init__(self, pages, clock, delay_ms):
        super().__init__(pages)
        self.clock, self.delay_ms = clock, delay_ms

    def read(self, iterator, limit):
        self.clock.ms += self.delay_ms
        return super().read(iterator, limit)


def sized(record, size):
    record["dynamodb"]["SizeBytes"] = size
    return record


@pytest.mark.parametrize(("case", "records", "limit", "expected"), [
    ("short page after live records: read to its end when the call was sent", [change("x", 1004.0, 1)], 10,
     1_005_000),
    ("full page: more may follow", [change("x", 1004.0, 1)], 1, 1_004_000),
    ("near the 1 MB limit: the next record may not have fitted", [sized(change("x", 1004.0, 1), 300_000)], 10,
     1_004_000),
    ("short page of old records: a sparse stretch, not the end", [change("x", 600.0, 1)], 10, 600_000),
])
def test_a_short_page_after_live_records_is_the_shards_end_as_of_the_call(case, records, limit, expected):
    clock = Clock(1_005_000)
    win = TableWindow(TABLE, RecordBuffer(1000), AWS, 0, "hb", threading.Event(), clock)
    watched = win.watch(SlowChanges([Page(records, "it1")], clock, 3000))
    watched.shards("arn")
    watched.read(watched.iterator("arn", "s1", None, "TRIM_HORIZON"), limit)  # sent at 1_005_000, answered 3 s later
    watched.read("it1", 1)  # the next call: the page before is in the buffer
    assert win.watermark_ms() == expected, case
