"""Connect's floor for the benches: the reference source (the plugin's test jar) and the batches it replays.

The reference source emits, from memory, exactly the records our connector emits for the bench's items: the batch
it replays is built here by the engine's own record code (python_connector.records), so schemas, keys, values,
headers, partitions and offsets are ours. It runs in the same worker as our connector, through the same converters
and producer settings; its CPU per record is what any Connect source pays for this work.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from python_connector.records import wire
from python_connector.records.envelope import SnapshotSource, StreamSource, change_records, snapshot_records
from python_connector.records.tables import TableInfo
from stack.stack import PLUGINS, ROOT

TESTS_JAR = ROOT / "java_shim" / "plugin" / "target" / "ddb-cdc-source-tests.jar"
CONNECTOR = "io.ddbcdc.connect.ReferenceSourceConnector"
PAGE = 1000  # one Scan page or GetRecords answer of the benches


def plugin_path(tmp: Path) -> Path:
    """A plugin.path with our plugin and, in the same directory (the reference uses its decoder), the test jar."""
    if not TESTS_JAR.exists():
        raise SystemExit(f"{TESTS_JAR} is missing: run `make build`")
    target = tmp / "plugins" / "ddb-cdc-source"
    shutil.copytree(PLUGINS / "ddb-cdc-source", target)
    shutil.copy(TESTS_JAR, target)
    return target.parent


def _group_for(header: dict[str, Any], topic: str, records: list[bytes]) -> tuple[dict[str, Any], list[bytes]]:
    return {**header, "topic": topic}, records


def snapshot_batch(path: Path, table: TableInfo, item: Callable[[int], dict[str, Any]], topic: str) -> Path:
    """One Scan page of the bench's items, as our task hands it to Connect."""
    now = time.time_ns()
    source = SnapshotSource(table, 0, 5, 1, now // 1_000_000)
    records = snapshot_records([item(i) for i in range(PAGE)], table.key, now)
    path.write_bytes(wire.batch(1, [_group_for(source.header(now), topic, records)]))
    return path


def cdc_batch(path: Path, table: TableInfo, item: Callable[[int], dict[str, Any]], topic: str) -> Path:
    """One GetRecords page of the bench's changes (inserts, NEW_AND_OLD_IMAGES), as our task hands it to Connect."""
    now = time.time_ns()
    changes = [{"eventName": "INSERT", "dynamodb": {
        "ApproximateCreationDateTime": now // 10**9, "Keys": {name: item(i)[name] for name, _ in table.key},
        "NewImage": item(i), "SequenceNumber": f"{10**20 + i}", "StreamViewType": "NEW_AND_OLD_IMAGES"}}
        for i in range(PAGE)]
    source = StreamSource(table, "arn:aws:dynamodb:us-east-1:0:table/bench/stream/1", "shardId-bench", "bench-leases")
    path.write_bytes(wire.batch(1, [_group_for(source.header(now), topic, change_records(changes, table.key))]))
    return path


def connector_config(batch: Path, records: int, tasks: int, converters: dict[str, str]) -> dict[str, str]:
    """Each task emits ``records // tasks``, 5,000 a poll (the benches' max.batch.size)."""
    return {"connector.class": CONNECTOR, "tasks.max": str(tasks), "reference.batch.file": str(batch),
            "reference.records": str(records // tasks), "reference.batch.records": "5000", **converters}
