"""Fakes of the narrow interfaces the engine uses."""

from __future__ import annotations

from typing import Any

from python_connector.aws import AwsError


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
