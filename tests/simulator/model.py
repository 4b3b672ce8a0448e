"""The simulated table and its stream: shards over hash ranges, records, sequence numbers, rotation, trimming.

Everything runs on the wall clock (``time.time``) with short, configurable durations: compressing AWS's
4-hour shard rotation, 24-hour retention and 15-minute iterator lifetime to seconds is what makes a
test of a few seconds meet them all. One lock guards the whole model; every operation takes it briefly.
"""

from __future__ import annotations

import base64
import bisect
import datetime
import hashlib
import heapq
import itertools
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from tests.simulator.changelog import ChangeLog

REGION = "us-east-1"
ACCOUNT = "000000000000"
FIRST_SEQUENCE = 10**20  # 21 digits, as AWS's sequence numbers have
HASH_SPACE = 1 << 32
MAX_GETRECORDS_LIMIT = 1000
MAX_DESCRIBE_LIMIT = 100
GONE_SHARDS_REMEMBERED = 100_000


class SimError(Exception):
    """An AWS error answer: HTTP 400 with ``__type`` ending in ``#<code>``."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass
class Knobs:
    """Every tunable of the simulation; the command-line flags map one to one (``--rotate-s`` → rotate_s)."""

    table: str = "sim"
    shards: int = 8
    max_shards: int = 0  # 0: twice --shards
    rotate_s: float = 60.0
    split_fraction: float = 0.2
    retention_s: float = 600.0
    iterator_ttl_s: float = 60.0
    writes_per_s: float = 50.0
    keys: int = 1000
    remove_fraction: float = 0.1
    slow_fraction: float = 0.0
    slow_ms: float = 200.0
    throttle: bool = False
    throttle_fraction: float = 0.0
    throttle_window_s: float = 1.0
    seed: int | None = None

    @property
    def open_cap(self) -> int:
        return self.max_shards or 2 * self.shards


@dataclass
class Record:
    seq: int
    ts: float
    body: bytes  # the record exactly as GetRecords returns it, serialized once


@dataclass
class Shard:
    id: str
    parent: str | None
    lo: int  # hash range [lo, hi) of the keys written to it while open
    hi: int
    start_seq: int
    end_seq: int | None = None
    closed_at: float | None = None
    seqs: list[int] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    head: int = 0  # index of the first record not trimmed
    trim_mark: int = 0  # sequence number of the last trimmed record; 0 = none trimmed
    readers: dict[str, float] = field(default_factory=dict)  # iterator chain → last GetRecords time

    def listing(self) -> dict[str, Any]:
        seq_range: dict[str, str] = {"StartingSequenceNumber": str(self.start_seq)}
        if self.end_seq is not None:
            seq_range["EndingSequenceNumber"] = str(self.end_seq)
        entry: dict[str, Any] = {"ShardId": self.id, "SequenceNumberRange": seq_range}
        if self.parent:
            entry["ParentShardId"] = self.parent
        return entry

    def append(self, record: Record) -> None:
        self.seqs.append(record.seq)
        self.records.append(record)

    def trim_first(self) -> None:
        self.trim_mark = self.seqs[self.head]
        self.head += 1
        if self.head > 1024 and self.head * 2 > len(self.seqs):  # compact: keep memory bound by retention
            del self.seqs[: self.head], self.records[: self.head]
            self.head = 0

    def horizon(self) -> int:
        """The first position not trimmed (TRIM_HORIZON)."""
        return max(self.start_seq, self.trim_mark + 1)


@dataclass(frozen=True)
class Iterator:
    shard: str
    pos: int  # the next record read has a sequence number >= pos
    issued: float
    chain: str  # kept across NextShardIterator: one reader's identity, for the concurrency throttle

    def encode(self, arn: str) -> str:
        raw = f"{self.shard}|{self.pos}|{self.issued:.3f}|{self.chain}".encode()
        return f"{arn}|1|{base64.urlsafe_b64encode(raw).decode()}"

    @staticmethod
    def decode(text: str) -> tuple[str, Iterator]:
        try:
            arn, _, blob = text.rsplit("|", 2)
            shard, pos, issued, chain = base64.urlsafe_b64decode(blob).decode().split("|")
            return arn, Iterator(shard, int(pos), float(issued), chain)
        except (ValueError, UnicodeDecodeError) as e:
            raise SimError("ValidationException", "Invalid ShardIterator") from e


def key_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest(), "big")


class Stats:
    def __init__(self) -> None:
        self.rotations = 0
        self.splits = 0
        self.changes = 0
        self.trimmed_shards = 0
        self.trimmed_records = 0
        self.throttled = 0
        self.expired = 0
        self.calls: dict[str, int] = {}


class Simulator:
    """The table, its one stream and the background changes; thread-safe."""

    def __init__(self, knobs: Knobs, log: ChangeLog | None = None, clock: Callable[[], float] = time.time):
        self.knobs = knobs
        self.lock = threading.Lock()
        self.stats = Stats()
        self.paused = False
        self._log = log
        self._clock = clock
        self._rng = random.Random(knobs.seed)
        now = clock()
        self.created = now
        self.label = datetime.datetime.fromtimestamp(now, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        self.arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{knobs.table}/stream/{self.label}"
        self.table_arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{knobs.table}"
        self.keys = [f"k{i:06d}" for i in range(knobs.keys)]
        self.key_index = {k: i for i, k in enumerate(self.keys)}
        self._hashes = [key_hash(k) for k in self.keys]
        self.items: dict[str, dict[str, Any]] = {}
        self._versions: dict[str, int] = {}
        self._next_seq = FIRST_SEQUENCE
        self._last_id_ms = 0
        self._id_counter = 0
        self._open_count = 0
        self.shards: dict[str, Shard] = {}
        self.listed: list[str] = []  # ids in creation order, which is also their sort order
        self._gone: dict[str, None] = {}  # delisted ids, oldest first, bounded
        self._open_starts: list[int] = []
        self._open: list[Shard] = []
        self._deadlines: list[tuple[float, str]] = []
        self._record_fifo: list[tuple[float, Shard]] = []
        self._fifo_head = 0
        self._closed_fifo: list[Shard] = []
        self._closed_head = 0
        self._budget = 0.0
        self._last_tick = now
        self._seed_shards(now)

    # ---- shards -------------------------------------------------------------------------------------------

    def _seed_shards(self, now: float) -> None:
        n = max(1, self.knobs.shards)
        bounds = [HASH_SPACE * i // n for i in range(n + 1)]
        for i in range(n):
            # Staggered first lifetimes, so rotation is continuous rather than a burst every rotate_s.
            self._new_shard(None, bounds[i], bounds[i + 1], now, now + self.knobs.rotate_s * (i + 1) / n)
        self._index_open()

    def _take_seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def _new_shard(self, parent: str | None, lo: int, hi: int, now: float, deadline: float) -> Shard:
        self._last_id_ms = max(self._last_id_ms, int(now * 1000))
        self._id_counter += 1
        shard = Shard(f"shardId-{self._last_id_ms:020d}-{self._id_counter:08x}", parent, lo, hi, self._take_seq())
        self.shards[shard.id] = shard
        self.listed.append(shard.id)
        self._open_count += 1
        heapq.heappush(self._deadlines, (deadline, shard.id))
        return shard

    def _index_open(self) -> None:
        self._open = sorted((s for s in self.shards.values() if s.end_seq is None), key=lambda s: s.lo)
        self._open_starts = [s.lo for s in self._open]

    def _rotate(self, now: float) -> None:
        rotated = False
        while self._deadlines and self._deadlines[0][0] <= now:
            _, shard_id = heapq.heappop(self._deadlines)
            self._close(self.shards[shard_id], now)
            rotated = True
        if rotated:
            self._index_open()

    def _close(self, shard: Shard, now: float) -> None:
        shard.end_seq = self._take_seq()
        shard.closed_at = now
        self._closed_fifo.append(shard)
        self.stats.rotations += 1
        self._open_count -= 1
        # Children cover the parent's hash range, so a key's shards form one lineage; the count grows by splits
        # only, so splitting stops at the cap and shards then just roll over.
        split = (self._rng.random() < self.knobs.split_fraction and shard.hi - shard.lo >= 2
                 and self._open_count + 2 <= self.knobs.open_cap)
        cuts = [shard.lo, (shard.lo + shard.hi) // 2, shard.hi] if split else [shard.lo, shard.hi]
        for lo, hi in itertools.pairwise(cuts):
            lifetime = self.knobs.rotate_s * self._rng.uniform(0.8, 1.2)
            self._new_shard(shard.id, lo, hi, now, now + lifetime)
        if split:
            self.stats.splits += 1

    def _shard_for(self, key_index: int) -> Shard:
        return self._open[bisect.bisect_right(self._open_starts, self._hashes[key_index]) - 1]

    def open_count(self) -> int:
        return self._open_count

    # ---- changes ------------------------------------------------------------------------------------------

    def _write(self, now: float) -> None:
        if self.paused:
            self._budget = 0.0
            return
        self._budget += self.knobs.writes_per_s * (now - self._last_tick)
        count = int(self._budget)
        self._budget -= count
        for _ in range(min(count, int(self.knobs.writes_per_s) + 1)):  # no catch-up burst after a stall
            self._change(self._rng.randrange(len(self.keys)), now)

    def _change(self, index: int, now: float) -> None:
        key = self.keys[index]
        old = self.items.get(key)
        if old is not None and self._rng.random() < self.knobs.remove_fraction:
            event, new = "REMOVE", None
            del self.items[key]
        else:
            event = "MODIFY" if old is not None else "INSERT"
            new = self._item(key)
            self.items[key] = new
        shard = self._shard_for(index)
        seq = self._take_seq()
        record = Record(seq, now, orjson.dumps(self._record_body(key, event, new, old, seq, now)))
        shard.append(record)
        self._record_fifo.append((now, shard))
        self.stats.changes += 1
        if self._log:
            self._log.append({"seq": str(seq), "shard": shard.id, "key": key, "event": event, "new": new,
                              "old": old, "ts": now})

    def _item(self, key: str) -> dict[str, Any]:
        version = self._versions.get(key, 0) + 1
        self._versions[key] = version
        return {"pk": {"S": key}, "version": {"N": str(version)},
                "payload": {"S": f"{key}-v{version}-{self._rng.getrandbits(32):08x}"},
                "flag": {"BOOL": version % 2 == 0}}

    def _record_body(self, key: str, event: str, new: dict[str, Any] | None, old: dict[str, Any] | None,
                     seq: int, now: float) -> dict[str, Any]:
        ddb: dict[str, Any] = {"ApproximateCreationDateTime": int(now), "Keys": {"pk": {"S": key}}}
        if new is not None:
            ddb["NewImage"] = new
        if old is not None:
            ddb["OldImage"] = old
        ddb["SequenceNumber"] = str(seq)
        ddb["SizeBytes"] = len(key) + len(orjson.dumps(new)) + len(orjson.dumps(old))
        ddb["StreamViewType"] = "NEW_AND_OLD_IMAGES"
        return {"eventID": f"{self._rng.getrandbits(128):032x}", "eventName": event, "eventVersion": "1.1",
                "eventSource": "aws:dynamodb", "awsRegion": REGION, "dynamodb": ddb}

    # ---- retention ----------------------------------------------------------------------------------------

    def _trim(self, now: float) -> None:
        cutoff = now - self.knobs.retention_s
        fifo = self._record_fifo
        while self._fifo_head < len(fifo) and fifo[self._fifo_head][0] < cutoff:
            fifo[self._fifo_head][1].trim_first()  # records of a shard trim in order, as they were appended
            self._fifo_head += 1
            self.stats.trimmed_records += 1
        if self._fifo_head > 4096 and self._fifo_head * 2 > len(fifo):
            del fifo[: self._fifo_head]
            self._fifo_head = 0
        self._delist(cutoff)

    def _delist(self, cutoff: float) -> None:
        closed = self._closed_fifo
        while self._closed_head < len(closed) and (closed[self._closed_head].closed_at or 0) < cutoff:
            shard = closed[self._closed_head]
            self._closed_head += 1
            del self.shards[shard.id]
            del self.listed[bisect.bisect_left(self.listed, shard.id)]
            self._gone[shard.id] = None
            if len(self._gone) > GONE_SHARDS_REMEMBERED:
                del self._gone[next(iter(self._gone))]
            self.stats.trimmed_shards += 1
        if self._closed_head > 1024 and self._closed_head * 2 > len(closed):
            del closed[: self._closed_head]
            self._closed_head = 0

    def tick(self) -> None:
        """Advances the simulation to now: rotations, then changes, then retention."""
        with self.lock:
            now = self._clock()
            self._rotate(now)
            self._write(now)
            self._trim(now)
            self._last_tick = now

    # ---- stream reads -------------------------------------------------------------------------------------

    def describe_page(self, start_after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
        with self.lock:
            start = bisect.bisect_right(self.listed, start_after) if start_after else 0
            ids = self.listed[start : start + limit]
            more = start + limit < len(self.listed)
            return [self.shards[i].listing() for i in ids], (ids[-1] if more and ids else None)

    def _listed_shard(self, shard_id: str) -> Shard:
        shard = self.shards.get(shard_id)
        if shard is None:
            raise SimError("ResourceNotFoundException",
                           f"Requested resource not found: Shard does not exist ({shard_id})")
        return shard

    def shard_iterator(self, shard_id: str, kind: str, seq_text: str | None) -> str:
        with self.lock:
            shard = self._listed_shard(shard_id)
            now = self._clock()
            chain = f"{self._rng.getrandbits(64):016x}"
            return Iterator(shard.id, self._start_position(shard, kind, seq_text), now, chain).encode(self.arn)

    def _start_position(self, shard: Shard, kind: str, seq_text: str | None) -> int:
        if kind == "TRIM_HORIZON":
            return shard.horizon()
        if kind == "LATEST":
            return self._next_seq
        if kind not in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER"):
            raise SimError("ValidationException", f"Invalid ShardIteratorType: {kind}")
        if not seq_text or not seq_text.isdigit():
            raise SimError("ValidationException", f"{kind} needs a SequenceNumber (a decimal string)")
        seq = int(seq_text)
        if seq < shard.start_seq or (shard.end_seq is not None and seq > shard.end_seq):
            raise SimError("ValidationException",
                           f"Invalid SequenceNumber {seq_text} for shard {shard.id}: outside its range")
        pos = seq if kind == "AT_SEQUENCE_NUMBER" else seq + 1
        if pos <= shard.trim_mark:
            raise SimError("TrimmedDataAccessException",
                           f"Sequence number {seq_text} of shard {shard.id} is past the retention period")
        return pos

    def get_records(self, text: str, limit: int) -> tuple[list[bytes], str | None]:
        _, it = Iterator.decode(text)
        with self.lock:
            now = self._clock()
            shard = self._readable_shard(it, now)
            self._check_throttle(shard, it.chain, now)
            if it.pos <= shard.trim_mark:
                raise SimError("TrimmedDataAccessException",
                               f"The iterator's position in shard {shard.id} is past the retention period")
            first = bisect.bisect_left(shard.seqs, it.pos, shard.head)
            batch = shard.records[first : first + limit]
            if shard.end_seq is not None and first + len(batch) >= len(shard.records):
                return [r.body for r in batch], None  # a closed shard read to its end
            pos = batch[-1].seq + 1 if batch else it.pos
            return [r.body for r in batch], Iterator(shard.id, pos, now, it.chain).encode(self.arn)

    def _readable_shard(self, it: Iterator, now: float) -> Shard:
        if now - it.issued > self.knobs.iterator_ttl_s:
            self.stats.expired += 1
            raise SimError("ExpiredIteratorException",
                           f"Iterator expired. The iterator was created at time {it.issued:.3f} while right now "
                           f"it is {now:.3f} (lifetime {self.knobs.iterator_ttl_s}s)")
        shard = self.shards.get(it.shard)
        if shard is None and it.shard in self._gone:
            raise SimError("TrimmedDataAccessException", f"Shard {it.shard} is past the retention period")
        if shard is None:
            raise SimError("ResourceNotFoundException", f"Requested resource not found: Shard {it.shard}")
        return shard

    def _check_throttle(self, shard: Shard, chain: str, now: float) -> None:
        if self.knobs.throttle_fraction and self._rng.random() < self.knobs.throttle_fraction:
            self._throttled("Rate exceeded for shard (random throttle)")
        if not self.knobs.throttle:
            return
        window = now - self.knobs.throttle_window_s
        for other in [c for c, seen in shard.readers.items() if seen < window]:
            del shard.readers[other]
        if chain not in shard.readers and len(shard.readers) >= 2:
            self._throttled(f"Rate exceeded for shard {shard.id}: more than two readers poll it")
        shard.readers[chain] = now

    def _throttled(self, message: str) -> None:
        self.stats.throttled += 1
        raise SimError("LimitExceededException", message)

    # ---- table reads --------------------------------------------------------------------------------------

    def scan(self, start_key: str | None, segment: int, total: int, limit: int) -> tuple[list[Any], str | None]:
        with self.lock:
            index = self.key_index[start_key] + 1 if start_key in self.key_index else 0
            index += (segment - index) % total  # the first index of this segment at or after it
            items: list[Any] = []
            while index < len(self.keys) and len(items) < limit:
                item = self.items.get(self.keys[index])
                if item is not None:
                    items.append(item)
                index += total
            more = len(items) == limit and index < len(self.keys)
            return items, (items[-1]["pk"]["S"] if more else None)

    def snapshot_stats(self) -> dict[str, Any]:
        with self.lock:
            s = self.stats
            open_now = self.open_count()
            return {"shards_listed": len(self.listed), "open": open_now, "closed": len(self.listed) - open_now,
                    "trimmed_shards": s.trimmed_shards, "trimmed_records": s.trimmed_records,
                    "rotations": s.rotations, "splits": s.splits, "changes": s.changes, "items": len(self.items),
                    "throttled": s.throttled, "expired_iterators": s.expired, "calls": dict(s.calls),
                    "paused": self.paused, "last_sequence": str(self._next_seq - 1)}

    def count_call(self, op: str) -> None:
        with self.lock:
            self.stats.calls[op] = self.stats.calls.get(op, 0) + 1
