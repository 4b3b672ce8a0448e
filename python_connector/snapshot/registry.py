"""The connector's snapshot decisions, kept in DynamoDB so that they outlive a reset of its offsets.

Connect's offsets hold each table's snapshot (TypeB: its count and start) once its first records are
committed, and they win. Before that, and after ``DELETE /connectors/{name}/offsets`` wiped them, the
decision comes from one item per table in ``<dynamodb.cdc.checkpointing.table.prefix>-<connector>-snapshots``
(covered by the same IAM grant as the lease tables)::

    {"tableName": "orders", "snapshotCount": 2, "snapshotStartTime": 1719830776087, "open": true}

``open`` means the decision stands: a connector asked for its tasks again before any record was committed
takes the same snapshot (same count and start), not a new one; one never begun within STALE_AFTER_MS starts
again with the same count. A reset closes it (``open`` false), so the
next snapshot of that table counts on: ``snapshotCount`` + 1. Without access to that table (no CreateTable
permission, say), decisions are made in memory as before and counting restarts at 1 after a reset.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from python_connector.aws.client import AwsError, JsonClient, dynamodb_client
from python_connector.aws.tables import ensure_table, safe_table_name
from python_connector.config import ConnectorConfig
from python_connector.records.offsets import TableSnapshot

log = logging.getLogger(__name__)

# An open decision this old whose table has no stored offsets never began: it starts again, now.
STALE_AFTER_MS = 10 * 60 * 1000


class SnapshotRegistry:
    def __init__(self, client: JsonClient, name: str):
        self._client = client
        self.name = name

    @classmethod
    def of(cls, client: JsonClient, leases_prefix: str, connector: str) -> SnapshotRegistry:
        return cls(client, safe_table_name(f"{leases_prefix}-{connector}-snapshots"))

    def decide(self, table: str, now_ms: int) -> TableSnapshot:
        """The snapshot a table without stored TypeB offsets takes: the open decision, else the next one."""
        item = self._client.call("GetItem", {"TableName": self.name, "Key": {"tableName": {"S": table}},
                                             "ConsistentRead": True}).get("Item")
        if item is None:
            decided = TableSnapshot(now_ms, 1)
        else:
            count, start_ms = int(item["snapshotCount"]["N"]), int(item["snapshotStartTime"]["N"])
            if not item["open"]["BOOL"]:
                decided = TableSnapshot(now_ms, count + 1)
            elif now_ms - start_ms < STALE_AFTER_MS:
                return TableSnapshot(start_ms, count)
            else:  # decided long ago and never begun (its tasks failed, say): the same snapshot, starting now
                decided = TableSnapshot(now_ms, count)
        self._client.call("PutItem", {"TableName": self.name, "Item": {
            "tableName": {"S": table}, "snapshotCount": {"N": str(decided.count)},
            "snapshotStartTime": {"N": str(decided.start_ms)}, "open": {"BOOL": True}}})
        return decided

    def close(self, tables: Sequence[str]) -> None:
        """An offsets reset: the next snapshot of each table counts on."""
        for table in tables:
            try:
                self._client.call("UpdateItem", {
                    "TableName": self.name, "Key": {"tableName": {"S": table}}, "UpdateExpression": "SET #o = :f",
                    "ConditionExpression": "attribute_exists(tableName)", "ExpressionAttributeNames": {"#o": "open"},
                    "ExpressionAttributeValues": {":f": {"BOOL": False}}})
            except AwsError as e:
                if e.code not in ("ConditionalCheckFailedException", "ResourceNotFoundException"):
                    raise

    def ensure(self) -> None:
        """On demand: a table touched once per snapshot decision."""
        ensure_table(self._client, self.name, "tableName", "PAY_PER_REQUEST", {})


def for_connector(config: ConnectorConfig, connector: str) -> SnapshotRegistry | None:
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
