"""What exactly-once delivery costs: the same snapshot on a worker without and with KIP-618 transactions.

Loads one table of about 1 KB items into the stack's DynamoDB Local (`make up` first), then on two fresh
launched workers (fixed 1 GB heap), one with `exactly.once.source.support=enabled` and the connector with
`exactly.once.support=required`, runs the snapshot twice each (the first warms the JVM up) and reports the
second: items/s from connector creation until the last record is in Kafka. A poll's batch (up to 5,000
records) is one transaction.

Run: `make bench-eos` (or `python bench/eos.py --items 100000`). The table and topics are deleted at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.snapshot import BenchWorker, delete_topics, item, running_stack
from tests.integration.conftest import Stack
from tests.integration.tables import create_table, load


def rate_on(stack: Stack, table: str, items: int, eos: bool) -> float:
    extra = ["exactly.once.source.support=enabled"] if eos else []
    overrides = {"exactly.once.support": "required"} if eos else {}
    mode = "eos" if eos else "plain"
    with tempfile.TemporaryDirectory() as tmp:
        worker = BenchWorker(stack, Path(tmp), extra)
        try:
            worker.snapshot("warm-up", [table], items, f"-{mode}-warm", **overrides)
            return items / worker.snapshot("measured", [table], items, f"-{mode}", **overrides).seconds
        finally:
            worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    stack = running_stack()
    ddb = stack.dynamodb()
    table = f"bench_eos_{uuid.uuid4().hex[:6]}"
    create_table(ddb, table, [("pk", "S"), ("sk", "N")])
    started = time.perf_counter()
    load(ddb, table, args.items, item)
    print(f"loaded {args.items:,} items in {time.perf_counter() - started:.0f}s (not timed below)", flush=True)
    try:
        plain = rate_on(stack, table, args.items, eos=False)
        eos = rate_on(stack, table, args.items, eos=True)
    finally:
        ddb.delete_table(TableName=table)
        delete_topics(stack.bootstrap, [f"{table}-{m}{w}" for m in ("plain", "eos") for w in ("", "-warm")])
    print(f"at-least-once {plain:,.0f} items/s, exactly-once {eos:,.0f} items/s")
    print(f"RESULT eos ratio={eos / plain:.3f} exactly-once items/s over at-least-once items/s")


if __name__ == "__main__":
    main()
