"""Creating and loading DynamoDB Local tables for tests and benchmarks."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson

Item = dict[str, Any]


def create_table(ddb: Any, name: str, key: Sequence[tuple[str, str]], read_capacity: int | None = None,
                 stream_view: str | None = None) -> None:
    """A table keyed by (attribute, type) pairs, hash first; on-demand unless a read capacity is given; with a
    stream of that view type if one is given."""
    kwargs: dict[str, Any] = {"BillingMode": "PAY_PER_REQUEST"}
    if read_capacity is not None:
        kwargs = {"ProvisionedThroughput": {"ReadCapacityUnits": read_capacity, "WriteCapacityUnits": 1000}}
    if stream_view is not None:
        kwargs["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream_view}
    kinds = ("HASH", "RANGE")[: len(key)]
    ddb.create_table(TableName=name, **kwargs,
                     KeySchema=[{"AttributeName": a, "KeyType": kt} for (a, _), kt in zip(key, kinds, strict=True)],
                     AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in key])


def load(ddb: Any, name: str, count: int, make: Callable[[int], Item], threads: int = 4) -> None:
    """Writes make(0..count-1) with BatchWriteItem from a few threads, retrying unprocessed items."""

    def write(start: int) -> None:
        requests = [{"PutRequest": {"Item": make(i)}} for i in range(start, min(start + 25, count))]
        while requests:
            answer = ddb.batch_write_item(RequestItems={name: requests})
            requests = answer.get("UnprocessedItems", {}).get(name, [])

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(write, range(0, count, 25)))


def scan_all(ddb: Any, name: str) -> list[Item]:
    return [item for page in ddb.get_paginator("scan").paginate(TableName=name) for item in page["Items"]]


def as_wire_json(value: Any) -> Any:
    """A boto3 low-level item with bytes turned back into base64 text, as DynamoDB JSON carries them."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: as_wire_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_wire_json(v) for v in value]
    return value


def replay_by_key(records: Sequence[Any], attribute: str) -> dict[str, Any]:
    """The table a topic's records rebuild, by key: each record's after image (JSON document), removed by a delete
    or a tombstone."""
    state: dict[str, Any] = {}
    for r in records:
        key = r.key["payload"][attribute]
        if r.value is None or r.value["payload"]["op"] == "d":
            state.pop(key, None)
        else:
            state[key] = orjson.loads(r.value["payload"]["after"]["document"])
    return state


def state_by_key(ddb: Any, name: str, attribute: str) -> dict[str, Any]:
    """The table's items by key value, for comparing with :func:`replay_by_key`."""
    return {next(iter(item[attribute].values())): item for item in scan_all(ddb, name)}
