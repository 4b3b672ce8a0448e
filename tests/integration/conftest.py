"""The real local stack (`make up`) as fixtures: DynamoDB Local, Kafka and the Connect worker."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest
import requests
from confluent_kafka import Consumer, KafkaError, TopicPartition

from python_connector.cli.status import parse_metrics
from tests.integration import compose_stack

ROOT = Path(__file__).resolve().parents[2]
ENDPOINTS = ROOT / ".stack" / "endpoints.env"
LOCAL_WORKER_LOG = ROOT / ".stack" / "logs" / "connect.log"


_POLL_PAUSE = threading.Event()


def wait_until(predicate: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.25) -> Any:
    """Polls until predicate() is truthy and returns it; fails naming `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"timed out after {timeout_s:.0f}s waiting for {what}")
        _POLL_PAUSE.wait(min(interval_s, left))  # never set: a pause that cannot outlast the deadline


@dataclass(frozen=True)
class Record:
    key: Any
    value: Any
    offset: int
    timestamp_ms: int


@dataclass(frozen=True)
class Stack:
    dynamodb_endpoint: str
    bootstrap: str
    connect_url: str
    schema_registry_url: str = ""
    metrics_url: str = ""
    tagging_endpoint: str = ""
    # A service's address as the worker reaches it, where that is not the tests' own (compose service names).
    worker_addresses: Mapping[str, str] = field(default_factory=dict)
    worker_log_reader: Callable[[], str] = lambda: LOCAL_WORKER_LOG.read_text(errors="replace")

    def for_worker(self, url: str) -> str:
        return self.worker_addresses.get(url, url)

    def worker_log(self) -> str:
        return self.worker_log_reader()

    def dynamodb(self) -> Any:
        return boto3.client("dynamodb", endpoint_url=self.dynamodb_endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")

    def connector_config(self, tables: str, **overrides: str) -> dict[str, str]:
        return {
            "connector.class": "DynamoDbCdcSource",
            "dynamodb.service.endpoint": self.for_worker(self.dynamodb_endpoint),
            "aws.access.key.id": "test",
            "aws.secret.access.key": "test",
            "dynamodb.table.includelist": tables,
            "dynamodb.table.sync.mode": "SNAPSHOT",
            "poll.linger.ms": "200",
            **overrides,
        }

    def create_connector(self, name: str, config: dict[str, str]) -> None:
        r = requests.put(f"{self.connect_url}/connectors/{name}/config", json=config, timeout=30)
        assert r.status_code in (200, 201), r.text

    def delete_connector(self, name: str) -> None:
        requests.delete(f"{self.connect_url}/connectors/{name}", timeout=30)

    def status(self, name: str) -> dict[str, Any]:
        return requests.get(f"{self.connect_url}/connectors/{name}/status", timeout=30).json()

    def metric(self, name: str, **labels: str) -> list[float]:
        """The values of a metric's series whose labels include these, from one scrape of the worker's engine."""
        text = requests.get(self.metrics_url, timeout=10).text
        return [v for n, ls, v in parse_metrics(text) if n == name and labels.items() <= ls.items()]

    def offsets(self, name: str) -> list[dict[str, Any]]:
        r = requests.get(f"{self.connect_url}/connectors/{name}/offsets", timeout=30)
        return r.json()["offsets"] if r.status_code == 200 else []

    def read_topic(self, topic: str, decode: Callable[[bytes], Any] = orjson.loads) -> list[Record]:
        """Every record of a one-partition topic, up to its current end, keys and values decoded (JSON).
        Read to the end rather than counted: transaction markers take offsets too."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"test-{uuid.uuid4()}",
                             "enable.auto.commit": False, "enable.partition.eof": True})
        try:
            _, high = consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)
            consumer.assign([TopicPartition(topic, 0, 0)])
            out: list[Record] = []
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for m in consumer.consume(1000, timeout=2):
                    if m.error() and m.error().code() == KafkaError._PARTITION_EOF:
                        if m.offset() >= high:
                            return out
                    elif m.error() and (m.error().retriable() or m.error().code() == KafkaError.UNKNOWN_TOPIC_OR_PART):
                        continue  # a topic just created by a producer: its metadata is still on its way
                    elif m.error():
                        raise RuntimeError(m.error())
                    else:
                        value = decode(m.value()) if m.value() is not None else None
                        out.append(Record(decode(m.key()), value, m.offset(), m.timestamp()[1]))
                # A topic written all the time may never show its end (no EOF event): the position says it.
                if consumer.position([TopicPartition(topic, 0)])[0].offset >= high:
                    return out
            pytest.fail(f"reading {topic} to offset {high} took over 60 s")
        finally:
            consumer.close()

    def topic_size(self, topic: str) -> int:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": f"test-{uuid.uuid4()}"})
        try:
            return consumer.get_watermark_offsets(TopicPartition(topic, 0), timeout=10)[1]
        except Exception:
            return 0
        finally:
            consumer.close()


LOCAL_ONLY = "runs worker processes, a broker or a JVM of its own: local stack only"


def local_stack() -> Stack:
    """The stack `make up` started, from the endpoints it wrote."""
    env = dict(line.split("=", 1) for line in ENDPOINTS.read_text().split())
    return Stack(env["DYNAMODB_ENDPOINT"], env["KAFKA_BOOTSTRAP"], env["CONNECT_URL"], env["SCHEMA_REGISTRY_URL"],
                 env["METRICS_URL"], env["TAGGING_ENDPOINT"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the docker path: every integration test skips where no Docker engine answers, and the tests that run
    worker processes of their own skip always."""
    if config.getoption("--stack") != "docker":
        return
    here = Path(__file__).parent
    missing = compose_stack.docker_missing()
    for item in items:
        if here not in item.path.parents:
            continue
        if missing:
            item.add_marker(pytest.mark.skip(reason=missing))
        elif item.get_closest_marker("local_stack"):
            item.add_marker(pytest.mark.skip(reason=LOCAL_ONLY))


@pytest.fixture(scope="session")
def docker_compose_file() -> list[str]:
    return [str(f) for f in compose_stack.COMPOSE_FILES]


@pytest.fixture(scope="session")
def docker_compose_project_name() -> str:
    return compose_stack.PROJECT


@pytest.fixture(scope="session")
def docker_compose_command() -> str:
    return compose_stack.compose_command() or "docker compose"


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up --build -d"]  # not --wait, which Compose v1 lacks: the stack fixture waits for Connect's REST API


@pytest.fixture(scope="session")
def stack(request: pytest.FixtureRequest) -> Stack:
    if request.config.getoption("--stack") == "docker":
        services, ip = request.getfixturevalue("docker_services"), request.getfixturevalue("docker_ip")
        return Stack(**compose_stack.stack_fields(services, ip, request.getfixturevalue("docker_compose_command")))
    if not ENDPOINTS.exists():
        pytest.fail("the local stack is not up: run `make up` (make test does it for you)")
    return local_stack()


@pytest.fixture(scope="session")
def stock_install(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The plugin archive built and unzipped into a fresh plugin.path, its wheel in a fresh venv: once a session."""
    from tests.integration.workers import install_stock

    return install_stock(tmp_path_factory.mktemp("stock"))


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]
