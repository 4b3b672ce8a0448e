"""Fakes of the narrow interfaces the engine uses."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from python_connector.aws.client import AwsError
from python_connector.streams.leases import Lease
from python_connector.streams.source import Shard


class FakeScanClient:
    """Serves Scan pages of ``items`` (per segment), honouring Limit and ExclusiveStartKey, like DynamoDB."""

    endpoint = "http://fake"

    def __init__(self, segments: dict[int, list[dict[str, Any]]], key: tuple[str, ...] = ("pk",),
                 fail_on_call: int | None = None, error: AwsError | None = None):
        self.segments = segments
        self.key = key
        self.requests: list[dict[str, Any]] = []
        self.fail_on_call = fail_on_call
        self.consumed_per_item = 0.0
        self.error = error or AwsError("Scan", "ResourceNotFoundException", "Requested resource not found", 400)

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        assert operation == "Scan"
        self.requests.append(dict(body))
        if self.fail_on_call == len(self.requests):
            raise self.error
        items = self.segments.get(body["Segment"], [])
        start = 0
        if "ExclusiveStartKey" in body:
            keys = [{k: item[k] for k in self.key} for item in items]
            start = keys.index(body["ExclusiveStartKey"]) + 1
        page = items[start:start + body["Limit"]]
        answer: dict[str, Any] = {"Items": page, "Count": len(page),
                                  "ConsumedCapacity": {"CapacityUnits": self.consumed_per_item * len(page)}}
        # Like DynamoDB, a full page (even the last one) carries a LastEvaluatedKey; the next may be empty.
        if page and len(page) == body["Limit"]:
            answer["LastEvaluatedKey"] = {k: page[-1][k] for k in self.key}
        return answer


class FakeLeaseTable:
    """LeaseTable's operations over a dict, with the same conditional-counter semantics."""

    def __init__(self, name: str = "leases"):
        self.name = name
        self.items: dict[str, Lease] = {}
        self.ensured = 0

    def ensure(self) -> None:
        self.ensured += 1

    def leases(self) -> dict[str, Lease]:
        return dict(self.items)

    def get(self, shard: str) -> Lease | None:
        return self.items.get(shard)

    def create(self, shard: Shard, checkpoint: str, stream_arn: str) -> None:
        self.items.setdefault(shard.id, Lease(shard.id, None, 0, checkpoint, shard.parent, stream_arn))

    def advance(self, lease: Lease, owner: str | None, checkpoint: str | None = None) -> Lease | None:
        current = self.items.get(lease.shard)
        if current is None or current.counter != lease.counter:
            return None
        self.items[lease.shard] = replace(current, owner=owner, counter=current.counter + 1,
                                          checkpoint=checkpoint or current.checkpoint,
                                          next_owner=current.next_owner if owner == current.owner else None)
        return self.items[lease.shard]

    def request(self, lease: Lease, who: str) -> Lease | None:
        current = self.items.get(lease.shard)
        if current is None or current.counter != lease.counter:
            return None
        self.items[lease.shard] = replace(current, counter=current.counter + 1, next_owner=who)
        return self.items[lease.shard]

    def delete(self, lease: Lease) -> None:
        if self.items.get(lease.shard) == lease:
            del self.items[lease.shard]
