"""Connector-level decisions: which source partitions exist and how the work splits into tasks."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from python_connector import config as cfg
from python_connector.aws.client import AwsError, dynamodb_client, resolve_region, tagging_client
from python_connector.connector.discovery import TableNotFound, describe, discover, tables_to_capture
from python_connector.records import offsets
from python_connector.snapshot.registry import SnapshotRegistry
from python_connector.snapshot.scan import TableSnapshot, decide_table_snapshots
from python_connector.streams import generations, leases
from python_connector.streams.dynamodb import StreamNotUsable, list_shards, stream_of, streams_client

log = logging.getLogger(__name__)

ASSIGNMENT_KEY = "ddbcdc.task.assignment"
SNAPSHOTS_KEY = "ddbcdc.task.snapshots"
STREAMS_KEY = "ddbcdc.task.streams"
TASK_INDEX_KEY = "ddbcdc.task.index"
# The table set the connector discovered, added by the shim to the configuration it passes back.
TABLES_KEY = "ddbcdc.tables"


def start(raw: Mapping[str, str]) -> cfg.ConnectorConfig:
    """Checks a connector's configuration as it starts, and says once what it resolved."""
    config = cfg.parse(raw)
    for warning in cfg.unknown_property_warnings(raw):
        log.warning("Connector %s: %s", raw.get("name"), warning)
    region, origin = resolve_region(config)
    log.info("Connector %s signs AWS requests for region %s (from %s)", raw.get("name"), region, origin)
    return config


def discover_tables(raw: Mapping[str, str]) -> dict[str, Any]:
    """The tables to capture now, and how often (ms) to look again: 0 when the set is fixed (INCLUDELIST)."""
    config = cfg.parse(raw)
    tag_mode = config["dynamodb.table.discovery.mode"] == "TAG"
    tables = discover(config, dynamodb_client(config), tagging_client(config) if tag_mode else None)
    return {"tables": tables, "intervalMs": config["dynamodb.table.discovery.interval.ms"] if tag_mode else 0}


def tables_of(raw: Mapping[str, str], config: cfg.ConnectorConfig) -> list[str]:
    """The discovered table set the shim passed back, else the configured include list."""
    return orjson.loads(raw[TABLES_KEY]) if TABLES_KEY in raw else tables_to_capture(config)


STREAM = -1  # the segment number of a unit that is a table's stream rather than a scan segment


def units_of(raw: Mapping[str, str], config: cfg.ConnectorConfig) -> list[tuple[str, int]]:
    """The work: (table, segment) scan segments for a snapshot, (table, STREAM) for change data capture."""
    tables = tables_of(raw, config)
    units = []
    if config.sync_mode in ("SNAPSHOT", "SNAPSHOT_CDC"):
        units += [(t, segment) for t in tables for segment in range(config["dynamodb.snapshot.total.segments"])]
    if config.sync_mode in ("CDC", "SNAPSHOT_CDC"):
        units += [(t, STREAM) for t in tables]
    return units


def assignment_of(raw: Mapping[str, str]) -> list[tuple[str, int]] | None:
    """A task configuration's (table, segment) units; None for a connector configuration."""
    if ASSIGNMENT_KEY not in raw:
        return None
    return [(table, int(segment)) for table, segment in orjson.loads(raw[ASSIGNMENT_KEY])]


def snapshots_of(raw: Mapping[str, str]) -> dict[str, TableSnapshot]:
    return {table: TableSnapshot(*value) for table, value in orjson.loads(raw[SNAPSHOTS_KEY]).items()}


def streams_of(raw: Mapping[str, str]) -> dict[str, generations.StreamPlan]:
    return {table: generations.StreamPlan.from_json(v) for table, v in orjson.loads(raw[STREAMS_KEY]).items()}


def offset_partitions(raw: Mapping[str, str]) -> list[dict[str, str]]:
    """The partitions whose stored offsets a connector (its snapshot segments) or a task (its units, and the
    current shards of its streams) needs."""
    config = cfg.parse(raw)
    units = assignment_of(raw)
    if units is None:
        return [p for t, s in units_of(raw, config) for p in
                ([offsets.snapshot_partition(t, s)] if s != STREAM else
                 [offsets.cdc_started_partition(t), offsets.stream_partition(t)])]
    out = [offsets.snapshot_partition(t, s) for t, s in units if s != STREAM]
    stream_tables = [t for t, s in units if s == STREAM]
    out += [p for t in stream_tables for p in (offsets.cdc_started_partition(t), offsets.stream_partition(t))]
    if stream_tables:
        dynamodb, streams = dynamodb_client(config), streams_client(config)
        for table in stream_tables:
            try:
                arn = stream_of(describe(dynamodb, table).description).arn
            except (StreamNotUsable, TableNotFound):
                continue  # the task reports it when it starts that table
            out += [offsets.shard_partition(table, shard.id) for shard in list_shards(streams, arn)]
    return out


