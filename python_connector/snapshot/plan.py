"""Snapshot planning: which snapshot each table is in, and which segments to scan from where (the stored offsets).

Plan, then execute: the plan decides from the previous offsets; :mod:`.scan` only runs it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from python_connector.records import offsets
from python_connector.records.document_builder import DocumentBuilder
from python_connector.records.envelope import SnapshotSource
from python_connector.records.offsets import TableSnapshot
from python_connector.records.tables import TableInfo


@dataclass(frozen=True)
class SegmentPlan:
    source: SnapshotSource
    exclusive_start_key: dict[str, Any] | None
    skip: bool
    documents: DocumentBuilder | None = None  # typed documents (document.content.format=schema), else None


def decide_table_snapshots(tables: Sequence[str], stored: Mapping[tuple[str, int], offsets.SegmentProgress],
                           now_ms: int, new: Callable[[str], TableSnapshot] | None = None,
                           signals: Mapping[str, offsets.SignalDecision] | None = None) -> dict[str, TableSnapshot]:
    """Per table: the latest of the stored snapshot (its highest count, from the earliest start of its segments)
    and the one a signal decided, or ``new(table)`` (default: the first snapshot, starting now)."""
    out = {}
    for table in tables:
        seen = [p for (t, _), p in stored.items() if t == table]
        decided = (signals or {}).get(table)
        if seen:
            count = max(p.count for p in seen)
            out[table] = TableSnapshot(min(p.start_ms for p in seen if p.count == count), count)
        if decided is not None and (table not in out or decided.snapshot.count > out[table].count):
            out[table] = decided.snapshot
        if table not in out:
            out[table] = new(table) if new is not None else TableSnapshot(now_ms, 1)
    return out


def latest_snapshots(planned: Mapping[str, TableSnapshot], stored: Mapping[tuple[str, int], offsets.SegmentProgress],
                     signals: Mapping[str, offsets.SignalDecision]) -> dict[str, TableSnapshot]:
    """Per table: the task configuration's snapshot, or a later one its stored offsets show. A signal's snapshot
    starts without a new task configuration, and Connect restarts a task with the one it last stored."""
    seen = decide_table_snapshots(list(planned), stored, 0, planned.__getitem__, signals)
    return {t: seen[t] if seen[t].count > planned[t].count else planned[t] for t in planned}


def stopped_by_signal(table: str, snapshot: TableSnapshot, signals: Mapping[str, offsets.SignalDecision]) -> bool:
    decided = signals.get(table)
    return decided is not None and decided.snapshot.count == snapshot.count and \
        decided.action == offsets.STOP_SNAPSHOT


def plan(tables: Mapping[str, TableInfo], assignment: Sequence[tuple[str, int | None]], total_segments: int,
         snapshots: Mapping[str, TableSnapshot], stored: Mapping[tuple[str, int], offsets.SegmentProgress]
         ) -> list[SegmentPlan]:
    """What to scan: every assigned segment, from its stored resume key, skipping completed ones."""
    plans = []
    for table, segment in assignment:
        if segment is None:
            continue  # a stream, not a scan segment
        snap = snapshots[table]
        progress = stored.get((table, segment))
        if progress is not None and progress.count != snap.count:
            progress = None  # an earlier snapshot's: this one starts the segment afresh
        start_key = orjson.loads(progress.exclusive_start_key) if progress and progress.exclusive_start_key else None
        source = SnapshotSource(tables[table], segment, total_segments, snap.count, snap.start_ms)
        plans.append(SegmentPlan(source, start_key, skip=bool(progress and progress.completed)))
    return plans
