"""The per-table view of the engine's metrics that JMX shows: one set of attributes per connector and table.

Each attribute sums or picks the registry's series of a table over tasks and shards. The launcher's MBeans
(:mod:`python_connector.jvm.jmx`) read it in the worker's own process; an engine in a child process sends
:func:`snapshot` to the plugin, which merges the tasks' snapshots by each attribute's ``merge`` rule.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from python_connector.metrics.registry import Registry

Samples = Sequence[tuple[str, dict[str, str], float]]
Value = float | str | None  # None: no series to read (a merge skips it; an MBean shows 0)


@dataclass(frozen=True)
class Attribute:
    description: str
    read: Callable[[Samples], Value]
    merge: str  # how values of several engine processes combine: sum, max, min or first


def _total(name: str, **match: str) -> Callable[[Samples], Value]:
    return lambda samples: sum(v for n, ls, v in samples if n == name and match.items() <= ls.items())


def _extreme(name: str, pick: Callable[[list[float]], float]) -> Callable[[Samples], Value]:
    def read(samples: Samples) -> Value:
        values = [v for n, _, v in samples if n == name]
        return pick(values) if values else None

    return read


def _phase(samples: Samples) -> Value:
    return next((ls["phase"] for n, ls, v in samples if n == "ddbcdc_table_phase" and v == 1), None)


ATTRIBUTES: dict[str, Attribute] = {
    "phase": Attribute("snapshot or cdc", _phase, "first"),
    "snapshot-items-read": Attribute("Items the snapshot read", _total("ddbcdc_snapshot_items_read_total"), "sum"),
    "snapshot-items-estimated": Attribute("Items by DescribeTable's ItemCount",
                                          _total("ddbcdc_snapshot_items_estimated"), "sum"),
    "snapshot-concurrent": Attribute("1 while a snapshot runs with the changes streaming",
                                     _total("ddbcdc_snapshot_concurrent"), "max"),
    "snapshot-held-pages": Attribute("Pages a concurrent snapshot holds", _total("ddbcdc_snapshot_held_pages"), "sum"),
    "snapshot-records": Attribute("Snapshot records handed to Connect",
                                  _total("ddbcdc_records_total", kind="snapshot"), "sum"),
    "cdc-records": Attribute("Change records handed to Connect", _total("ddbcdc_records_total", kind="cdc"), "sum"),
    "cdc-lag-ms-max": Attribute("Largest CDC lag over the table's shards", _extreme("ddbcdc_cdc_lag_ms", max), "max"),
    "cdc-retention-left-ms-min": Attribute("Least retention left over the table's shards",
                                           _extreme("ddbcdc_cdc_retention_left_ms", min), "min"),
    "leases-owned": Attribute("Shard leases held", _total("ddbcdc_leases_owned"), "sum"),
    "errors": Attribute("Times the table stopped on an error", _total("ddbcdc_table_errors_total"), "sum"),
}


def tables(registry: Registry) -> set[tuple[str, str]]:
    """The (connector, table) pairs the registry has series of."""
    return {(ls["connector"], ls["table"]) for _, ls, _ in registry.samples() if "connector" in ls and "table" in ls}


def values(registry: Registry, connector: str, table: str) -> dict[str, Value]:
    samples = [s for s in registry.samples() if s[1].get("connector") == connector and s[1].get("table") == table]
    return {name: attribute.read(samples) for name, attribute in ATTRIBUTES.items()}


def snapshot(registry: Registry) -> dict[str, Any]:
    """Everything an MBean needs, as plain JSON: the attributes (name, description, type, merge) and each table's
    values."""
    return {
        "attributes": [{"name": name, "description": a.description, "merge": a.merge,
                        "type": "String" if name == "phase" else "Double"} for name, a in ATTRIBUTES.items()],
        "tables": [{"connector": c, "table": t, "values": values(registry, c, t)} for c, t in sorted(tables(registry))],
    }
