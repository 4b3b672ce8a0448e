"""Extra Connect workers (and brokers) for tests that need their own: a stock one, one to signal, one on a broker
configured differently."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import orjson
import requests
from confluent_kafka import Consumer, TopicPartition

ROOT = Path(__file__).resolve().parents[2]
KAFKA_CLASSPATH = ROOT / ".stack" / "classpath" / "kafka.txt"
PLUGINS = ROOT / ".stack" / "plugins"
LOG4J = ROOT / "python_connector" / "resources" / "connect-log4j2.properties"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_properties(path: Path, bootstrap: str, port: int, group: str | None, plugins: Path = PLUGINS,
                      extra: Sequence[str] = ()) -> Path:
    """A worker config on its own REST port; distributed (own group and topics) unless group is None; ``extra``
    lines are appended."""
    lines = [
        f"bootstrap.servers={bootstrap}",
        "key.converter=org.apache.kafka.connect.json.JsonConverter",
        "value.converter=org.apache.kafka.connect.json.JsonConverter",
        f"listeners=http://127.0.0.1:{port}",
        f"plugin.path={plugins}",
        "plugin.discovery=service_load",
        "offset.flush.interval.ms=500",
        "producer.batch.size=262144",
        "producer.linger.ms=10",
        "producer.compression.type=lz4",
    ]
    if group is None:
        lines.append(f"offset.storage.file.filename={path.parent / 'standalone.offsets'}")
    else:
        lines += [f"group.id={group}", f"offset.storage.topic={group}-offsets", f"config.storage.topic={group}-configs",
                  f"status.storage.topic={group}-status", "offset.storage.replication.factor=1",
                  "config.storage.replication.factor=1", "status.storage.replication.factor=1"]
    path.write_text("\n".join([*lines, *extra]) + "\n")
    return path


def start_broker(directory: Path, auto_create: bool) -> tuple[subprocess.Popen, str]:
    """A single-node KRaft broker of the stack's kind on free ports; (process, bootstrap servers)."""
    from stack.stack import broker_command, broker_properties

    port = free_port()
    props = broker_properties(directory / "broker.properties", directory / "data", port, free_port(), auto_create)
    log = directory / "broker.log"
    broker = subprocess.Popen(broker_command(props), stdout=log.open("wb"), stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    return broker, f"127.0.0.1:{port}"


def start_stock_standalone(properties: Path, log: Path) -> subprocess.Popen:
    """Kafka's own ConnectStandalone started by plain `java`: no launcher, no bridge jar."""
    return subprocess.Popen(
        ["java", f"-Dlog4j2.configurationFile={LOG4J}", "-cp", KAFKA_CLASSPATH.read_text().strip(),
         "org.apache.kafka.connect.cli.ConnectStandalone", str(properties)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)


def start_launched(properties: Path, log: Path, launcher: list[str] | None = None,
                   args: Sequence[str] = ()) -> subprocess.Popen:
    """A distributed worker hosted by our launcher: this checkout's, or an installed `ddb-cdc` command; ``args``
    are more `worker` options (e.g. --metrics-port)."""
    if launcher is None:
        command, env, cwd = [sys.executable, "-m", "python_connector"], {**os.environ, "PYTHONPATH": str(ROOT)}, ROOT
    else:
        command, env, cwd = launcher, {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, properties.parent
    return subprocess.Popen(
        [*command, "worker", str(properties), "--classpath", KAFKA_CLASSPATH.read_text().strip(), *args],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=cwd)


def wait_for_rest(worker: subprocess.Popen, url: str, log: Path) -> None:
    """Waits until the worker's REST API answers; fails with the tail of its log if it exits first."""
    from tests.integration.conftest import wait_until

    wait_until(lambda: worker.poll() is not None or rest_answers(url), 120, f"the worker's REST API at {url}")
    assert worker.poll() is None, log.read_text()[-3000:]


def rest_answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/connector-plugins", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def stored_offsets(bootstrap: str, topic: str, connector: str) -> list[tuple[dict, dict]]:
    """Every (partition, offset) Connect wrote for a connector, in order, read from a worker's offsets topic."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4()}"})
    try:
        partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
        ends = {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        out, read = [], dict.fromkeys(partitions, 0)
        while any(read[p] < ends[p] for p in partitions):
            for m in consumer.consume(500, timeout=2):
                read[m.partition()] = m.offset() + 1
                key = orjson.loads(m.key())
                if key[0] == connector and m.value():
                    out.append((key[1], orjson.loads(m.value())))
        return out
    finally:
        consumer.close()
