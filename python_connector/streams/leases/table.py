"""Shard leases and checkpoints, KCL-style: one DynamoDB table per connector, source table and lease generation.

The lease table is named ``<dynamodb.cdc.checkpointing.table.prefix>-<connector>-<table>-<generation>``
(the IAM policy grants ``<prefix>-*``; generations: :mod:`python_connector.streams.generations`), and holds one item
per stream shard::

    {"leaseKey": shardId, "leaseOwner": owner (absent when free), "leaseCounter": N,
     "checkpoint": "TRIM_HORIZON" | "LATEST" | "AT_TIMESTAMP:<epoch ms>" | <sequence number> | "SHARD_END",
     "parentShardId": parent (absent for a root shard), "streamArn": arn}

Every write is conditional on the counter its writer last saw and bumps it, so an owner that lost its
lease (stolen, or expired while it stalled) finds out on its next write and stops reading that shard. A
lease is expired when its counter has not moved for LEASE_DURATION_S on this task's own clock (as KCL
does: no clocks are compared across hosts). Each task keeps its share, ceil(unfinished leases / live
owners), taking free or expired leases first and stealing one at a time from the busiest owner.

A checkpoint is written only for positions whose records Connect has committed. The same positions are
in Connect's offsets (a partition per shard, written with the records). On restart a reader resumes after
the further of the two: both only ever hold committed positions, the lease is usually ahead (written every
RENEW_S, Connect's at its offset flush), and Connect's survive a lost lease table and are what exactly-once
delivery writes in its transactions. A reset of the connector's offsets starts a new generation, a new
lease table, so a stale checkpoint never overrides a reset.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from python_connector.aws.client import AwsError, JsonClient
from python_connector.aws.tables import ensure_table, safe_table_name
from python_connector.streams.source import Shard

log = logging.getLogger(__name__)



def table_name(prefix: str, connector: str, table: str, generation: str) -> str:
    """The connector's name is in it too: two connectors reading one table with the default prefix must not
    share leases (each would read only some shards)."""
    return safe_table_name(f"{prefix}-{connector}-{table}-{generation}")


@dataclass(frozen=True)
class Lease:
    shard: str
    owner: str | None
    counter: int
    checkpoint: str
    parent: str | None
    stream_arn: str
    next_owner: str | None = None  # a task that asked for the lease: the owner hands it over when drained

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Lease:
        return cls(item["leaseKey"]["S"], item.get("leaseOwner", {}).get("S"), int(item["leaseCounter"]["N"]),
                   item["checkpoint"]["S"], item.get("parentShardId", {}).get("S"), item["streamArn"]["S"],
                   item.get("nextOwner", {}).get("S"))


@dataclass(frozen=True)
class Committed:
    """A shard position whose records Connect has committed: carried by a buffer group, checkpointed on ack."""

    table: str
    shard: str
    checkpoint: str  # a sequence number, or SHARD_END


class LeaseTable:
    """The lease items of one source table, in DynamoDB."""

    def __init__(self, client: JsonClient, name: str, billing_mode: str, read_units: int, write_units: int):
        self.client = client
        self.name = name
        self._billing_mode = billing_mode
        self._throughput = {"ReadCapacityUnits": read_units, "WriteCapacityUnits": write_units}

    def ensure(self) -> None:
        ensure_table(self.client, self.name, "leaseKey", self._billing_mode, self._throughput)

    def leases(self) -> dict[str, Lease]:
        out: dict[str, Lease] = {}
        request: dict[str, Any] = {"TableName": self.name, "ConsistentRead": True}
        while True:
            page = self.client.call("Scan", request)
            out.update((lease.shard, lease) for lease in map(Lease.from_item, page.get("Items", [])))
            if "LastEvaluatedKey" not in page:
                return out
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def get(self, shard: str) -> Lease | None:
        item = self.client.call("GetItem", {"TableName": self.name, "Key": {"leaseKey": {"S": shard}},
                                            "ConsistentRead": True}).get("Item")
        return None if item is None else Lease.from_item(item)

    def create(self, shard: Shard, checkpoint: str, stream_arn: str) -> None:
        """A free lease for a shard not yet in the table (a concurrent creator of the same lease wins)."""
        item = {"leaseKey": {"S": shard.id}, "leaseCounter": {"N": "0"}, "checkpoint": {"S": checkpoint},
                "streamArn": {"S": stream_arn}}
        if shard.parent:
            item["parentShardId"] = {"S": shard.parent}
        self._conditional("PutItem", {"Item": item, "ConditionExpression": "attribute_not_exists(leaseKey)"})

    def advance(self, lease: Lease, owner: str | None, checkpoint: str | None = None) -> Lease | None:
        """Sets the owner (None frees the lease) and checkpoint if the lease is still as seen; None if it moved.
        A new owner clears any request for the lease."""
        values: dict[str, Any] = {":seen": {"N": str(lease.counter)}, ":one": {"N": "1"}}
        sets, removes = ["leaseCounter = leaseCounter + :one"], []
        if owner is not None:
            sets.append("leaseOwner = :owner")
            values[":owner"] = {"S": owner}
        else:
            removes.append("leaseOwner")
        if checkpoint is not None:
            sets.append("checkpoint = :checkpoint")
            values[":checkpoint"] = {"S": checkpoint}
        changes_hands = owner != lease.owner
        if changes_hands:
            removes.append("nextOwner")
        written = self._update(lease, "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
                               values)
        return replace(lease, owner=owner, counter=lease.counter + 1, checkpoint=checkpoint or lease.checkpoint,
                       next_owner=None if changes_hands else lease.next_owner) if written else None

    def request(self, lease: Lease, who: str) -> Lease | None:
        """Asks the lease's owner to hand it over once what it read is committed."""
        written = self._update(lease, "SET leaseCounter = leaseCounter + :one, nextOwner = :who",
                               {":seen": {"N": str(lease.counter)}, ":one": {"N": "1"}, ":who": {"S": who}})
        return replace(lease, counter=lease.counter + 1, next_owner=who) if written else None

    def _update(self, lease: Lease, expression: str, values: dict[str, Any]) -> bool:
        return self._conditional("UpdateItem", {
            "Key": {"leaseKey": {"S": lease.shard}}, "UpdateExpression": expression,
            "ConditionExpression": "leaseCounter = :seen", "ExpressionAttributeValues": values})

    def delete(self, lease: Lease) -> None:
        self._conditional("DeleteItem", {"Key": {"leaseKey": {"S": lease.shard}},
                                         "ConditionExpression": "leaseCounter = :seen",
                                         "ExpressionAttributeValues": {":seen": {"N": str(lease.counter)}}})

    def drop(self) -> bool:
        """Deletes the whole table; False when it did not exist."""
        try:
            self.client.call("DeleteTable", {"TableName": self.name})
            return True
        except AwsError as e:
            if e.code == "ResourceNotFoundException":
                return False
            raise

    def _conditional(self, operation: str, body: dict[str, Any]) -> bool:
        try:
            self.client.call(operation, {"TableName": self.name, **body})
            return True
        except AwsError as e:
            if e.code == "ConditionalCheckFailedException":
                return False
            raise
