"""A task's configuration: the connector's properties plus the work the connector planned for it.

The connector (:mod:`python_connector.connector.planning`) writes these keys; the task reads them. Connect stores
task configurations as string maps, so each value is JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import NamedTuple

import orjson

from python_connector.records.offsets import TableSnapshot
from python_connector.streams.generations import StreamPlan

ASSIGNMENT_KEY = "ddbcdc.task.assignment"
SNAPSHOTS_KEY = "ddbcdc.task.snapshots"
STREAMS_KEY = "ddbcdc.task.streams"
TASK_INDEX_KEY = "ddbcdc.task.index"
# The table set the connector discovered, added by the shim to the configuration it passes back.
TABLES_KEY = "ddbcdc.tables"


class Unit(NamedTuple):
    """A unit of work: one scan segment of a table, or (segment None) the table's stream."""

    table: str
    segment: int | None

    @classmethod
    def stream(cls, table: str) -> Unit:
        return cls(table, None)

    @property
    def is_stream(self) -> bool:
        return self.segment is None


def assignment_of(raw: Mapping[str, str]) -> list[Unit] | None:
    """A task configuration's units; None for a connector configuration."""
    if ASSIGNMENT_KEY not in raw:
        return None
    return [Unit(table, segment) for table, segment in orjson.loads(raw[ASSIGNMENT_KEY])]


def snapshots_of(raw: Mapping[str, str]) -> dict[str, TableSnapshot]:
    return {table: TableSnapshot(*value) for table, value in orjson.loads(raw[SNAPSHOTS_KEY]).items()}


def streams_of(raw: Mapping[str, str]) -> dict[str, StreamPlan]:
    return {table: StreamPlan.from_json(v) for table, v in orjson.loads(raw[STREAMS_KEY]).items()}


def task_config(raw: Mapping[str, str], units: Sequence[Unit], snapshots: Mapping[str, TableSnapshot],
                streams: Mapping[str, StreamPlan], index: int) -> dict[str, str]:
    """Task ``index``'s configuration: the connector's (less the discovered table set) and its planned work."""
    return {**{k: v for k, v in raw.items() if k != TABLES_KEY},
            ASSIGNMENT_KEY: orjson.dumps([list(u) for u in units]).decode(),
            SNAPSHOTS_KEY: orjson.dumps({t: [s.start_ms, s.count] for t, s in snapshots.items()}).decode(),
            STREAMS_KEY: orjson.dumps({t: p.to_json() for t, p in streams.items()}).decode(),
            TASK_INDEX_KEY: str(index)}
