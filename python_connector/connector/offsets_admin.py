"""The connector's offsets as Connect's REST API shows and edits them: which partitions exist, which edits are
allowed, and what a reset drops."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from python_connector import config as cfg
from python_connector.aws.client import AwsError, dynamodb_client
from python_connector.aws.tables import TableNotFound, describe
from python_connector.connector.discovery import discover_tables
from python_connector.connector.planning import units_of
from python_connector.records import offsets
from python_connector.snapshot.registry import for_connector as registry_for
from python_connector.streams import generations, leases
from python_connector.streams.dynamodb import StreamNotUsable, list_shards, stream_of, streams_client
from python_connector.task.task_config import Unit, assignment_of

log = logging.getLogger(__name__)


def unit_partitions(unit: Unit) -> list[dict[str, str]]:
    if unit.segment is not None:
        return [offsets.snapshot_partition(unit.table, unit.segment)]
    return [offsets.cdc_started_partition(unit.table), offsets.stream_partition(unit.table)]


def offset_partitions(raw: Mapping[str, str]) -> list[dict[str, str]]:
    """The partitions whose stored offsets a connector (its snapshot segments, its signal decisions) or a task (its
    units, the current shards of its streams, their tables' signal decisions) needs."""
    config = cfg.parse(raw)
    units = assignment_of(raw)
    signal_topic = config["signal.kafka.topic"]
    if units is None:
        units = units_of(raw, config)
        out = [p for u in units for p in unit_partitions(u)]
        return out + [offsets.signal_partition(signal_topic, t) for t in dict.fromkeys(u.table for u in units)
                      if signal_topic]
    out = [offsets.snapshot_partition(u.table, u.segment) for u in units if u.segment is not None]
    stream_tables = [u.table for u in units if u.is_stream]
    out += [p for t in stream_tables for p in (offsets.cdc_started_partition(t), offsets.stream_partition(t))]
    out += [offsets.signal_partition(signal_topic, t) for t in stream_tables if signal_topic]
    if stream_tables:
        dynamodb, streams = dynamodb_client(config), streams_client(config)
        for table in stream_tables:
            try:
                arn = stream_of(describe(dynamodb, table).description).arn
            except (StreamNotUsable, TableNotFound):
                continue  # the task reports it when it starts that table
            out += [offsets.shard_partition(table, shard.id) for shard in list_shards(streams, arn)]
    return out


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
        captured = discover_tables(raw)["tables"]
        if config.sync_mode != "SNAPSHOT":
            drop_lease_tables(config, raw.get("name", ""), captured)
        if config.sync_mode != "CDC" and (registry := registry_for(config, raw.get("name", ""))) is not None:
            registry.close(captured)
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
