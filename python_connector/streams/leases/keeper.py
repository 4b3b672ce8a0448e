"""One task's share of the leases: renewing, checkpointing, taking and handing over (see leases.table)."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor

from python_connector.aws.client import AwsError
from python_connector.metrics.registry import METRICS
from python_connector.streams import positions
from python_connector.streams.leases.table import Committed, Lease, LeaseTable
from python_connector.streams.positions import SHARD_END

log = logging.getLogger(__name__)

LEASE_DURATION_S = 10.0  # a lease whose counter has not moved for this long may be taken by another task
RENEW_S = 2.0  # how often a task renews, checkpoints and balances its leases
MIN_CYCLE_S = 0.25  # woken cycles (a shard ended, a hand-over) come no closer: each one scans the lease table
HANDOVER_WAIT_S = 3 * LEASE_DURATION_S  # an owner whose reader never stops reading a shard hands it over anyway
LINEAGE_GRACE_S = RENEW_S  # a free child of a shard another task read is left to that task this long
RELEASE_THREADS = 8  # a stopping task frees hundreds of leases within Connect's 5 s graceful stop


class LeaseKeeper:
    """One task's leases over all the tables it streams: renews them, checkpoints committed positions, and
    takes its share. Readers ask which shards they hold; run() keeps the leases from a thread of its own, so
    a reader blocked on a full buffer never lets its leases expire.

    Balancing hands leases over gracefully: a task under its share asks the busiest owner for what it lacks (sets
    ``nextOwner``); the owner's reader stops reading that shard, and once all it read is committed the owner
    writes the lease over to the asker with that checkpoint. A rebalance so repeats nothing. An owner that
    does not stop reading within HANDOVER_WAIT_S, or whose reads are not all committed LEASE_DURATION_S after it
    stopped, gives the lease up with its last committed position.

    Free leases go to the task that read their parent first: a child read where its parent was starts as soon as
    the parent ends, with no wait for another task to see the parent's SHARD_END. A task leaves another's
    children (while the other task reads the parent) free for LINEAGE_GRACE_S before it takes them.

    A lease is written when there is a reason: its renewal is due (RENEW_S since this task last wrote it), its
    shard ended (children wait on it), or it is handed over. So the upkeep's cost per cycle follows the churn of
    the stream, not the number of leases held.
    """

    def __init__(self, owner: str, clock: Callable[[], float] = time.monotonic,
                 labels: Mapping[str, str] | None = None):
        self.owner = owner
        self._labels = dict(labels or {})
        self._clock = clock
        self._tables: dict[str, LeaseTable] = {}
        self._seen: dict[tuple[str, str], tuple[Lease, float]] = {}  # lease as last seen, when its counter moved
        self._held: dict[tuple[str, str], Lease] = {}
        self._committed: dict[tuple[str, str], str] = {}  # positions to checkpoint at the next cycle
        self._emitted: dict[tuple[str, str], str] = {}  # the last position put in the buffer, per shard
        self._handing_over: dict[tuple[str, str], float] = {}  # since when the reader was asked to stop
        self._stopped_reading: dict[tuple[str, str], float] = {}  # since when the reader stopped reading it
        self._written_at: dict[tuple[str, str], float] = {}  # when this task last wrote the lease
        self._ended_here: set[tuple[str, str]] = set()  # shards this task read to their end (still listed)
        self._handed_at = -math.inf  # when this task last handed a lease over
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = False  # released: takes no lease any more
        self._stopping = threading.Event()  # the task stops: a cycle in progress takes no lease either
        self._checks: list[Callable[[], object]] = []

    def add_table(self, table: str, leases: LeaseTable) -> None:
        leases.ensure()
        with self._lock:
            self._tables[table] = leases

    def view(self, table: str) -> dict[str, Lease]:
        """The table's leases as last seen, after reading them now."""
        self._observe(table, self._tables[table].leases())
        with self._lock:
            return {shard: lease for (t, shard), (lease, _) in self._seen.items() if t == table}

    def finished(self, table: str, shard: str) -> bool:
        """The shard's lease says SHARD_END, or there is none (the shard was trimmed away)."""
        with self._lock:
            seen = self._seen.get((table, shard))
        return seen is None or seen[0].checkpoint == SHARD_END

    def held(self, table: str) -> dict[str, Lease]:
        """The leases the table's reader is to read: held, and not being handed over."""
        with self._lock:
            return {shard: lease for (t, shard), lease in self._held.items()
                    if t == table and (t, shard) not in self._handing_over}

    def emitted(self, table: str, shard: str, position: str) -> None:
        with self._lock:
            self._emitted[(table, shard)] = position

    def stopped_reading(self, table: str, shard: str) -> None:
        """The reader dropped the shard: nothing more of it will be emitted here."""
        with self._lock:
            self._stopped_reading.setdefault((table, shard), self._clock())
        self._wake.set()

    def committed(self, committed: Iterable[Committed]) -> None:
        with self._lock:
            for p in committed:
                if (p.table, p.shard) not in self._held:
                    continue  # acknowledged after the lease went to another task: its checkpoint is the truth now
                self._committed[(p.table, p.shard)] = p.checkpoint
                if p.checkpoint == SHARD_END:
                    self._wake.set()  # children wait on it, maybe on other tasks
                elif (p.table, p.shard) in self._handing_over:
                    self._wake.set()

    def wake(self) -> None:
        self._wake.set()

    def check_every_cycle(self, check: Callable[[], object]) -> None:
        """Runs the check on the keeper's thread each cycle (it never blocks on the buffer, as readers can)."""
        with self._lock:
            self._checks.append(check)

    def reading(self, table: str, shard: str) -> bool:
        """Whether the table's reader is to read the shard: held, and not being handed over."""
        with self._lock:
            return (table, shard) in self._held and (table, shard) not in self._handing_over

    def run(self, stopped: threading.Event) -> None:
        self._stopping = stopped
        while not stopped.is_set():
            try:
                self.cycle()
            except Exception:  # a lease upkeep that stopped would let every lease of this task expire
                if stopped.is_set():
                    return
                log.exception("Lease upkeep of %s failed; retrying in %.0fs", self.owner, RENEW_S)
            if stopped.wait(MIN_CYCLE_S):
                return
            self._wake.wait(RENEW_S - MIN_CYCLE_S)
            self._wake.clear()

    def cycle(self) -> None:
        """Renew (with checkpoints) or hand over, then take this task's share of the unfinished leases."""
        if self._closing:
            return
        for table, leases in list(self._tables.items()):
            self._observe(table, leases.leases())
        with self._lock:
            held = list(self._held.items())
        for key, lease in held:
            if key in self._handing_over and self._drained(key):
                self._write(key, lease, lease.next_owner, self._pending(key, lease))
            elif self._due(key, lease):
                self._renew(key, lease)
        self._balance()
        with self._lock:
            checks = list(self._checks)
        for check in checks:
            check()
        if self._labels:
            for table in self._tables:
                METRICS.set("ddbcdc_leases_owned", len(self.held(table)), table=table, **self._labels)

    def release_all(self) -> None:
        """Frees this task's leases with their last committed positions, so the next owner need not wait. From
        then on this keeper takes no lease: a stopping task's upkeep must not pick up what others release."""
        with self._lock:
            self._closing = True
            held = list(self._held.items())
        with ThreadPoolExecutor(RELEASE_THREADS, "ddbcdc-release") as pool:
            list(pool.map(lambda item: self._release(*item), held))

    def _release(self, key: tuple[str, str], lease: Lease) -> None:
        try:
            self._write(key, lease, lease.next_owner, self._pending(key, lease))
        except AwsError as e:
            log.warning("Could not release lease %s of table %s: %s", key[1], key[0], e)

    def _observe(self, table: str, leases: Mapping[str, Lease]) -> None:
        now = self._clock()
        with self._lock:
            for key in [k for k in self._seen if k[0] == table and k[1] not in leases]:
                del self._seen[key]
                self._ended_here.discard(key)
            for shard, lease in leases.items():
                key = (table, shard)
                before = self._seen.get(key)
                moved = before is None or before[0].counter != lease.counter
                self._seen[key] = (lease, now if moved or before is None else before[1])
                if lease.owner == self.owner and lease.checkpoint != SHARD_END:
                    if key not in self._held:
                        log.info("%s was handed the lease of shard %s of table %s", self.owner, shard, table)
                        self._forget(key)  # what this task knew of it from an earlier tenure is stale
                    self._held[key] = lease
                    if lease.next_owner and key not in self._handing_over:
                        log.info("%s hands shard %s of table %s over to %s once what it read is committed",
                                 self.owner, shard, table, lease.next_owner)
                        self._handing_over[key] = now
                elif self._held.pop(key, None) is not None and lease.owner != self.owner:
                    log.info("%s lost the lease of shard %s of table %s to %s", self.owner, shard, table, lease.owner)
                    self._forget(key)

    def _drained(self, key: tuple[str, str]) -> bool:
        """The reader stopped the shard and all it emitted is committed, or the owner waited long enough: a
        hand-over before that repeats what is still in flight."""
        with self._lock:
            now, stopped = self._clock(), self._stopped_reading.get(key)
            if stopped is None:
                return now - self._handing_over[key] >= HANDOVER_WAIT_S
            return self._emitted.get(key) in (None, self._committed.get(key)) or now - stopped >= LEASE_DURATION_S

    def _due(self, key: tuple[str, str], lease: Lease) -> bool:
        """Whether the lease is to be written this cycle: its renewal is due, or its shard ended."""
        with self._lock:
            due = self._clock() - self._written_at.get(key, -math.inf) >= RENEW_S - MIN_CYCLE_S
        return due or self._pending(key, lease) == SHARD_END

    def _forget(self, key: tuple[str, str]) -> None:
        for state in (self._emitted, self._handing_over, self._committed, self._stopped_reading, self._written_at):
            state.pop(key, None)

    def _pending(self, key: tuple[str, str], lease: Lease) -> str | None:
        """The committed position to checkpoint: only ever forward of the lease's."""
        with self._lock:
            checkpoint = self._committed.get(key)
        if checkpoint is None or positions.further(lease.checkpoint, checkpoint) == lease.checkpoint:
            return None
        return checkpoint

    def _renew(self, key: tuple[str, str], lease: Lease) -> None:
        checkpoint = self._pending(key, lease)
        self._write(key, lease, None if checkpoint == SHARD_END else self.owner, checkpoint)

    def _write(self, key: tuple[str, str], lease: Lease, owner: str | None, checkpoint: str | None) -> bool:
        """Writes the lease as seen; False when it had moved. A finished shard's lease is written free, as it
        counts towards no one's share."""
        written = self._tables[key[0]].advance(lease, owner, checkpoint)
        if written is None and lease.owner == self.owner:
            # The counter moved: most often another task asked for the lease (a request bumps it), which leaves it
            # this task's. Taken for lost, the shard would be dropped with what it read still in flight, and
            # handed over later at an older checkpoint: the next owner would repeat those changes.
            current = self._tables[key[0]].get(key[1])
            if current is not None and current.owner == self.owner:
                written = self._tables[key[0]].advance(current, owner, checkpoint)
        with self._lock:
            self._seen[key] = (written or lease, self._clock())
            if written is not None and checkpoint == SHARD_END:
                self._ended_here.add(key)
            if written is not None and owner == self.owner:
                if key not in self._held:
                    self._forget(key)
                self._held[key] = written
                self._written_at[key] = self._clock()
                return True
            was_held = self._held.pop(key, None) is not None
            self._forget(key)
            if written is None and was_held:
                log.info("%s lost the lease of shard %s of table %s", self.owner, key[1], key[0])
            elif written is not None and owner is not None:  # None: another task took it first
                self._handed_at = self._clock()
                log.info("%s handed shard %s of table %s over to %s at %s", self.owner, key[1], key[0], owner,
                         written.checkpoint)
            return written is not None

    def _balance(self) -> None:
        now = self._clock()
        with self._lock:
            if self._closing or self._stopping.is_set():
                return
            live = {k: lease for k, (lease, _) in self._seen.items() if lease.checkpoint != SHARD_END}
            expired = {k for k, lease in live.items() if k not in self._held and
                       (lease.owner is None or now - self._seen[k][1] >= LEASE_DURATION_S)}
            owners: dict[str, int] = {self.owner: 0}
            for k, lease in live.items():
                if k not in expired and lease.owner is not None:
                    owners[lease.owner] = owners.get(lease.owner, 0) + 1
            asked = sum(lease.next_owner == self.owner for k, lease in live.items() if k not in expired)
            target = math.ceil(len(live) / len(owners))
            wanted = target - owners[self.owner]
            # Children of shards read here first, then roots and children of finished parents: those can be read
            # at once; another task's children once it had time to take them.
            free = sorted((k for k in expired if self._lineage(k) < 2 or now - self._seen[k][1] >= LINEAGE_GRACE_S),
                          key=lambda k: (self._lineage(k), self._blocked(k), k))
        for key in free[:max(wanted, 0)]:
            self._take(key, live[key])
        busiest, count = max(owners.items(), key=lambda o: o[1])
        # Asks for what it lacks, up to what the busiest has over the share: a task that started second (or
        # after a restart, when the first took every lease) is at its share within a cycle or two.
        # Shares move as shards end (a stream's closed shards end in bursts): a task that just handed leases over,
        # or is short by a tenth of its share or less, does not ask, so leases do not bounce between tasks.
        steal = min(wanted - len(free), count - target) - asked
        settled = wanted <= target // 10 or now - self._handed_at < LEASE_DURATION_S
        if steal > 0 and busiest != self.owner and not settled:
            victims = sorted((k for k, lease in live.items() if lease.owner == busiest and lease.next_owner is None),
                             key=lambda k: (self._blocked(k), k))
            for victim in victims[:steal]:
                self._ask(victim, live[victim], busiest, count, target)

    def _ask(self, victim: tuple[str, str], lease: Lease, owner: str, count: int, target: int) -> None:
        requested = self._tables[victim[0]].request(lease, self.owner)
        if requested is not None:
            with self._lock:  # this task's own write says nothing about whether the owner is alive
                self._seen[victim] = (requested, self._seen[victim][1])
            log.info("%s asks %s for shard %s of table %s (%d leases, share %d)", self.owner, owner, victim[1],
                     victim[0], count, target)

    def _blocked(self, key: tuple[str, str]) -> bool:
        parent = self._seen[key][0].parent
        seen = self._seen.get((key[0], parent)) if parent else None  # under the lock, unlike finished()
        return seen is not None and seen[0].checkpoint != SHARD_END

    def _lineage(self, key: tuple[str, str]) -> int:
        """0: its parent is or was read here; 2: another task reads its parent; 1: neither (under the lock)."""
        parent = (key[0], self._seen[key][0].parent or "")
        if parent in self._held or parent in self._ended_here:
            return 0
        seen = self._seen.get(parent)
        return 2 if seen is not None and seen[0].owner not in (None, self.owner) and \
            seen[0].checkpoint != SHARD_END else 1

    def _take(self, key: tuple[str, str], lease: Lease) -> None:
        if self._write(key, lease, self.owner, None):
            log.info("%s took the lease of shard %s of table %s", self.owner, key[1], key[0])