def split(units: Sequence[Any], max_tasks: int) -> list[list[Any]]:
    """Round-robin: consecutive segments of a table land on different tasks, so a table scans in parallel."""
    count = max(1, min(max_tasks, len(units)))
    return [list(units[i::count]) for i in range(count)]


def split_by_table(units: Sequence[tuple[str, int]], max_tasks: int) -> list[list[tuple[str, int]]]:
    """Round-robin over whole tables: with SNAPSHOT_CDC a table's segments and its stream share a task, which
    then knows, without asking the others, when all the table's snapshot records are in Kafka."""
    tables = list(dict.fromkeys(t for t, _ in units))
    return [[u for u in units if u[0] in part] for part in split(tables, max_tasks)]


def snapshot_done(table: str, snapshot: TableSnapshot, segments: int,
                  stored: Mapping[tuple[str, int], offsets.SegmentProgress]) -> bool:
    return all((p := stored.get((table, s))) is not None and p.completed and p.count == snapshot.count
               for s in range(segments))


def plan_tasks(config: cfg.ConnectorConfig, tables: Sequence[str], snapshots: Mapping[str, TableSnapshot],
               stored: Mapping[tuple[str, int], offsets.SegmentProgress], max_tasks: int
               ) -> list[list[tuple[str, int]]]:
    """Scan segments go round-robin over the tasks. Every task gets the streams (leases share their shards
    out), except that with SNAPSHOT_CDC a table still in its snapshot keeps segments and stream on one task."""
    segments = config["dynamodb.snapshot.total.segments"]
    if config.sync_mode == "SNAPSHOT":
        return split([(t, s) for t in tables for s in range(segments)], max_tasks)
    if config.sync_mode == "CDC":
        return [[(t, STREAM) for t in tables] for _ in range(max_tasks)]
    streaming = [t for t in tables if snapshot_done(t, snapshots[t], segments, stored)]
    parts = split_by_table([(t, u) for t in tables if t not in streaming for u in [*range(segments), STREAM]],
                           max_tasks)
    count = max_tasks if streaming else len(parts)
    return [(parts[i] if i < len(parts) else []) + [(t, STREAM) for t in streaming] for i in range(count)]


def task_configs(raw: Mapping[str, str], max_tasks: int, stored: Sequence[Mapping[str, Any]],
                 now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
                 registry_of: Callable[[cfg.ConnectorConfig, str], SnapshotRegistry | None] | None = None
                 ) -> list[dict[str, str]]:
    config = cfg.parse(raw)
    tables = tables_of(raw, config)
    if not tables:
        return []  # no table matches yet: no task until one does
    segments = offsets.read_segments(stored)
    now = now_ms()
    registry = (registry_of or snapshot_registry)(config, raw.get("name", ""))
    snapshots = decide_table_snapshots(tables, segments, now,
                                       None if registry is None else lambda t: registry.decide(t, now))
    streams = generations.decide(config, raw.get("name", ""), tables, stored, snapshots, now) \
        if config.sync_mode != "SNAPSHOT" else {}
    shared = {SNAPSHOTS_KEY: orjson.dumps({t: [s.start_ms, s.count] for t, s in snapshots.items()}).decode(),
              STREAMS_KEY: orjson.dumps({t: p.to_json() for t, p in streams.items()}).decode()}
    task_raw = {k: v for k, v in raw.items() if k != TABLES_KEY}
    return [{**task_raw, ASSIGNMENT_KEY: orjson.dumps(part).decode(), **shared, TASK_INDEX_KEY: str(index)}
            for index, part in enumerate(plan_tasks(config, tables, snapshots, segments, max_tasks))]


TYPE_C_FIELDS = frozenset({offsets.TIMESTAMP_FIELD, offsets.TIMESTAMP_FORMAT_FIELD})


