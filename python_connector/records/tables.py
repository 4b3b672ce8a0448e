"""What the engine knows of a source table: its name, key and the figures that pace its snapshot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TableInfo:
    name: str
    key: tuple[tuple[str, str], ...]  # (attribute, S|N|B), hash key first
    item_count: int = 0  # DynamoDB's estimate, refreshed about every six hours
    read_capacity: float = 0.0  # read units per second the table can serve (see pacing)
    units_per_item: float = 0.125  # a 1 KB item (aws.capacity's default estimate)
    description: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)  # DescribeTable's answer
