import threading
from collections import Counter

from python_connector.streams import leases
from python_connector.streams.leases import SHARD_END, Committed, LeaseKeeper
from python_connector.streams.source import Shard
from python_connector.task.inflight import InFlight, InFlightBatches
from tests.unit.fakes import FakeLeaseTable


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def shared_table(shards=4):
    table = FakeLeaseTable()
    for i in range(shards):
        table.create(Shard(f"s{i}", None, False), leases.TRIM_HORIZON, "arn")
    return table


def keeper(name, table, clock):
    k = LeaseKeeper(name, clock)
    k.add_table("t", table)
    return k


def owners(table):
    return Counter(lease.owner for lease in table.items.values())


def hand_over_when_asked(owner, table):
    """The owner's cycle that sees a request, its reader stopping the shard, and the cycle that hands over."""
    owner.cycle()
    for lease in table.items.values():
        if lease.owner == owner.owner and lease.next_owner:
            owner.stopped_reading("t", lease.shard)
    owner.cycle()


def test_a_lone_task_takes_every_lease_and_a_second_one_is_handed_its_share_at_once():
    table, clock = shared_table(6), Clock()
    first, second = keeper("first", table, clock), keeper("second", table, clock)
    first.cycle()
    assert owners(table) == {"first": 6}
    second.cycle()  # asks for what it lacks (before: one lease a cycle, hundreds of cycles after a restart)
    second.cycle()  # and no more while those are outstanding
    assert [lease.next_owner for lease in table.items.values()].count("second") == 3
    hand_over_when_asked(first, table)
    second.cycle()
    assert owners(table) == {"first": 3, "second": 3}
    assert set(first.held("t")).isdisjoint(second.held("t")) and len(second.held("t")) == 3


def test_a_lease_is_handed_over_only_once_what_its_owner_read_is_committed():
    table, clock = shared_table(2), Clock()
    first, second = keeper("first", table, clock), keeper("second", table, clock)
    first.cycle()
    first.emitted("t", "s0", "00005")
    first.emitted("t", "s1", "00009")
    first.committed([Committed("t", "s0", "00003"), Committed("t", "s1", "00003")])
    second.cycle()
    asked = next(shard for shard, lease in table.items.items() if lease.next_owner)
    first.cycle()
    assert asked not in first.held("t")  # its reader is to stop it
    first.stopped_reading("t", asked)
    first.cycle()
    assert table.items[asked].owner == "first"
    first.committed([Committed("t", asked, "00005" if asked == "s0" else "00009")])
    first.cycle()
    assert table.items[asked].owner == "second"
    assert table.items[asked].checkpoint == ("00005" if asked == "s0" else "00009")


def test_a_dead_tasks_leases_are_taken_after_the_lease_duration_and_not_before():
    table, clock = shared_table(2), Clock()
    dead, alive = keeper("dead", table, clock), keeper("alive", table, clock)
    dead.cycle()
    alive.cycle()
    assert owners(table) == {"dead": 2}
    clock.now += leases.LEASE_DURATION_S - 1
    alive.cycle()
    assert owners(table) == {"dead": 2}
    clock.now += 1
    alive.cycle()
    assert owners(table) == {"alive": 2}


def test_renewal_writes_only_committed_positions_and_a_finished_shard_frees_its_lease():
    table, clock = shared_table(2), Clock()
    k = keeper("k", table, clock)
    k.cycle()
    k.committed([Committed("t", "s0", "00042"), Committed("t", "s1", SHARD_END)])
    k.cycle()  # a shard's end is written at once: children wait on it; other checkpoints with the renewal
    assert table.items["s0"].checkpoint == leases.TRIM_HORIZON and table.items["s1"].checkpoint == SHARD_END
    clock.now += leases.RENEW_S
    k.cycle()
    assert table.items["s0"].checkpoint == "00042" and table.items["s0"].owner == "k"
    assert table.items["s1"].checkpoint == SHARD_END and table.items["s1"].owner is None
    assert set(k.held("t")) == {"s0"} and k.finished("t", "s1") and not k.finished("t", "s0")


def test_release_frees_leases_with_their_last_committed_position():
    table, clock = shared_table(1), Clock()
    k = keeper("k", table, clock)
    k.cycle()
    k.committed([Committed("t", "s0", "00007")])
    k.release_all()
    assert (table.items["s0"].owner, table.items["s0"].checkpoint) == (None, "00007")
    other = keeper("other", table, clock)
    other.cycle()  # free: taken at once, no lease duration to wait
    assert table.items["s0"].owner == "other"


def test_leases_readable_at_once_are_taken_before_children_of_unfinished_parents():
    table, clock = FakeLeaseTable(), Clock()
    for shard in (Shard("a", None, False), Shard("parent", None, True), Shard("child", "parent", False),
                  Shard("other", None, False)):
        table.create(shard, leases.TRIM_HORIZON, "arn")
    table.advance(table.items["a"], "live")
    k = keeper("k", table, clock)
    k.cycle()  # share 2 of 4: two of the three free leases
    assert set(k.held("t")) == {"parent", "other"}


def test_the_further_of_the_lease_checkpoint_and_connects_position_wins():
    assert leases.further("00100", "00099") == "00100"
    assert leases.further("00099", "00100") == "00100"
    assert leases.further("99", "100") == "100"  # numbers, not strings
    assert leases.further(leases.TRIM_HORIZON, "00005") == "00005"
    assert leases.further("00005", SHARD_END) == SHARD_END
    assert leases.further(SHARD_END, None) == SHARD_END
    assert leases.further(leases.LATEST, None) == leases.LATEST


