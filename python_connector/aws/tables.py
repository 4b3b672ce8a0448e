"""Table-level DynamoDB calls the engine shares: describing a source table, creating its own tables."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any

from python_connector.aws import capacity
from python_connector.aws.client import AwsError, JsonClient
from python_connector.records.tables import TableInfo

log = logging.getLogger(__name__)


class TableNotFound(Exception):
    """A configured table does not exist at the endpoint."""

    def __init__(self, table: str, endpoint: str):
        self.table = table
        super().__init__(f"DynamoDB table '{table}' does not exist at {endpoint}. Create it, or remove it from "
                         "dynamodb.table.includelist.")


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
                     read_capacity=capacity.table_capacity(answer, lambda: table_max_read_units(client)),
                     units_per_item=capacity.units_per_item_estimate(answer), description=answer)


def table_max_read_units(client: JsonClient) -> float:
    """The account's per-table read ceiling, which bounds an on-demand table without its own."""
    return float(client.call("DescribeLimits", {})["TableMaxReadCapacityUnits"])


def safe_table_name(name: str) -> str:
    """Characters a DynamoDB table name cannot hold become '_'."""
    return re.sub(r"[^a-zA-Z0-9_.-]", "_", name)[:255]


def ensure_table(client: JsonClient, name: str, key: str, billing_mode: str, throughput: Mapping[str, int],
                 timeout_s: float = 120.0) -> None:
    """Creates a table keyed by a string ``key`` if missing (any task may; the others find it), and waits until
    it is ACTIVE."""
    request: dict[str, Any] = {
        "TableName": name, "BillingMode": billing_mode,
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}]}
    if billing_mode == "PROVISIONED":
        request["ProvisionedThroughput"] = dict(throughput)
    try:
        client.call("CreateTable", request)
        log.info("Created table %s (%s)", name, billing_mode)
    except AwsError as e:
        if e.code != "ResourceInUseException":
            raise
    deadline = time.monotonic() + timeout_s
    while client.call("DescribeTable", {"TableName": name})["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {name} did not become ACTIVE in {timeout_s:.0f}s")
        time.sleep(1.0)
