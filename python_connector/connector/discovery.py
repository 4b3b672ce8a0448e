"""Which tables the connector captures, and what it needs to know about each."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import orjson

from python_connector import config as cfg
from python_connector.aws.client import JsonClient, dynamodb_client, resolve_region, tagging_client
from python_connector.config import ConnectorConfig, parse_tag_filters
from python_connector.task.task_config import TABLES_KEY

log = logging.getLogger(__name__)


def tables_to_capture(config: ConnectorConfig) -> list[str]:
    """The configured tables, in order, without repeats."""
    return list(dict.fromkeys(config.tables))


def tagged_tables(tagging: JsonClient, filters: dict[str, list[str]]) -> list[str]:
    """Names of the tables whose tags match: for every key, one of its values (tag:GetResources, paged).

    Matched by name, not ARN: the tagging service's account and region need not be the DynamoDB
    endpoint's (DynamoDB Local, for one, has no tagging API).
    """
    request = {"ResourceTypeFilters": ["dynamodb:table"],
               "TagFilters": [{"Key": key, "Values": values} for key, values in filters.items()]}
    names = []
    while True:
        page = tagging.call("GetResources", request)
        names += [m["ResourceARN"].split(":table/", 1)[1] for m in page.get("ResourceTagMappingList", [])]
        token = page.get("PaginationToken")
        if not token:
            return sorted(set(names))
        request["PaginationToken"] = token


def existing_tables(dynamodb: JsonClient) -> set[str]:
    """Every table at the DynamoDB endpoint (ListTables, paged)."""
    names: set[str] = set()
    request: dict[str, str] = {}
    while True:
        page = dynamodb.call("ListTables", request)
        names.update(page.get("TableNames", []))
        if not page.get("LastEvaluatedTableName"):
            return names
        request["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]


def discover(config: ConnectorConfig, dynamodb: JsonClient, tagging: JsonClient | None) -> list[str]:
    """The tables to capture now: the include list, or the tagged tables that exist at the endpoint."""
    if config["dynamodb.table.discovery.mode"] != "TAG":
        return tables_to_capture(config)
    assert tagging is not None
    tagged = tagged_tables(tagging, parse_tag_filters(config["dynamodb.table.tag.filters"]))
    present = existing_tables(dynamodb)
    missing = [t for t in tagged if t not in present]
    if missing:
        log.warning("Tables %s match dynamodb.table.tag.filters but do not exist at %s; they are skipped",
                    ", ".join(missing), dynamodb.endpoint)
    return [t for t in tagged if t in present]


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
