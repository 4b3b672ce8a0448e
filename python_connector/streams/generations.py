"""Lease generations: which lease table a table's change data capture uses, and where a new one starts.

A generation starts when a table's CDC first starts (also after its offsets were reset with
DELETE /connectors/{name}/offsets), and again each time its TypeC offset is edited with
PATCH /connectors/{name}/offsets. Each generation has its own lease table,
``<prefix>-<connector>-<table>-<id>``: ``s<ms>`` for a start at <ms>, ``t<ms>`` for an edit to timestamp
<ms>. The connector decides once, from the stored offsets, and hands the decision to every task, so all
tasks reading a table's stream agree on it. The table's TypeA and TypeC offsets name the generation's lease
table (``leaseTable``): a TypeC without it is one a user edited, which starts the next generation, and the
previous generation's lease table is dropped. Shard positions carry it too, so positions of an earlier
generation are never resumed from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from python_connector.config import ConnectorConfig, javatime
from python_connector.records import offsets
from python_connector.records.offsets import TableSnapshot
from python_connector.streams.leases.table import table_name
from python_connector.streams.positions import InitialPosition

# SNAPSHOT_CDC streams from this long before the snapshot began (DynamoDB Local rounds to the minute).
HANDOVER_MARGIN_MS = 60_000


@dataclass(frozen=True)
class StreamPlan:
    lease_table: str
    initial: InitialPosition  # for the shards of a generation's first listing
    new: bool  # the generation starts now: its TypeA and TypeC are stored as it does
    previous: str | None = None  # the lease table of the generation it replaces, to drop

    def to_json(self) -> list[Any]:
        return [self.lease_table, self.initial.kind, self.initial.at_ms, self.new, self.previous]

    @classmethod
    def from_json(cls, value: Sequence[Any]) -> StreamPlan:
        return cls(value[0], InitialPosition(value[1], value[2]), value[3], value[4])


def _stored(stored: Iterable[Mapping[str, Any]], partition: Mapping[str, str]) -> Mapping[str, Any] | None:
    return next((e["offset"] for e in stored if e["partition"] == partition and e["offset"] is not None), None)


def edited_start_ms(offset: Mapping[str, Any]) -> int:
    """The timestamp of a TypeC offset, in its own format (the documented default when it names none)."""
    return javatime.parse_epoch_ms(offset[offsets.TIMESTAMP_FIELD],
                                   offset.get(offsets.TIMESTAMP_FORMAT_FIELD) or offsets.DEFAULT_TIMESTAMP_FORMAT)


def decide(config: ConnectorConfig, connector: str, tables: Sequence[str], stored: Sequence[Mapping[str, Any]],
           snapshots: Mapping[str, TableSnapshot], now_ms: int) -> dict[str, StreamPlan]:
    prefix = config["dynamodb.cdc.checkpointing.table.prefix"]
    plans = {}
    for table in tables:
        started = _stored(stored, offsets.cdc_started_partition(table))
        current = started.get(offsets.LEASE_TABLE_FIELD) if started else None
        edit = _stored(stored, offsets.stream_partition(table))
        if edit is not None and offsets.LEASE_TABLE_FIELD not in edit:
            at_ms = edited_start_ms(edit)
            plans[table] = StreamPlan(table_name(prefix, connector, table, f"t{at_ms}"),
                                      at_timestamp(at_ms, now_ms), True, current)
        elif current is not None:
            plans[table] = StreamPlan(current, configured_start(config, snapshots.get(table), now_ms), False)
        else:
            start_ms = snapshots[table].start_ms if config.sync_mode == "SNAPSHOT_CDC" else now_ms
            plans[table] = StreamPlan(table_name(prefix, connector, table, f"s{start_ms}"),
                                      configured_start(config, snapshots.get(table), now_ms), True)
    return plans


def at_timestamp(at_ms: int, now_ms: int) -> InitialPosition:
    """From a timestamp; one still to come is LATEST (the spec's reading): changes made from now on are read,
    not only those after that timestamp."""
    return InitialPosition("AT_TIMESTAMP", at_ms) if at_ms <= now_ms else InitialPosition("LATEST")


def configured_start(config: ConnectorConfig, snapshot: TableSnapshot | None, now_ms: int) -> InitialPosition:
    """Where a generation's first shards begin: for SNAPSHOT_CDC at the snapshot's start less
    HANDOVER_MARGIN_MS (ApproximateCreationDateTime is rounded down, and scans are eventually consistent), so
    no change made after the snapshot began is missed and a few are replayed; else as configured."""
    if config.sync_mode == "SNAPSHOT_CDC" and snapshot is not None:
        return InitialPosition("AT_TIMESTAMP", snapshot.start_ms - HANDOVER_MARGIN_MS)
    kind = config["dynamodb.cdc.initial.stream.position"]
    if kind != "AT_TIMESTAMP":
        return InitialPosition(kind)
    return at_timestamp(javatime.parse_epoch_ms(config["cdc.start.position.timestamp"],
                                                config["cdc.start.position.timestamp.format"]), now_ms)