def alter_offsets(raw: Mapping[str, str], entries: Sequence[Mapping[str, Any]]) -> str | None:
    """Why an edit of the connector's offsets through Connect's REST API is refused, or None to allow it.

    DELETE (every offset null) is a fresh start: the lease tables of every generation are dropped, and the next
    snapshot of each table counts on (see :mod:`python_connector.snapshot.registry`). PATCH may
    edit only TypeC offsets, ``{"stream": <table>}``, of tables the connector captures, with a timestamp its
    format parses; the next start of that table's change data capture is then a new lease generation from
    that timestamp (see :mod:`python_connector.streams.generations`).
    """
    config = cfg.parse(raw)
    if all(e["offset"] is None for e in entries):
        tables = discover_tables(raw)["tables"]
        if config.sync_mode != "SNAPSHOT":
            drop_lease_tables(config, raw.get("name", ""), tables)
        if config.sync_mode != "CDC" and (registry := snapshot_registry(config, raw.get("name", ""))) is not None:
            registry.close(tables)
        return None
    if config.sync_mode == "SNAPSHOT":
        return "dynamodb.table.sync.mode is SNAPSHOT: there is no change data capture whose start to edit."
    tables: list[str] | None = None
    for entry in entries:
        partition, offset = entry["partition"], entry["offset"]
        if set(partition) != {"stream"}:
            return (f"The offset of partition {orjson.dumps(partition).decode()} is the connector's own (TypeA, "
                    "TypeB or a shard position) and must not be edited. Edit only TypeC offsets: "
                    '{"partition": {"stream": "<table>"}, "offset": {"cdc.start.position.timestamp": "...", '
                    '"cdc.start.position.timestamp.format": "..."}}.')
        table = partition["stream"]
        if tables is None:
            tables = discover_tables(raw)["tables"]
        if table not in tables:
            return f"Unknown table '{table}' in partition {{\"stream\": \"{table}\"}}: this connector captures " \
                   f"{', '.join(sorted(tables)) or 'no table'}."
        if offset is None:
            return f"The TypeC offset of table '{table}' cannot be removed on its own: give it a new " \
                   "cdc.start.position.timestamp, or reset all offsets (DELETE) for a fresh start."
        if not isinstance(offset.get(offsets.TIMESTAMP_FIELD), str) or set(offset) - TYPE_C_FIELDS:
            return f"The TypeC offset of table '{table}' takes cdc.start.position.timestamp (required, a string) " \
                   f"and cdc.start.position.timestamp.format (optional); got {orjson.dumps(offset).decode()}."
        try:
            generations.edited_start_ms(offset)
        except ValueError as e:
            return f"The TypeC offset of table '{table}': {e}"
    return None


def drop_lease_tables(config: cfg.ConnectorConfig, connector: str, tables: Sequence[str]) -> None:
    """Drops every lease generation's table of the connector's tables (ListTables from each one's name prefix)."""
    client = dynamodb_client(config)
    prefix = config["dynamodb.cdc.checkpointing.table.prefix"]
    for table in tables:
        base = leases.table_name(prefix, connector, table, "")
        generation = re.compile(re.escape(base) + r"[st]\d+")
        request: dict[str, Any] = {"ExclusiveStartTableName": base}
        try:
            while True:
                page = client.call("ListTables", request)
                names = page.get("TableNames", [])
                for name in filter(generation.fullmatch, names):
                    leases.LeaseTable(client, name, "PAY_PER_REQUEST", 1, 1).drop()
                    log.info("Connector %s: offsets reset; dropped lease table %s", connector, name)
                if not names or not names[-1].startswith(base) or "LastEvaluatedTableName" not in page:
                    break
                request["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
        except AwsError as e:
            log.warning("Connector %s: offsets reset, but the lease tables %s* could not be listed or dropped (%s); "
                        "they are no longer used: delete them", connector, base, e)


def snapshot_registry(config: cfg.ConnectorConfig, connector: str) -> SnapshotRegistry | None:
    """The connector's snapshot registry, created if missing; None (warned) in CDC mode or without access."""
    if config.sync_mode == "CDC":
        return None
    try:
        registry = SnapshotRegistry.of(dynamodb_client(config), config["dynamodb.cdc.checkpointing.table.prefix"],
                                       connector)
        registry.ensure()
    except AwsError as e:
        log.warning("Connector %s: snapshot decisions are kept in memory only (the snapshot registry table is "
                    "unavailable: %s); after an offsets reset, snapshotCount starts at 1 again", connector, e)
        return None
    return registry
