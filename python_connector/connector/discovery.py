"""Which tables the connector captures, and what it needs to know about each."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from python_connector.aws.client import AwsError, JsonClient
from python_connector.config import ConnectorConfig, parse_tag_filters
from python_connector.snapshot import pacing

log = logging.getLogger(__name__)


class TableNotFound(Exception):
    """A configured table does not exist at the endpoint."""

    def __init__(self, table: str, endpoint: str):
        self.table = table
        super().__init__(f"DynamoDB table '{table}' does not exist at {endpoint}. Create it, or remove it from "
                         "dynamodb.table.includelist.")


@dataclass(frozen=True)
class TableInfo:
    name: str
    key: tuple[tuple[str, str], ...]  # (attribute, S|N|B), hash key first
    item_count: int = 0  # DynamoDB's estimate, refreshed about every six hours
    read_capacity: float = 0.0  # read units per second the table can serve (see pacing)
    units_per_item: float = pacing.DEFAULT_ITEM_BYTES * pacing.UNITS_PER_BYTE
    description: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # DescribeTable's answer


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


def describe(client: JsonClient, table: str) -> TableInfo:
    try:
        answer = client.call("DescribeTable", {"TableName": table})["Table"]
    except AwsError as e:
        if e.code == "ResourceNotFoundException":
            raise TableNotFound(table, client.endpoint) from None
        raise
    types = {a["AttributeName"]: a["AttributeType"] for a in answer["AttributeDefinitions"]}
    ordered = sorted(answer["KeySchema"], key=lambda k: k["KeyType"] != "HASH")
    key = tuple((k["AttributeName"], types[k["AttributeName"]]) for k in ordered)
    return TableInfo(name=table, key=key, item_count=int(answer.get("ItemCount", 0)),
                     read_capacity=pacing.table_capacity(answer, lambda: table_max_read_units(client)),
                     units_per_item=pacing.units_per_item_estimate(answer), description=answer)


def table_max_read_units(client: JsonClient) -> float:
    """The account's per-table read ceiling, which bounds an on-demand table without its own."""
    return float(client.call("DescribeLimits", {})["TableMaxReadCapacityUnits"])
