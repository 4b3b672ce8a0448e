"""Bridge crossing throughput: Java poll() -> Python -> one byte[] batch -> SourceRecords.

Measures, in one run and one JVM hosted by this process:
  (a) bridged: Java calls the engine's poll through the real shim path (EngineAccess) and decodes
      each batch into SourceRecords, as the task does; the engine hands back a ready batch.
  (b) Java-only baseline: the same decoding of the same batch bytes, with no crossing.
  (c) Python encoding of those records (envelope + wire), for reference: the engine's share.
  (d) the two engine transports with a task that encodes each batch as it is polled (the engine's real work,
      holding the GIL): in-process (JPype) and process (a child per task over a Unix socket, as in a stock
      worker), one task and two tasks polled at once from two Java threads.
Batches of 1,000 records of ~360 bytes. Run: `make bench-bridge` (needs `make build`).
"""

from __future__ import annotations

import os
import stat
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jpype

from python_connector.engine import Engine
from python_connector.jvm import bridge
from python_connector.process.server import run
from python_connector.records import wire
from python_connector.records.envelope import SnapshotSource, snapshot_records
from python_connector.records.tables import TableInfo
from tests.integration import jvm

BATCH = 1000
POLLS = 2000
ROUNDS = 5
ENCODING_POLLS = 300
ENCODING_ROUNDS = 3
TABLE = TableInfo("bench_table", (("pk", "S"), ("sk", "N")), 0)
ITEMS = [{"pk": {"S": f"customer-{i:06d}"}, "sk": {"N": str(i)}, "name": {"S": "n" * 120},
          "tags": {"SS": ["a", "b"]}, "price": {"N": "12.50"}, "m": {"M": {"x": {"BOOL": True}}}}
         for i in range(BATCH)]


class ReadyBatches:
    def __init__(self, raw, stored):
        self.blob = build_batch()

    def start(self):
        pass

    def poll(self):
        return self.blob

    def acknowledge(self, batch_id):
        pass

    def stop(self):
        pass


class EncodingBatches(ReadyBatches):
    """Builds its batch on every poll, as the engine does: envelope and wire encoding under the GIL."""

    def poll(self):
        return build_batch()


def build_batch() -> bytes:
    source = SnapshotSource(TABLE, 0, 5, 1, 1)
    now = time.time_ns()
    return wire.batch(1, [(source.header(now), snapshot_records(ITEMS, TABLE.key, now))])


def process_python(directory: str) -> str:
    """An "interpreter" the plugin can start that serves EncodingBatches tasks (it ignores `-m python_connector...`)."""
    script = Path(directory) / "bench-engine"
    script.write_text(f"#!/bin/sh\nexec '{sys.executable}' '{Path(__file__).resolve()}' --serve\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def best(measure) -> float:
    return max(measure() for _ in range(ENCODING_ROUNDS))


def transports(driver) -> dict[str, float]:
    """Records/s of each transport with encoding tasks, one task and two at once."""
    inproc = driver.inProcess()
    h1, h2 = inproc.startTask("{}", "[]"), inproc.startTask("{}", "[]")
    with tempfile.TemporaryDirectory() as directory:
        python = process_python(directory)
        p1, p2 = driver.processEngine(python), driver.processEngine(python)
        try:
            ph1, ph2 = p1.startTask("{}", "[]"), p2.startTask("{}", "[]")
            pair = jpype.JArray(jpype.JClass("io.ddbcdc.connect.engine.EngineTransport"))
            both = jpype.JArray(jpype.JString)
            return {
                "in-process 1 task": best(lambda: driver.rate(inproc, h1, ENCODING_POLLS)),
                "process 1 task": best(lambda: driver.rate(p1, ph1, ENCODING_POLLS)),
                "in-process 2 tasks": best(lambda: driver.parallelRate(pair([inproc, inproc]), both([h1, h2]),
                                                                       ENCODING_POLLS)),
                "process 2 tasks": best(lambda: driver.parallelRate(pair([p1, p2]), both([ph1, ph2]),
                                                                    ENCODING_POLLS)),
            }
        finally:
            p1.close()
            p2.close()


def main() -> None:
    jvm.start()
    engine = Engine(task_factory=ReadyBatches)
    bridge.install(engine)
    handle = engine.start_task({}, [])
    blob = build_batch()
    driver = jpype.JClass("io.ddbcdc.connect.BridgeDriver")
    record_bytes = (len(blob) - 200) / BATCH
    jblob = jpype.JArray(jpype.JByte)(blob)

    bridged, java_only = 0.0, 0.0
    for _ in range(ROUNDS):  # alternate the two so JIT and machine noise hit both alike; keep the best
        bridged = max(bridged, driver.bridgedRate(handle, POLLS))
        java_only = max(java_only, driver.javaOnlyRate(jblob, POLLS))
    crossing_us = driver.pollSeconds(handle, POLLS) / POLLS * 1e6

    start = time.perf_counter()
    for _ in range(200):
        build_batch()
    encode_rate = 200 * BATCH / (time.perf_counter() - start)

    print(f"record size on the wire  : {record_bytes:.0f} bytes")
    print(f"(a) bridged poll+decode  : {bridged:,.0f} records/s ({bridged / BATCH:,.0f} polls/s)")
    print(f"(b) Java-only decode     : {java_only:,.0f} records/s")
    print(f"(c) Python encode        : {encode_rate:,.0f} records/s")
    print(f"poll() crossing alone    : {crossing_us:.1f} us per call")
    print(f"budget: bridged >= 200,000 records/s: {'met' if bridged >= 200_000 else 'NOT met'}")
    print(f"RESULT bridge ratio={bridged / java_only:.3f} bridged records/s over Java-only records/s")

    engine = Engine(task_factory=EncodingBatches)
    bridge.install(engine)
    rates = transports(driver)
    for name, rate in rates.items():
        print(f"(d) {name:<19}: {rate:,.0f} records/s")
    one = rates["process 1 task"] / rates["in-process 1 task"]
    two = rates["process 2 tasks"] / rates["in-process 2 tasks"]
    print(f"targets: process >= 0.6 x in-process with one task: {'met' if one >= 0.6 else 'NOT met'}; "
          f">= 1.3 x with two tasks: {'met' if two >= 1.3 else 'NOT met'}")
    print(f"RESULT bridge-process ratio={two:.3f} process over in-process records/s, two tasks at once "
          f"(one task: {one:.3f}; cores: {os.cpu_count()})")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:  # the engine child process of process_python()
        sys.exit(run(Engine(task_factory=EncodingBatches)))
    main()
