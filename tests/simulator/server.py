"""The HTTP face of the simulator: AWS JSON 1.0 (DynamoDB and DynamoDB Streams), forwarding, control paths."""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson
import urllib3

from tests.simulator.model import MAX_DESCRIBE_LIMIT, MAX_GETRECORDS_LIMIT, SimError, Simulator
from tests.simulator.tables import TableStore

log = logging.getLogger(__name__)

STREAMS = "DynamoDBStreams_20120810"
DYNAMODB = "DynamoDB_20120810"
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
CONTENT_TYPE = "application/x-amz-json-1.0"
SCAN_PAGE = 1000  # items per Scan page when no Limit is given (DynamoDB pages at 1 MB instead)
SETTABLE = {"writes_per_s": float, "throttle_fraction": float, "slow_fraction": float, "slow_ms": float,
            "split_fraction": float, "remove_fraction": float, "throttle": bool, "rotate_s": float}
RELAYED_HEADERS = ("Content-Type", "x-amzn-RequestId", "x-amz-crc32")

Reply = tuple[int, bytes, dict[str, str]]
Handler = Callable[[dict[str, Any]], bytes]


def _json(value: Any) -> bytes:
    return orjson.dumps(value)


def _error(status: int, code: str, message: str) -> Reply:
    return status, _json({"__type": ERROR_PREFIX + code, "message": message}), {}


def _required(request: dict[str, Any], name: str) -> Any:
    if request.get(name) in (None, ""):
        raise SimError("ValidationException", f"1 validation error detected: Value null at '{name}' failed to "
                                              "satisfy constraint: Member must not be null")
    return request[name]


