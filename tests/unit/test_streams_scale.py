"""The stream reader at AWS scale: incremental shard listing, per-shard throttling back-off, shards gone past
retention, children found as soon as their parent ends, prompt hand-overs, the stall detector, lineage affinity."""

import logging
import threading

import pytest

from python_connector.aws.client import AwsError
from python_connector.metrics.registry import METRICS
from python_connector.records import offsets
from python_connector.records.buffer import RecordBuffer
from python_connector.streams import listing, stalls
from python_connector.streams.dynamodb import DynamoDbStreams
from python_connector.streams.leases import LEASE_DURATION_S, LeaseKeeper
from python_connector.streams.leases import keeper as keeper_module
from python_connector.streams.reader import CdcError, ReaderSettings, StreamStart, TableStreamReader
from python_connector.streams.source import Shard
from python_connector.streams.stalls import StallWatch
from tests.unit.fakes import FakeLeaseTable
from tests.unit.test_cdc import FROM_START, STREAM, TABLE, FakeStream, Hooks, change, run_reader


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def shard_id(ms, n):
    return f"shardId-{ms:020d}-{n:08x}"


class ListingSource:
    """A ChangeSource's shards(): the listing it was asked for, recorded."""

    def __init__(self, shards):
        self.all = shards
        self.asked = []

    def shards(self, stream_arn, after=None):
        self.asked.append(after)
        return [s for s in self.all if after is None or s.id > after]


def test_between_full_listings_only_shards_newer_than_a_margin_before_the_newest_are_listed():
    old, mid, new = shard_id(1_000, 1), shard_id(50_000, 2), shard_id(55_000, 3)
    source, clock = ListingSource([Shard(old, None, True), Shard(mid, old, False), Shard(new, None, False)]), Clock()
    shards = listing.ShardListing(source, "arn", clock)
    assert shards.refresh().complete and source.asked == [None]
    source.all.append(Shard(shard_id(56_000, 4), mid, False))
    result = shards.refresh()
    assert not result.complete and source.asked[-1] == old  # 10 s before the newest (55 s): the one at 1 s
    assert [s.id for s in result.shards] == [old, mid, new, shard_id(56_000, 4)]  # every shard known
    clock.now += listing.FULL_LISTING_S
    assert shards.refresh().complete and source.asked[-1] is None


def test_shard_ids_of_another_form_are_always_listed_in_full():
    source = ListingSource([Shard("a", None, False), Shard("b", "a", False)])
    shards = listing.ShardListing(source, "arn", Clock())
    shards.refresh()
    assert shards.refresh().complete and source.asked == [None, None]


def throttling(stream, shard, times):
    """Wraps the fake so GetRecords on one shard answers LimitExceededException `times` times."""
    left, calls = [times], stream.call

    def call(operation, body, retry_throttling=True):
        if operation == "GetRecords" and f'"{shard}"' in body["ShardIterator"] and left[0] > 0:
            left[0] -= 1
            raise AwsError("GetRecords", "LimitExceededException", "Rate exceeded for shard", 400)
        return calls(operation, body, retry_throttling)

    stream.call = call
    return left


def test_a_throttled_shard_backs_off_alone_and_is_read_once_it_may():
    stream = FakeStream({"hot": {"parent": None, "records": [change(1, "h")], "closed": False},
                         "cold": {"parent": None, "records": [change(2, "c")], "closed": False}})
    left = throttling(stream, "hot", 3)
    sequences, _ = run_reader(stream, want=2, timeout=5)  # before: the first throttle failed the table
    assert sorted(sequences) == ["00001", "00002"] and sequences[0] == "00002" and left == [0]
    assert sum(v for n, _, v in METRICS.samples() if n == "ddbcdc_cdc_throttled_total") >= 3


def test_a_shard_no_longer_listed_past_a_stored_position_fails_the_table_saying_changes_are_lost():
    stream = FakeStream({"gone": {"parent": None, "records": [change(1, "a"), change(2, "a")], "closed": False}},
                        fail={"GetShardIterator": [AwsError("GetShardIterator", "ResourceNotFoundException",
                                                            "Requested resource not found: Shard does not exist",
                                                            400)]})
    with pytest.raises(CdcError, match=r"shard gone after sequence number 00001 .* they are lost"):
        run_reader(stream, stored={"gone": offsets.ShardProgress("00001", False)}, want=1)


def test_a_child_is_found_and_read_as_soon_as_its_parent_ends_not_at_the_next_periodic_listing():
    stream = FakeStream({"parent": {"parent": None, "records": [change(1, "a")], "closed": True}})
    listed = stream.call

    def child_appears_once_the_parent_is_read(operation, body, retry_throttling=True):
        if operation == "GetRecords" and '"parent"' in body["ShardIterator"]:
            stream.shards["child"] = {"parent": "parent", "records": [change(2, "a")], "closed": False}
        return listed(operation, body, retry_throttling)

    stream.call = child_appears_once_the_parent_is_read
    sequences, _ = run_reader(stream, want=2, timeout=4, commit=True)  # before: the next listing came after 10 s
    assert sequences == ["00001", "00002"]


