"""Extra Connect workers (and brokers) for tests that need their own: a stock one, one to signal, one on a broker
configured differently."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class StockInstall:
    """The packaged plugin as the README's "Stock worker" section installs it: the archive unzipped into a fresh
    plugin.path, and the wheel it ships installed into a fresh virtualenv."""

    plugins: Path
    python: Path
    wheel: Path


def install_stock(directory: Path) -> StockInstall:
    subprocess.run([sys.executable, str(ROOT / "packaging" / "package.py")], check=True, capture_output=True)
    archive = next((ROOT / "dist").glob("ddbcdc-dynamodb-cdc-source-*.zip"))
    plugins = directory / "plugins"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(plugins)
    (wheel,) = plugins.glob("*/wheel/ddb_cdc_connect-*.whl")
    venv = directory / "venv"
    # Without PYTHONPATH: a checkout on it would make pip take the engine as installed already.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)], check=True, env=env)
    return StockInstall(plugins, venv / "bin" / "python", wheel)


class StockWorker:
    """A distributed stock worker (plain `java`, Kafka's ConnectDistributed) with the installed plugin, its engine's
    Python in DDB_CDC_PYTHON, and remote JMX on its own port."""

    def __init__(self, directory: Path, bootstrap: str, install: StockInstall, group: str) -> None:
        self.port, self.jmx_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / f"{group}.log"
        props = worker_properties(directory / f"{group}.properties", bootstrap, self.port, group, install.plugins)
        self.process = start_stock(props, self.log, install.python, self.jmx_port)
        wait_for_rest(self.process, self.url, self.log)

    def engine_pids(self) -> set[int]:
        """The engine processes the worker started (its children)."""
        return children(self.process.pid)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(60)


def children(pid: int) -> set[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return {int(child) for child in found.split()}


def running(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def start_broker(directory: Path, auto_create: bool) -> tuple[subprocess.Popen, str]:
    """A single-node KRaft broker of the stack's kind on free ports; (process, bootstrap servers)."""
    from stack.stack import broker_command, broker_properties

    port = free_port()
    props = broker_properties(directory / "broker.properties", directory / "data", port, free_port(), auto_create)
    log = directory / "broker.log"
    broker = subprocess.Popen(broker_command(props), stdout=log.open("wb"), stderr=subprocess.STDOUT,
                              stdin=subprocess.DEVNULL)
    return broker, f"127.0.0.1:{port}"


def start_stock(properties: Path, log: Path, python: Path | None = None, jmx_port: int | None = None,
                distributed: bool = True, heap: Sequence[str] = ("-Xmx512m",)) -> subprocess.Popen:
    """Kafka's own ConnectDistributed (or ConnectStandalone) started by plain `java`: no launcher, no bridge jar.
    ``python``: the worker's DDB_CDC_PYTHON; ``jmx_port``: remote JMX, unauthenticated, on 127.0.0.1; ``heap``: the
    JVM's heap options (a bench gives it the launcher's)."""
    jmx = [] if jmx_port is None else [
        f"-Dcom.sun.management.jmxremote.port={jmx_port}", f"-Dcom.sun.management.jmxremote.rmi.port={jmx_port}",
        "-Dcom.sun.management.jmxremote.authenticate=false", "-Dcom.sun.management.jmxremote.ssl=false",
        "-Djava.rmi.server.hostname=127.0.0.1"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DDB_CDC_PYTHON")}
    if python is not None:
        env["DDB_CDC_PYTHON"] = str(python)
    main = "ConnectDistributed" if distributed else "ConnectStandalone"
    return subprocess.Popen(
        ["java", *heap, f"-Dlog4j2.configurationFile={LOG4J}", *jmx, "-cp", KAFKA_CLASSPATH.read_text().strip(),
         f"org.apache.kafka.connect.cli.{main}", str(properties)],
        stdout=log.open("wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=properties.parent)


def start_launched(properties: Path, log: Path, launcher: list[str] | None = None,
                   options: Sequence[str] = ()) -> subprocess.Popen:
    """A distributed worker hosted by our launcher: this checkout's, or an installed `ddb-cdc` command; ``options``
    go to `worker` (e.g. --metrics-port)."""
    if launcher is None:
        command, env, cwd = [sys.executable, "-m", "python_connector"], {**os.environ, "PYTHONPATH": str(ROOT)}, ROOT
    else:
        command, env, cwd = launcher, {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, properties.parent
    return subprocess.Popen(
        [*command, "worker", str(properties), "--classpath", KAFKA_CLASSPATH.read_text().strip(), *options],
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
