"""A DynamoDB Streams simulator: one table whose stream behaves like a large, busy AWS stream, on a fast clock.

``python -m tests.simulator --shards 300 --rotate-s 5 --retention-s 30 --log /tmp/changes.jsonl`` (from the
repository root) serves, on 127.0.0.1, the AWS JSON 1.0 protocol of DynamoDB and DynamoDB Streams, so a
connector pointed at it (``dynamodb.service.endpoint=http://127.0.0.1:<port>``) reads it as it would read AWS.
The first line on stdout is ``LISTENING <port>``. It exits on SIGTERM/SIGINT and when its parent dies.

What it simulates
  * One table (``--table``, simple hash key ``pk`` of type S, on-demand) with one stream
    (NEW_AND_OLD_IMAGES), written to in the background at ``--writes-per-s`` over ``--keys`` keys: INSERT for
    an absent key, else MODIFY, or REMOVE for ``--remove-fraction`` of them. Items are
    ``{pk, version (N), payload (S), flag (BOOL)}``.
  * Many shards (``--shards`` open at the start), each owning a range of a 32-bit key hash. A shard lives
    ``--rotate-s`` seconds (±20%; the first generation is staggered over that time), then closes (gets an
    EndingSequenceNumber) and gets one child over the same range, or, for ``--split-fraction`` of them, two
    children halving it. A key is always written to the one open shard whose range holds its hash, so its
    changes follow one lineage: reading parents before children gives each key's changes in order. Shards
    can only split, never merge (a child has one parent), so splits stop once ``--max-shards`` (default
    twice ``--shards``) are open, and shards then only roll over.
  * Sequence numbers: decimal strings of 21+ digits (from 10**20), strictly increasing over the whole stream.
    Shard ids ``shardId-<20-digit creation ms>-<8 hex>``, unique, sorting in creation order.
  * DescribeStream pages 100 shards (``Limit`` ≤ 100) with ExclusiveStartShardId/LastEvaluatedShardId.
  * Retention (``--retention-s``): older records are trimmed (an iterator or sequence number before the
    oldest kept record gets TrimmedDataAccessException), and a closed shard is delisted once it closed longer
    ago than that (all its records are then trimmed). GetShardIterator on a delisted shard answers
    ResourceNotFoundException, GetRecords on an iterator of one TrimmedDataAccessException.
  * Shard iterators expire after ``--iterator-ttl-s`` (ExpiredIteratorException); NextShardIterator is a
    fresh one. Reading a closed shard to its end returns its last records with no NextShardIterator.
  * Throttling: with ``--throttle``, GetRecords on a shard by a third iterator chain (a GetShardIterator and
    the NextShardIterators that follow it) while two others polled it within ``--throttle-window-s`` answers
    LimitExceededException; ``--throttle-fraction`` of GetRecords are throttled at random in any case.
  * Slowness: ``--slow-fraction`` of calls answer after ``--slow-ms``.
  * History (``--history-s``): the stream starts as if it had run that long already, on a fast-forwarded
    clock: rotated, closed (still retained) shards and their changes, logged like the others.
  * DescribeTable, ListTables and Scan (Segment/TotalSegments, ExclusiveStartKey, Limit — 1000 items a page by
    default — and Select COUNT) on the table, showing its current items.
  * ``--forward URL``: any other DynamoDB call (other tables: the connector's lease tables) and any Streams
    call for another stream is relayed verbatim to URL (DynamoDB Local), its answer returned unchanged;
    ListTables adds the simulated table to URL's list. Without it, other tables are ResourceNotFoundException.
  * ``--own-tables``: other tables are kept in memory instead (tables.py): the connector's lease tables at
    stream scale, where a shared DynamoDB Local is too slow.
  * ``--log FILE``: each change as one JSON line ``{seq, shard, key, event, new, old, ts}``, flushed, in
    sequence order (see changelog.py: read_change_log, final_state).

What it does not simulate
  No writes to the table by clients (PutItem etc. on it are ValidationException), no LSI/GSI, no range key,
  one stream per table and no stream disable/re-enable, no TTL deletions (userIdentity), no 1 MB page limit
  on GetRecords or Scan, no ProjectionExpression/FilterExpression, no consumed capacity, no ListTables paging
  for its own table, no real authentication (any signature is accepted), no clock skew, no persistence.

Control (plain HTTP on the same port)
  ``POST /_control/pause-writes`` and ``/_control/resume-writes`` (once answered, no further change is emitted
  until resumed); ``POST /_control/set`` with a JSON object of knobs (writes_per_s, throttle_fraction,
  slow_fraction, slow_ms, split_fraction, remove_fraction, throttle, rotate_s); ``GET /_control/stats``: shards listed,
  open, closed, trimmed, rotations, splits, changes, items, throttled calls, expired iterators, calls per op.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

from tests.simulator.changelog import ChangeLog
from tests.simulator.model import Knobs, Simulator
from tests.simulator.server import Api, Forwarder, SimulatorServer
from tests.simulator.tables import TableStore

log = logging.getLogger("tests.simulator")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    d = Knobs()
    p = argparse.ArgumentParser(prog="python -m tests.simulator", description=__doc__.split("\n", 1)[0])
    p.add_argument("--table", default=d.table, help="the simulated table's name (default %(default)s)")
    p.add_argument("--shards", type=int, default=d.shards, help="open shards at the start (default %(default)s)")
    p.add_argument("--max-shards", type=int, default=d.max_shards, help="no split beyond this many open shards "
                   "(default 0: twice --shards)")
    p.add_argument("--rotate-s", type=float, default=d.rotate_s, help="a shard's lifetime (default %(default)s)")
    p.add_argument("--split-fraction", type=float, default=d.split_fraction,
                   help="fraction of closing shards that get two children (default %(default)s)")
    p.add_argument("--retention-s", type=float, default=d.retention_s,
                   help="records and closed shards older than this are trimmed (default %(default)s)")
    p.add_argument("--iterator-ttl-s", type=float, default=d.iterator_ttl_s,
                   help="shard iterator lifetime (default %(default)s)")
    p.add_argument("--writes-per-s", type=float, default=d.writes_per_s, help="changes a second (default %(default)s)")
    p.add_argument("--keys", type=int, default=d.keys, help="size of the keyspace (default %(default)s)")
    p.add_argument("--remove-fraction", type=float, default=d.remove_fraction,
                   help="fraction of changes to present keys that are REMOVE (default %(default)s)")
    p.add_argument("--slow-fraction", type=float, default=d.slow_fraction,
                   help="fraction of calls answered slowly (default %(default)s)")
    p.add_argument("--slow-ms", type=float, default=d.slow_ms, help="delay of a slow call (default %(default)s)")
    p.add_argument("--throttle", action="store_true", help="throttle a shard's third concurrent reader")
    p.add_argument("--throttle-fraction", type=float, default=d.throttle_fraction,
                   help="fraction of GetRecords throttled at random (default %(default)s)")
    p.add_argument("--throttle-window-s", type=float, default=d.throttle_window_s,
                   help="a reader counts as concurrent this long after its last GetRecords (default %(default)s)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: unseeded)")
    p.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--log", default=None, help="change log file (JSON lines), appended to")
    p.add_argument("--forward", default=None, help="endpoint other tables' calls are relayed to")
    p.add_argument("--own-tables", action="store_true",
                   help="keep other tables in memory (tables.py) rather than forwarding their calls")
    p.add_argument("--parent-pid", type=int, default=0, help="exit when this process ends (default: the parent)")
    p.add_argument("--tick-ms", type=float, default=10.0, help="simulation step (default %(default)s)")
    p.add_argument("--history-s", type=float, default=0.0,
                   help="start with this much history already simulated (default %(default)s)")
    return p.parse_args(argv)


def knobs_from(args: argparse.Namespace) -> Knobs:
    names = Knobs.__dataclass_fields__
    return Knobs(**{name: getattr(args, name) for name in names})


class _Clock:
    """The wall clock; while the history is made, a clock stepping from the past up to now."""

    def __init__(self, history_s: float):
        self.at: float | None = time.time() - history_s if history_s > 0 else None

    def __call__(self) -> float:
        return time.time() if self.at is None else self.at

    def make_history(self, sim: Simulator, step_s: float) -> None:
        while self.at is not None and self.at < time.time():
            self.at += step_s
            sim.tick()
        self.at = None


def _tick_forever(sim: Simulator, stop: threading.Event, period_s: float) -> None:
    while not stop.wait(period_s):
        try:
            sim.tick()
        except Exception:  # a bug in a step must show, not silently freeze the stream
            log.exception("simulation step failed")
            stop.set()


def _watch_parent(parent_pid: int, stop: threading.Event) -> None:
    born_to = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != born_to or not _alive(parent_pid):
            log.warning("parent %d is gone: exiting", parent_pid)
            stop.set()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="simulator %(levelname)s %(message)s")
    args = parse_args(argv)
    changelog = ChangeLog(args.log) if args.log else None
    clock = _Clock(args.history_s)
    sim = Simulator(knobs_from(args), changelog, clock)
    clock.make_history(sim, args.tick_ms / 1000)
    api = Api(sim, Forwarder(args.forward) if args.forward else None, TableStore() if args.own_tables else None)
    server = SimulatorServer(args.port, api, args.host)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    workers = [threading.Thread(target=_tick_forever, args=(sim, stop, args.tick_ms / 1000), daemon=True),
               threading.Thread(target=_watch_parent, args=(args.parent_pid or os.getppid(), stop), daemon=True),
               threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)]
    for worker in workers:
        worker.start()
    print(f"LISTENING {server.port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.shutdown()
    server.server_close()
    workers[0].join(timeout=5)  # the last step's changes are in the log before it closes
    if changelog:
        changelog.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