def holding_every_lease(stream):
    """A reader whose task holds every shard's lease, between rounds: (reader, keeper, lease table)."""
    table = FakeLeaseTable()
    for s, shard in stream.shards.items():
        table.create(Shard(s, shard["parent"], shard["closed"]), "TRIM_HORIZON", STREAM.arn)
    keeper = LeaseKeeper("me")
    reader = TableStreamReader(DynamoDbStreams(stream), TABLE, StreamStart(STREAM, FROM_START, {}),
                               RecordBuffer(100), keeper, table, Hooks(threading.Event()), ReaderSettings(100))
    keeper.add_table("t", table)
    keeper.cycle()
    reader._follow_leases()
    return reader, keeper, table


def test_a_lineage_behind_the_stream_catches_up_a_generation_a_read_not_a_round():
    stream = FakeStream({"a": {"parent": None, "records": [change(1, "k")], "closed": True},
                         "b": {"parent": "a", "records": [change(2, "k")], "closed": True},
                         "c": {"parent": "b", "records": [change(3, "k")], "closed": False}})
    reader, _, _ = holding_every_lease(stream)
    assert reader._round() == 3  # before: 1, one generation per round over every shard of the stream


def test_a_shard_handed_over_during_a_round_is_let_go_before_the_rest_of_the_round():
    stream = FakeStream({s: {"parent": None, "records": [change(i, s)], "closed": False}
                         for i, s in enumerate(["s1", "s2", "s3"], 1)})
    reader, keeper, table = holding_every_lease(stream)
    read = stream.call

    def asked_for_s3_while_s1_is_read(operation, body, retry_throttling=True):
        if operation == "GetRecords" and '"s1"' in body["ShardIterator"]:
            table.request(table.items["s3"], "other")
            keeper.cycle()  # sees the request: s3 is to be handed over
        return read(operation, body, retry_throttling)

    stream.call = asked_for_s3_while_s1_is_read
    assert reader._round() == 2  # s1 and s2; s3 let go at once
    keeper.cycle()  # nothing of s3 was emitted: handed over now, not after the round or a timeout
    assert table.items["s3"].owner == "other" and table.items["s3"].checkpoint == "TRIM_HORIZON"


class Lines(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def test_a_shard_expected_to_advance_that_does_not_is_reported_stalled_once_with_a_log_line():
    clock, lines = Clock(), Lines()
    watch = StallWatch({"connector": "c", "table": "t", "task": "0"}, after_s=300, clock=clock)
    watch.expect(["busy", "stuck", "child-waiting"])
    watch.expect(["busy", "stuck"])  # the child waits on its parent: not expected to advance
    stalls.log.addHandler(lines)
    disabled, stalls.log.disabled = stalls.log.disabled, False  # lint_imports (test_architecture) disables loggers
    try:
        for _ in range(7):
            clock.now += 50
            watch.advanced("busy")
            watch.check()
        assert watch.check() == ["stuck"] and watch.check() == ["stuck"]
    finally:
        stalls.log.removeHandler(lines)
        stalls.log.disabled = disabled
    assert [line for line in lines.lines if "has not advanced" in line] == [
        "Table t: shard stuck has changes left to read and has not advanced for 300 s (task 0): see the task's log "
        "for why (throttling, errors, a full buffer)"]  # once, as it started
    assert [v for n, labels, v in METRICS.samples() if n == "ddbcdc_cdc_stalled_shards" and labels["task"] == "0"] \
        == [1]
    watch.advanced("stuck")
    assert watch.check() == []


def test_a_free_child_goes_to_the_task_that_reads_its_parent():
    table, clock = FakeLeaseTable(), Clock()
    table.create(Shard("p", None, False), "TRIM_HORIZON", "arn")
    table.create(Shard("q", None, False), "TRIM_HORIZON", "arn")
    table.advance(table.items["p"], "reader-of-p")
    table.advance(table.items["q"], "other")
    table.create(Shard("child", "p", False), "TRIM_HORIZON", "arn")
    other = LeaseKeeper("other", clock)
    other.add_table("t", table)
    other.cycle()  # under its share (2 of 3), but the child is left to the reader of its parent ...
    assert table.items["child"].owner is None
    clock.now += keeper_module.LINEAGE_GRACE_S
    table.advance(table.items["p"], "reader-of-p")  # ... which is alive
    other.cycle()  # ... for a while only
    assert table.items["child"].owner == "other"
    assert keeper_module.LINEAGE_GRACE_S < LEASE_DURATION_S  # well before the parent's reader could be dead
