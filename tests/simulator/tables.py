"""``--own-tables``: the simulator keeps the other tables (the connector's lease and registry tables) in memory.

A connector at stream scale writes its lease table tens of times a second (a lease per shard born, taken, ended,
renewed every 2 s); a shared, loaded DynamoDB Local answers a few writes a second. This store answers the calls
the engine makes on its own tables, with DynamoDB's semantics for what the engine uses: CreateTable,
DescribeTable, DeleteTable, ListTables, DescribeLimits, PutItem, GetItem, UpdateItem, DeleteItem and Scan
(ConsistentRead, Limit, ExclusiveStartKey); condition expressions ``attribute_not_exists(a)``,
``attribute_exists(a)`` and ``a = :v`` joined by AND; update expressions ``SET a = :v, b = b + :n REMOVE c, d``
with #names. Anything else is a ValidationException naming what is missing, so a new use shows at once.
"""

from __future__ import annotations

import re
import threading
from typing import Any

from tests.simulator.model import SimError

Item = dict[str, Any]


def _name(token: str, names: dict[str, str]) -> str:
    return names.get(token, token)


def _value(token: str, values: dict[str, Any]) -> Any:
    if token not in values:
        raise SimError("ValidationException", f"ExpressionAttributeValues has no {token}")
    return values[token]


def _holds(condition: str | None, item: Item | None, names: dict[str, str], values: dict[str, Any]) -> bool:
    if not condition:
        return True
    for clause in re.split(r"\s+AND\s+", condition.strip(), flags=re.IGNORECASE):
        if m := re.fullmatch(r"attribute_(not_)?exists\((\S+)\)", clause.strip()):
            present = item is not None and _name(m.group(2), names) in item
            if present == bool(m.group(1)):
                return False
        elif m := re.fullmatch(r"(\S+)\s*=\s*(:\w+)", clause.strip()):
            if item is None or item.get(_name(m.group(1), names)) != _value(m.group(2), values):
                return False
        else:
            raise SimError("ValidationException", f"the simulator's tables do not support the condition {clause!r}")
    return True


def _set(item: Item, assignment: str, names: dict[str, str], values: dict[str, Any]) -> None:
    target, _, expr = (part.strip() for part in assignment.partition("="))
    if m := re.fullmatch(r"(\S+)\s*\+\s*(:\w+)", expr):
        base = item.get(_name(m.group(1), names), {"N": "0"})
        item[_name(target, names)] = {"N": str(int(base["N"]) + int(_value(m.group(2), values)["N"]))}
    elif re.fullmatch(r":\w+", expr):
        item[_name(target, names)] = _value(expr, values)
    else:
        raise SimError("ValidationException", f"the simulator's tables do not support SET {assignment!r}")


def _update(item: Item, expression: str, names: dict[str, str], values: dict[str, Any]) -> None:
    for action, body in re.findall(r"(SET|REMOVE)\s+(.*?)(?=\s+(?:SET|REMOVE)\s+|$)", expression.strip()):
        for part in (p.strip() for p in body.split(",")):
            if action == "SET":
                _set(item, part, names, values)
            else:
                item.pop(_name(part, names), None)


class TableStore:
    """Tables by name: each a key attribute and its items (thread-safe: one lock)."""

    def __init__(self) -> None:
        self._tables: dict[str, tuple[str, dict[str, Item]]] = {}
        self._lock = threading.Lock()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._tables)

    def call(self, op: str, request: dict[str, Any]) -> dict[str, Any]:
        handler = getattr(self, f"_{op}", None)
        if handler is None:
            raise SimError("ValidationException", f"the simulator's tables do not support {op}")
        with self._lock:
            return dict(handler(request))

    def _table(self, request: dict[str, Any]) -> tuple[str, dict[str, Item]]:
        name = request.get("TableName")
        if name not in self._tables:
            raise SimError("ResourceNotFoundException", f"Requested resource not found: Table: {name} not found")
        return self._tables[name]

    def _description(self, name: str) -> dict[str, Any]:
        key, items = self._tables[name]
        return {"TableName": name, "TableStatus": "ACTIVE", "ItemCount": len(items),
                "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
                "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"}}

    def _DescribeLimits(self, request: dict[str, Any]) -> dict[str, Any]:
        return {"AccountMaxReadCapacityUnits": 80000, "AccountMaxWriteCapacityUnits": 80000,
                "TableMaxReadCapacityUnits": 40000, "TableMaxWriteCapacityUnits": 40000}

    def _CreateTable(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request["TableName"]
        if name in self._tables:
            raise SimError("ResourceInUseException", f"Table already exists: {name}")
        schema = request["KeySchema"]
        if len(schema) != 1:
            raise SimError("ValidationException", "the simulator's tables have a hash key only")
        self._tables[name] = (schema[0]["AttributeName"], {})
        return {"TableDescription": self._description(name)}

    def _DescribeTable(self, request: dict[str, Any]) -> dict[str, Any]:
        self._table(request)
        return {"Table": self._description(request["TableName"])}

    def _DeleteTable(self, request: dict[str, Any]) -> dict[str, Any]:
        self._table(request)
        description = self._description(request["TableName"])
        del self._tables[request["TableName"]]
        return {"TableDescription": description}

    def _key(self, request: dict[str, Any], key: str) -> str:
        value = request["Key"] if "Key" in request else request["Item"]
        return str(value[key]["S"])

    def _PutItem(self, request: dict[str, Any]) -> dict[str, Any]:
        key, items = self._table(request)
        k = self._key(request, key)
        self._check(request, items.get(k))
        items[k] = dict(request["Item"])
        return {}

    def _GetItem(self, request: dict[str, Any]) -> dict[str, Any]:
        key, items = self._table(request)
        item = items.get(self._key(request, key))
        return {} if item is None else {"Item": dict(item)}

    def _UpdateItem(self, request: dict[str, Any]) -> dict[str, Any]:
        key, items = self._table(request)
        k = self._key(request, key)
        self._check(request, items.get(k))
        item = dict(items.get(k) or request["Key"])
        _update(item, request["UpdateExpression"], request.get("ExpressionAttributeNames", {}),
                request.get("ExpressionAttributeValues", {}))
        items[k] = item
        return {}

    def _DeleteItem(self, request: dict[str, Any]) -> dict[str, Any]:
        key, items = self._table(request)
        k = self._key(request, key)
        self._check(request, items.get(k))
        items.pop(k, None)
        return {}

    def _Scan(self, request: dict[str, Any]) -> dict[str, Any]:
        key, items = self._table(request)
        ordered = sorted(items)
        start = request.get("ExclusiveStartKey")
        if start:
            ordered = [k for k in ordered if k > start[key]["S"]]
        page = ordered[: request.get("Limit", 1000)]
        answer: dict[str, Any] = {"Items": [dict(items[k]) for k in page], "Count": len(page),
                                  "ScannedCount": len(page)}
        if len(page) < len(ordered):
            answer["LastEvaluatedKey"] = {key: {"S": page[-1]}}
        return answer

    @staticmethod
    def _check(request: dict[str, Any], item: Item | None) -> None:
        if not _holds(request.get("ConditionExpression"), item, request.get("ExpressionAttributeNames", {}),
                      request.get("ExpressionAttributeValues", {})):
            raise SimError("ConditionalCheckFailedException", "The conditional request failed")
