"""What DynamoDB's read capacity is for a table: the units per second it serves and what an item costs.

Read request units and capacity units count alike here (4 KB strongly consistent, 8 KB eventually).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

UNITS_PER_BYTE = 0.5 / 4096  # eventually consistent Scan: 0.5 unit per 4 KB
DEFAULT_ITEM_BYTES = 1024


def table_capacity(table: Mapping[str, Any], table_max_read_units: Callable[[], float]) -> float:
    """Read units per second the table can serve, from its DescribeTable answer (limits asked only if needed)."""
    provisioned = (table.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits") or 0
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode")
    if billing != "PAY_PER_REQUEST" and provisioned > 0:
        return float(provisioned)
    ceiling = (table.get("OnDemandThroughput") or {}).get("MaxReadRequestUnits") or -1
    return float(ceiling) if ceiling > 0 else table_max_read_units()


def units_per_item_estimate(table: Mapping[str, Any]) -> float:
    """Read units one item costs in an eventually consistent Scan, from the table's size and count."""
    count = int(table.get("ItemCount") or 0)
    size = int(table.get("TableSizeBytes") or 0)
    return (size / count if count and size else DEFAULT_ITEM_BYTES) * UNITS_PER_BYTE