def _bounded(request: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = request.get(name, default)
    if not isinstance(value, int) or not low <= value <= high:
        raise SimError("ValidationException", f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return value


class Forwarder:
    """Relays calls verbatim to another endpoint (DynamoDB Local, for the connector's lease tables)."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")
        self._pool = urllib3.PoolManager(maxsize=16, retries=False, timeout=urllib3.Timeout(connect=5, read=60))

    def forward(self, body: bytes, headers: dict[str, str]) -> Reply:
        sent = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length", "connection")}
        try:
            answer = self._pool.request("POST", self.endpoint + "/", body=body, headers=sent)
        except urllib3.exceptions.HTTPError as e:
            return _error(500, "InternalServerError", f"forward target {self.endpoint} unreachable: {e}")
        relayed = {h: answer.headers[h] for h in RELAYED_HEADERS if h in answer.headers}
        return answer.status, answer.data, relayed


class Api:
    """Answers one AWS call or control request; the server calls it from many threads."""

    def __init__(self, sim: Simulator, forwarder: Forwarder | None = None, store: TableStore | None = None):
        self.sim = sim
        self.forwarder = forwarder
        self.store = store  # other tables kept here rather than forwarded
        self._rng = random.Random()
        self._stream_ops: dict[str, Handler] = {
            "ListStreams": self._list_streams, "DescribeStream": self._describe_stream,
            "GetShardIterator": self._get_shard_iterator, "GetRecords": self._get_records}
        self._table_ops: dict[str, Handler] = {"DescribeTable": self._describe_table, "Scan": self._scan}

    # ---- AWS calls ----------------------------------------------------------------------------------------

    def call(self, target: str, body: bytes, headers: dict[str, str]) -> Reply:
        prefix, _, op = target.partition(".")
        self.sim.count_call(op or "<none>")
        knobs = self.sim.knobs
        if knobs.slow_fraction and self._rng.random() < knobs.slow_fraction:
            time.sleep(knobs.slow_ms / 1000)  # a slow answer, on purpose
        try:
            request = orjson.loads(body) if body else {}
            if not isinstance(request, dict):
                raise SimError("SerializationException", "the body is not a JSON object")
            handler = self._route(prefix, op, request)
            if handler is None:
                return self._forward(prefix, request, body, headers)
            return 200, handler(request), {}
        except SimError as e:
            return _error(400, e.code, e.message)
        except orjson.JSONDecodeError:
            return _error(400, "SerializationException", "the body is not valid JSON")
        except Exception as e:  # an internal error answers 500, as AWS does, and is logged
            log.exception("%s failed", target)
            return _error(500, "InternalServerError", f"{e.__class__.__name__}: {e}")

    def _route(self, prefix: str, op: str, request: dict[str, Any]) -> Handler | None:
        """The handler, or None to forward the call."""
        if prefix == STREAMS:
            if self._foreign_stream(op, request):
                return None
            if op not in self._stream_ops:
                raise SimError("UnknownOperationException", f"unknown operation {op}")
            return self._stream_ops[op]
        if prefix == DYNAMODB:
            if op == "ListTables":
                return self._list_tables
            if request.get("TableName") != self.sim.knobs.table:
                store = self.store
                return None if store is None else lambda r: _json(store.call(op, r))
            if op not in self._table_ops:
                raise SimError("ValidationException", f"the simulator does not support {op} on its table")
            return self._table_ops[op]
        raise SimError("UnknownOperationException", f"unknown X-Amz-Target {prefix}.{op}")

    def _foreign_stream(self, op: str, request: dict[str, Any]) -> bool:
        if op == "ListStreams":
            return request.get("TableName") not in (None, self.sim.knobs.table)
        arn = request.get("StreamArn")
        if op == "GetRecords" and isinstance(request.get("ShardIterator"), str):
            arn = request["ShardIterator"].rsplit("|", 2)[0]
        return arn is not None and arn != self.sim.arn

    def _forward(self, prefix: str, request: dict[str, Any], body: bytes, headers: dict[str, str]) -> Reply:
        if self.forwarder is not None:
            return self.forwarder.forward(body, headers)
        if prefix == DYNAMODB:
            return _error(400, "ResourceNotFoundException",
                          f"Requested resource not found: Table: {request.get('TableName')} not found")
        return _error(400, "ResourceNotFoundException", "Requested resource not found: Stream not found")

    # ---- DynamoDB Streams ---------------------------------------------------------------------------------

    def _list_streams(self, request: dict[str, Any]) -> bytes:
        sim = self.sim
        return _json({"Streams": [{"StreamArn": sim.arn, "TableName": sim.knobs.table, "StreamLabel": sim.label}]})

    def _describe_stream(self, request: dict[str, Any]) -> bytes:
        _required(request, "StreamArn")
        limit = _bounded(request, "Limit", MAX_DESCRIBE_LIMIT, 1, MAX_DESCRIBE_LIMIT)
        shards, last = self.sim.describe_page(request.get("ExclusiveStartShardId"), limit)
        sim = self.sim
        description: dict[str, Any] = {
            "StreamArn": sim.arn, "StreamLabel": sim.label, "StreamStatus": "ENABLED",
            "StreamViewType": "NEW_AND_OLD_IMAGES", "CreationRequestDateTime": sim.created,
            "TableName": sim.knobs.table, "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "Shards": shards}
        if last:
            description["LastEvaluatedShardId"] = last
        return _json({"StreamDescription": description})

    def _get_shard_iterator(self, request: dict[str, Any]) -> bytes:
        _required(request, "StreamArn")
        iterator = self.sim.shard_iterator(_required(request, "ShardId"), _required(request, "ShardIteratorType"),
                                           request.get("SequenceNumber"))
        return _json({"ShardIterator": iterator})

    def _get_records(self, request: dict[str, Any]) -> bytes:
        limit = _bounded(request, "Limit", MAX_GETRECORDS_LIMIT, 1, MAX_GETRECORDS_LIMIT)
        records, following = self.sim.get_records(_required(request, "ShardIterator"), limit)
        # The records were serialized once, when written; the page only joins them.
        tail = b',"NextShardIterator":' + _json(following) if following else b""
        return b'{"Records":[' + b",".join(records) + b"]" + tail + b"}"

    # ---- DynamoDB (the simulated table) -------------------------------------------------------------------

    def _list_tables(self, request: dict[str, Any]) -> bytes:
        names = [self.sim.knobs.table, *(self.store.names() if self.store else [])]
        answer: dict[str, Any] = {}
        if self.forwarder is not None:
            status, body, _ = self.forwarder.forward(_json(request), {
                "Content-Type": CONTENT_TYPE, "X-Amz-Target": f"{DYNAMODB}.ListTables"})
            answer = orjson.loads(body) if status == 200 else {}
            names += answer.get("TableNames", [])
        answer["TableNames"] = sorted(set(names))
        return _json(answer)

    def _describe_table(self, request: dict[str, Any]) -> bytes:
        sim = self.sim
        with sim.lock:
            count = len(sim.items)
            size = sum(len(_json(item)) for item in sim.items.values())
        return _json({"Table": {
            "TableName": sim.knobs.table, "TableStatus": "ACTIVE", "TableArn": sim.table_arn,
            "TableId": str(uuid.UUID(int=abs(hash(sim.table_arn)))), "CreationDateTime": sim.created,
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "ItemCount": count, "TableSizeBytes": size,
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
            "LatestStreamArn": sim.arn, "LatestStreamLabel": sim.label}})

    def _scan(self, request: dict[str, Any]) -> bytes:
        if ("Segment" in request) != ("TotalSegments" in request):
            raise SimError("ValidationException", "Segment and TotalSegments go together")
        total = _bounded(request, "TotalSegments", 1, 1, 1_000_000)
        segment = _bounded(request, "Segment", 0, 0, total - 1)
        limit = _bounded(request, "Limit", SCAN_PAGE, 1, 1_000_000)
        start = (request.get("ExclusiveStartKey") or {}).get("pk", {}).get("S")
        items, last = self.sim.scan(start, segment, total, limit)
        answer: dict[str, Any] = {"Count": len(items), "ScannedCount": len(items)}
        if request.get("Select") != "COUNT":
            answer["Items"] = items
        if last is not None:
            answer["LastEvaluatedKey"] = {"pk": {"S": last}}
        return _json(answer)

    # ---- control ------------------------------------------------------------------------------------------

    def control(self, method: str, path: str, body: bytes) -> Reply:
        name = path.removeprefix("/_control/").rstrip("/")
        if method == "GET" and name == "stats":
            return 200, _json(self.sim.snapshot_stats()), {}
        if method == "POST" and name in ("pause-writes", "resume-writes"):
            with self.sim.lock:  # taken, so no change is emitted once the answer is sent
                self.sim.paused = name == "pause-writes"
            return 200, _json({"paused": self.sim.paused}), {}
        if method == "POST" and name == "set":
            return self._set(body)
        return 404, _json({"message": f"no control {method} {path}"}), {}

    def _set(self, body: bytes) -> Reply:
        try:
            changes = orjson.loads(body or b"{}")
            unknown = set(changes) - set(SETTABLE)
            if unknown:
                return 400, _json({"message": f"not settable: {sorted(unknown)}; settable: {sorted(SETTABLE)}"}), {}
            with self.sim.lock:
                for name, value in changes.items():
                    setattr(self.sim.knobs, name, SETTABLE[name](value))
        except (orjson.JSONDecodeError, TypeError, ValueError) as e:
            return 400, _json({"message": f"bad settings: {e}"}), {}
        return 200, _json({name: getattr(self.sim.knobs, name) for name in SETTABLE}), {}


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the connector's pool reuses connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall
    server: SimulatorServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # an access log per call would cost more than the call

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        body = self._body()
        if self.path.startswith("/_control/"):
            self._reply(self.server.api.control("POST", self.path, body))
            return
        self._reply(self.server.api.call(self.headers.get("X-Amz-Target", ""), body, dict(self.headers.items())))

    def do_GET(self) -> None:
        self._reply(self.server.api.control("GET", self.path, b""))

    def _reply(self, reply: Reply) -> None:
        status, payload, headers = reply
        self.send_response(status)
        self.send_header("Content-Type", headers.pop("Content-Type", CONTENT_TYPE))
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-amzn-RequestId", headers.pop("x-amzn-RequestId", uuid.uuid4().hex.upper()))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, port: int, api: Api, host: str = "127.0.0.1"):
        super().__init__((host, port), _RequestHandler)
        self.api = api

    @property
    def port(self) -> int:
        return int(self.server_address[1])
