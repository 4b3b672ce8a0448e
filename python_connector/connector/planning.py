"""How the connector's work splits into tasks: the units (scan segments, streams) and each task's share."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from python_connector import config as cfg
from python_connector.connector.discovery import tables_of
from python_connector.records import offsets
from python_connector.records.offsets import TableSnapshot
from python_connector.snapshot.plan import decide_table_snapshots, stopped_by_signal
from python_connector.snapshot.registry import SnapshotRegistry
from python_connector.snapshot.registry import for_connector as registry_for
from python_connector.streams import generations
from python_connector.task.task_config import Unit, task_config


def units_of(raw: Mapping[str, str], config: cfg.ConnectorConfig) -> list[Unit]:
    """The work: the scan segments of a snapshot, the tables' streams for change data capture."""
    tables = tables_of(raw, config)
    units = []
    if config.sync_mode in ("SNAPSHOT", "SNAPSHOT_CDC"):
        units += [Unit(t, segment) for t in tables for segment in range(config["dynamodb.snapshot.total.segments"])]
    if config.sync_mode in ("CDC", "SNAPSHOT_CDC"):
        units += [Unit.stream(t) for t in tables]
    return units


def split(units: Sequence[Any], max_tasks: int) -> list[list[Any]]:
    """Round-robin: consecutive segments of a table land on different tasks, so a table scans in parallel."""
    count = max(1, min(max_tasks, len(units)))
    return [list(units[i::count]) for i in range(count)]


def split_by_table(units: Sequence[Unit], max_tasks: int) -> list[list[Unit]]:
    """Round-robin over whole tables: with SNAPSHOT_CDC a table's segments and its stream share a task, which
    then knows, without asking the others, when all the table's snapshot records are in Kafka."""
    tables = list(dict.fromkeys(t for t, _ in units))
    return [[u for u in units if u[0] in part] for part in split(tables, max_tasks)]


def snapshot_done(table: str, snapshot: TableSnapshot, segments: int,
                  stored: Mapping[tuple[str, int], offsets.SegmentProgress]) -> bool:
    return all((p := stored.get((table, s))) is not None and p.completed and p.count == snapshot.count
               for s in range(segments))


def in_snapshot(config: cfg.ConnectorConfig, table: str, snapshot: TableSnapshot,
                stored: Mapping[tuple[str, int], offsets.SegmentProgress],
                signals: Mapping[str, offsets.SignalDecision]) -> bool:
    """Whether the table's snapshot is still to scan: SNAPSHOT_CDC's until done, or one a signal started (any
    mode with a stream), unless a signal stopped it."""
    if stopped_by_signal(table, snapshot, signals):
        return False
    decided = signals.get(table)
    if (decided is None or decided.snapshot.count != snapshot.count) and config.sync_mode != "SNAPSHOT_CDC":
        return False
    return not snapshot_done(table, snapshot, config["dynamodb.snapshot.total.segments"], stored)


def plan_tasks(config: cfg.ConnectorConfig, tables: Sequence[str], snapshots: Mapping[str, TableSnapshot],
               stored: Mapping[tuple[str, int], offsets.SegmentProgress], max_tasks: int,
               signals: Mapping[str, offsets.SignalDecision] | None = None) -> list[list[Unit]]:
    """Scan segments go round-robin over the tasks. Every task gets the streams (leases share their shards
    out), except that a table in a snapshot keeps segments and stream on one task. With signals
    (``signal.kafka.topic``) every table's stream is on one task, so the task that receives a signal for an
    ad-hoc snapshot of it sees all its changes."""
    segments = config["dynamodb.snapshot.total.segments"]
    if config.sync_mode == "SNAPSHOT":
        return split([Unit(t, s) for t in tables for s in range(segments)], max_tasks)
    scanning = [t for t in tables if in_snapshot(config, t, snapshots[t], stored, signals or {})]
    if config["signal.kafka.topic"]:
        return split_by_table([u for t in tables for u in [*(Unit(t, s) for s in range(segments) if t in scanning),
                                                            Unit.stream(t)]], max_tasks)
    streaming = [t for t in tables if t not in scanning]
    parts = split_by_table([u for t in scanning
                            for u in [*(Unit(t, s) for s in range(segments)), Unit.stream(t)]], max_tasks)
    count = max_tasks if streaming else len(parts)
    return [(parts[i] if i < len(parts) else []) + [Unit.stream(t) for t in streaming] for i in range(count)]


def task_configs(raw: Mapping[str, str], max_tasks: int, stored: Sequence[Mapping[str, Any]],
                 now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
                 registry_of: Callable[[cfg.ConnectorConfig, str], SnapshotRegistry | None] | None = None
                 ) -> list[dict[str, str]]:
    config = cfg.parse(raw)
    tables = tables_of(raw, config)
    if not tables:
        return []  # no table matches yet: no task until one does
    segments = offsets.read_segments(stored)
    signals = offsets.read_signals(stored, config["signal.kafka.topic"]) if config["signal.kafka.topic"] else {}
    now = now_ms()
    registry = (registry_of or registry_for)(config, raw.get("name", ""))
    snapshots = decide_table_snapshots(tables, segments, now,
                                       None if registry is None else lambda t: registry.decide(t, now), signals)
    streams = generations.decide(config, raw.get("name", ""), tables, stored, snapshots, now) \
        if config.sync_mode != "SNAPSHOT" else {}
    return [task_config(raw, part, snapshots, streams, index)
            for index, part in enumerate(plan_tasks(config, tables, snapshots, segments, max_tasks, signals))]