def test_positions_become_committed_in_poll_order_whatever_order_batches_are_acknowledged():
    batches = InFlightBatches()
    ids = [batches.add(InFlight(1, Counter(), [Committed("t", "s", f"{i}")])) for i in range(3)]
    assert batches.acknowledge(ids[1])[1] == []
    assert batches.acknowledge(ids[2])[1] == []
    batch, committed = batches.acknowledge(ids[0])
    assert batch.records == 1 and [c.checkpoint for c in committed] == ["0", "1", "2"]
    assert batches.acknowledge(ids[0]) == (None, [])


class CountingLeaseTable(FakeLeaseTable):
    """The fake, counting its lease writes."""

    def __init__(self):
        super().__init__()
        self.writes = 0

    def advance(self, lease, owner, checkpoint=None):
        self.writes += 1
        return super().advance(lease, owner, checkpoint)


def test_an_acknowledgement_that_comes_after_the_lease_moved_on_never_moves_its_checkpoint_back():
    table, clock = shared_table(1), Clock()
    first, second = keeper("first", table, clock), keeper("second", table, clock)
    first.cycle()
    first.emitted("t", "s0", "00010")
    second.cycle()
    clock.now += leases.LEASE_DURATION_S + 1  # first stalls: its lease expires and second takes it
    second.cycle()
    clock.now += leases.RENEW_S
    second.committed([Committed("t", "s0", "00020")])
    second.cycle()
    assert (table.items["s0"].owner, table.items["s0"].checkpoint) == ("second", "00020")
    first.cycle()  # sees it lost the lease
    first.committed([Committed("t", "s0", "00010")])  # Connect acknowledges what first read before
    second.release_all()
    first.cycle()  # takes the free lease back
    clock.now += leases.RENEW_S
    first.cycle()
    assert (table.items["s0"].owner, table.items["s0"].checkpoint) == ("first", "00020")


def test_a_cycle_writes_only_the_leases_that_are_due():
    table, clock = CountingLeaseTable(), Clock()
    for i in range(50):
        table.create(Shard(f"s{i}", None, False), leases.TRIM_HORIZON, "arn")
    k = keeper("k", table, clock)
    k.cycle()
    taken = table.writes
    k.committed([Committed("t", "s1", "00001"), Committed("t", "s2", SHARD_END)])
    k.cycle()  # woken at once (a shard ended): only that lease is written
    assert (taken, table.writes) == (50, 51) and table.items["s2"].checkpoint == SHARD_END
    clock.now += leases.RENEW_S
    k.cycle()  # the renewal: every lease held, with its checkpoint
    assert table.writes == 51 + 49 and table.items["s1"].checkpoint == "00001"


def test_losing_the_race_to_take_a_lease_is_no_upkeep_failure_and_the_cycle_goes_on():
    table, clock = shared_table(2), Clock()
    slow, fast = keeper("slow", table, clock), keeper("fast", table, clock)
    slow._observe("t", table.leases())  # slow saw both leases free ...
    fast.cycle()  # ... fast took both first
    slow._balance()  # its takes lose the race (raised AttributeError on None.checkpoint before the fix in _write)
    assert owners(table) == {"fast": 2} and not slow.held("t")


def sharing_pair(table, clock):
    """Two keepers of one table: the first takes every lease, then hands the second one when asked."""
    first, second = keeper("first", table, clock), keeper("second", table, clock)
    first.cycle()
    second.cycle()
    hand_over_when_asked(first, table)
    second.cycle()
    return first, second


def test_a_released_keeper_takes_no_lease_others_free_as_they_stop_too():
    table, clock = shared_table(4), Clock()
    first, second = sharing_pair(table, clock)
    hand_over_when_asked(first, table)
    second.cycle()
    assert owners(table) == {"first": 2, "second": 2}
    stopped = threading.Event()
    stopped.set()
    first.run(stopped)  # both tasks stop (a restart) ...
    second.release_all()  # ... second frees its leases first ...
    first.cycle()  # ... and first's upkeep, still in a cycle, must not take them: they would wait out their expiry
    assert owners(table) == {None: 2, "first": 2}
    first.release_all()
    assert owners(table) == {None: 4}


def test_a_request_racing_the_owners_renewal_does_not_make_it_drop_the_shard_with_reads_in_flight():
    table, clock = shared_table(1), Clock()
    owner = keeper("owner", table, clock)
    owner.cycle()
    owner.emitted("t", "s0", "00009")  # read, not yet committed
    seen = table.items["s0"]
    table.request(seen, "asker")  # lands between the owner's scan of the lease table and its renewal
    clock.now += leases.RENEW_S
    owner._renew(("t", "s0"), seen)
    assert "s0" in owner.held("t")  # before: taken for lost, dropped, and later handed over at an older checkpoint
    owner.cycle()  # now sees the request
    owner.stopped_reading("t", "s0")
    owner.cycle()
    assert table.items["s0"].owner == "owner"  # not before what it read is committed
    owner.committed([Committed("t", "s0", "00009")])
    owner.cycle()
    assert (table.items["s0"].owner, table.items["s0"].checkpoint) == ("asker", "00009")


def test_a_task_that_just_handed_leases_over_does_not_ask_for_them_back_as_shares_move():
    table, clock = shared_table(4), Clock()
    first, second = sharing_pair(table, clock)
    assert owners(table) == {"first": 2, "second": 2}
    first.committed([Committed("t", s, SHARD_END) for s in first.held("t")])  # its shards end (a burst)
    first.cycle()  # now short of its share (1 of the 2 live leases), but it gave leases away a moment ago
    assert not [lease for lease in table.items.values() if lease.next_owner]  # before: asked them straight back
    clock.now += leases.LEASE_DURATION_S
    second.cycle()  # renews: alive
    first.cycle()
    assert [lease.next_owner for lease in table.items.values()].count("first") == 1
