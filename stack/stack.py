"""The local stack: DynamoDB Local, moto_server, a schema registry, a KRaft Kafka and a Connect worker, on 127.0.0.1.

    python stack/stack.py up [--record FILE]     start what is not running, wait until each answers
    python stack/stack.py down [--only FILE]     stop what `up` started (by pid), or only those in FILE
    python stack/stack.py status

Jars come from Maven (`make build` writes the classpaths under .stack/classpath/ and unpacks the
registry into .stack/schema-registry/); pids, logs and data live under .stack/. Ports: DYNAMODB_PORT,
TAGGING_PORT, SCHEMA_REGISTRY_PORT, KAFKA_PORT, KAFKA_CONTROLLER_PORT, CONNECT_PORT, METRICS_PORT. CONNECT_WORKERS=N
starts N workers in one Connect group (ports CONNECT_PORT to CONNECT_PORT + N - 1). `up` writes the
endpoints to .stack/endpoints.env.
"""

from __future__ import annotations

import argparse
import base64
import functools
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / ".stack"
LOGS = STACK / "logs"
PIDS = STACK / "pids"
CLASSPATH = STACK / "classpath"
REGISTRY_JAR = STACK / "schema-registry" / "apicurio-registry-app-2.6.13.Final-runner.jar"
PLUGINS = STACK / "plugins"
LAUNCHER_JAR = ROOT / "stack" / "launcher" / "target" / "ddb-cdc-stack-launcher.jar"
CONNECTOR_CLASS = "io.ddbcdc.connect.DynamoDbCdcSourceConnector"
HOST = "127.0.0.1"


def port(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


DYNAMODB_PORT = port("DYNAMODB_PORT", 18000)
TAGGING_PORT = port("TAGGING_PORT", 15000)
SCHEMA_REGISTRY_PORT = port("SCHEMA_REGISTRY_PORT", 18081)
KAFKA_PORT = port("KAFKA_PORT", 19092)
KAFKA_CONTROLLER_PORT = port("KAFKA_CONTROLLER_PORT", 19093)
CONNECT_PORT = port("CONNECT_PORT", 18083)
# Workers in the stack's Connect group; worker n (from 0) listens on CONNECT_PORT + n.
CONNECT_WORKERS = port("CONNECT_WORKERS", 1)
# The engine's metrics (Prometheus text) of worker n are served on METRICS_PORT + n.
METRICS_PORT = port("METRICS_PORT", 18090)

ENDPOINTS = {
    "DYNAMODB_ENDPOINT": f"http://{HOST}:{DYNAMODB_PORT}",
    "TAGGING_ENDPOINT": f"http://{HOST}:{TAGGING_PORT}",
    # Apicurio Registry's Confluent-compatible API: what Schema Registry clients and our converters use.
    "SCHEMA_REGISTRY_URL": f"http://{HOST}:{SCHEMA_REGISTRY_PORT}/apis/ccompat/v7",
    "METRICS_URL": f"http://{HOST}:{METRICS_PORT}/metrics",
    "KAFKA_BOOTSTRAP": f"{HOST}:{KAFKA_PORT}",
    "CONNECT_URL": f"http://{HOST}:{CONNECT_PORT}",
}


class StackError(Exception):
    pass


def classpath(name: str) -> str:
    path = CLASSPATH / f"{name}.txt"
    if not path.exists():
        raise StackError(f"{path} is missing: run `make build` first.")
    return path.read_text().strip()


def http_ok(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}), timeout=2) as r:
            return r.status < 500
    except urllib.error.HTTPError as e:
        return e.code < 500
    except OSError:
        return False


def port_open(p: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((HOST, p)) == 0


# ---- components ---------------------------------------------------------------------------------


def dynamodb_command(listen_port: int = DYNAMODB_PORT) -> list[str]:
    native = STACK / "native"
    native.mkdir(parents=True, exist_ok=True)
    cp = classpath("dynamodb-local")
    so = next((e for e in cp.split(":") if e.endswith(".so") and "linux-amd64" in e), None)
    if so is None:
        raise StackError("sqlite4java's linux-amd64 library is not on DynamoDB Local's classpath")
    shutil.copyfile(so, native / "libsqlite4java-linux-amd64.so")
    # -sharedDb: one database whatever the credentials, so tests may sign with any key. Stream records (of
    # deleted tables too) stay for 24 hours and each write to a stream walks past all those written before its
    # shard began, so new streams get slower as this process ages: bench/cdc.py starts its own (listen_port).
    return ["java", "-Xmx1g", f"-Djava.library.path={native}", "-cp", f"{LAUNCHER_JAR}:{cp}",
            "io.ddbcdc.stack.LoopbackDynamoDbLocal", "-inMemory", "-sharedDb", "-port", str(listen_port),
            "-disableTelemetry"]


def dynamodb_ready(endpoint: str = ENDPOINTS["DYNAMODB_ENDPOINT"]) -> bool:
    return http_ok(endpoint, b"{}", {
        "X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0",
        "Authorization": "AWS4-HMAC-SHA256 Credential=local/20240101/us-east-1/dynamodb/aws4_request, "
                         "SignedHeaders=host, Signature=0"})


def tagging_command() -> list[str]:
    return [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(TAGGING_PORT)]


def registry_command() -> list[str]:
    if not REGISTRY_JAR.exists():
        raise StackError(f"{REGISTRY_JAR} is missing: run `make build` first.")
    # Schemas persist under .stack/data like the broker's topics: the ids in kept records stay valid.
    data = STACK / "data" / "schema-registry"
    data.mkdir(parents=True, exist_ok=True)
    return ["java", "-Xmx512m", f"-Dquarkus.http.port={SCHEMA_REGISTRY_PORT}", f"-Dquarkus.http.host={HOST}",
            f"-Dquarkus.datasource.jdbc.url=jdbc:h2:file:{data / 'registry'}", "-jar", str(REGISTRY_JAR)]


def registry_ready() -> bool:
    try:
        with urllib.request.urlopen(f"{ENDPOINTS['SCHEMA_REGISTRY_URL']}/subjects", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def broker_properties(props: Path, data: Path, port: int, controller_port: int, auto_create: bool = True) -> Path:
    """A single-node KRaft broker's configuration, its log directory formatted on first use."""
    props.write_text("\n".join([
        "process.roles=broker,controller",
        "node.id=1",
        f"controller.quorum.bootstrap.servers={HOST}:{controller_port}",
        f"listeners=PLAINTEXT://{HOST}:{port},CONTROLLER://{HOST}:{controller_port}",
        f"advertised.listeners=PLAINTEXT://{HOST}:{port}",
        "controller.listener.names=CONTROLLER",
        "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        "inter.broker.listener.name=PLAINTEXT",
        f"log.dirs={data}",
        "num.partitions=1",
        "offsets.topic.replication.factor=1",
        "transaction.state.log.replication.factor=1",
        "transaction.state.log.min.isr=1",
        "share.coordinator.state.topic.replication.factor=1",
        "share.coordinator.state.topic.min.isr=1",
        "group.initial.rebalance.delay.ms=0",
        f"auto.create.topics.enable={str(auto_create).lower()}",
        "",
    ]))
    if not (data / "meta.properties").exists():
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        # --cluster-id=<id>: one id in 64 starts with '-', which the tool would take for an option after "-t".
        formatted = subprocess.run(["java", "-cp", classpath("kafka"), "kafka.tools.StorageTool", "format",
                                    "--standalone", f"--cluster-id={cluster_id}", "-c", str(props)],
                                   capture_output=True, text=True)
        if formatted.returncode != 0:
            raise SystemExit(f"formatting Kafka's storage in {data} failed:\n{formatted.stdout}{formatted.stderr}")
    return props


def broker_command(props: Path) -> list[str]:
    return ["java", "-Xmx768m",
            f"-Dlog4j2.configurationFile={ROOT / 'python_connector' / 'resources' / 'connect-log4j2.properties'}",
            "-cp", classpath("kafka"), "kafka.Kafka", str(props)]


def kafka_command() -> list[str]:
    return broker_command(broker_properties(STACK / "kafka.properties", STACK / "data" / "kafka", KAFKA_PORT,
                                            KAFKA_CONTROLLER_PORT))


def kafka_ready() -> bool:
    if not port_open(KAFKA_PORT):
        return False
    from confluent_kafka.admin import AdminClient

    try:
        AdminClient({"bootstrap.servers": ENDPOINTS["KAFKA_BOOTSTRAP"]}).list_topics(timeout=3)
        return True
    except Exception:
        return False


def worker_name(index: int) -> str:
    return "connect" if index == 0 else f"connect-{index + 1}"


def connect_properties(index: int) -> Path:
    props = STACK / f"{worker_name(index)}-distributed.properties"
    rest_port = CONNECT_PORT + index
    props.write_text("\n".join([
        f"bootstrap.servers={ENDPOINTS['KAFKA_BOOTSTRAP']}",
        "group.id=ddb-cdc-connect",
        "key.converter=org.apache.kafka.connect.json.JsonConverter",
        "value.converter=org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable=true",
        "value.converter.schemas.enable=true",
        "offset.storage.topic=connect-offsets",
        "config.storage.topic=connect-configs",
        "status.storage.topic=connect-status",
        "offset.storage.replication.factor=1",
        "config.storage.replication.factor=1",
        "status.storage.replication.factor=1",
        "offset.flush.interval.ms=1000",
        # Throughput: Connect's source producers default to 16 KB batches sent at once (see README).
        "producer.batch.size=262144",
        "producer.linger.ms=10",
        "producer.compression.type=lz4",
        f"listeners=http://{HOST}:{rest_port}",
        f"rest.advertised.host.name={HOST}",
        f"rest.advertised.port={rest_port}",
        f"plugin.path={PLUGINS}",
        "plugin.discovery=service_load",
        "",
    ]))
    return props


def connect_command(index: int) -> list[str]:
    return [sys.executable, "-m", "python_connector", "worker", str(connect_properties(index)),
            "--classpath", classpath("kafka"), "--metrics-port", str(METRICS_PORT + index)]


def connect_ready(index: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{CONNECT_PORT + index}/connector-plugins", timeout=2) as r:
            return CONNECTOR_CLASS in r.read().decode()
    except OSError:
        return False


@dataclass(frozen=True)
class Component:
    name: str
    command: Callable[[], list[str]]
    ready: Callable[[], bool]
    deadline_s: float


COMPONENTS = (
    Component("dynamodb", dynamodb_command, dynamodb_ready, 60),
    Component("tagging", tagging_command, lambda: http_ok(f"{ENDPOINTS['TAGGING_ENDPOINT']}/moto-api/"), 60),
    Component("schema-registry", registry_command, registry_ready, 120),
    Component("kafka", kafka_command, kafka_ready, 120),
    *(Component(worker_name(n), functools.partial(connect_command, n), functools.partial(connect_ready, n), 180)
      for n in range(CONNECT_WORKERS)),
)
WORKERS = [c.name for c in COMPONENTS if c.name.startswith("connect")]


# ---- process bookkeeping ------------------------------------------------------------------------


def pid_of(name: str) -> int | None:
    path = PIDS / f"{name}.pid"
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink()
        return None
    return pid


def tail(name: str, lines: int = 30) -> str:
    path = LOGS / f"{name}.log"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else "(no log)"


def spawn(component: Component) -> None:
    LOGS.mkdir(parents=True, exist_ok=True)
    PIDS.mkdir(parents=True, exist_ok=True)
    log = open(LOGS / f"{component.name}.log", "ab")  # noqa: SIM115 - handed to the child process
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(component.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            cwd=ROOT, env=env, start_new_session=True)
    (PIDS / f"{component.name}.pid").write_text(str(proc.pid))


def wait_ready(component: Component) -> None:
    deadline = time.monotonic() + component.deadline_s
    while time.monotonic() < deadline:
        if component.ready():
            return
        if pid_of(component.name) is None:
            raise StackError(f"{component.name} exited while starting; last lines of "
                             f"{LOGS / (component.name + '.log')}:\n{tail(component.name)}")
        time.sleep(0.5)
    raise StackError(f"{component.name} did not answer within {component.deadline_s:.0f}s; last lines of "
                     f"{LOGS / (component.name + '.log')}:\n{tail(component.name)}")


def worker_is_stale(name: str) -> bool:
    """The running worker predates the plugin, bridge or engine code it would load now."""
    started = (PIDS / f"{name}.pid").stat().st_mtime
    code = [*PLUGINS.glob("*/*.jar"), *(ROOT / "python_connector").rglob("*.py"),
            *(ROOT / "python_connector").glob("jars/*.jar")]
    return any(path.stat().st_mtime > started for path in code)


def up(record: Path | None) -> None:
    started = []
    for worker in WORKERS:
        if pid_of(worker) is not None and worker_is_stale(worker):
            print(f"restarting {worker}: the connector was rebuilt since it started", flush=True)
            stop(worker)
    for component in COMPONENTS:
        if pid_of(component.name) is None:
            if component.name not in WORKERS and component.ready():
                raise StackError(f"Something not started by this stack already answers for {component.name}; "
                                 "stop it or choose another port (see stack/stack.py).")
            print(f"starting {component.name}", flush=True)
            spawn(component)
            started.append(component.name)
        if component.name == "kafka":  # the worker needs Kafka; wait for everything started so far
            for earlier in COMPONENTS[: COMPONENTS.index(component) + 1]:
                wait_ready(earlier)
    for worker in COMPONENTS[-CONNECT_WORKERS:]:
        wait_ready(worker)
    (STACK / "endpoints.env").write_text("".join(f"{k}={v}\n" for k, v in ENDPOINTS.items()))
    if record is not None:
        record.write_text("".join(f"{name}\n" for name in started))
    print("stack up: " + ", ".join(f"{k}={v}" for k, v in ENDPOINTS.items()), flush=True)


def stop(name: str, timeout_s: float = 60) -> None:
    pid = pid_of(name)
    if pid is None:
        return
    print(f"stopping {name} (pid {pid})", flush=True)
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and pid_of(name) is not None:
        time.sleep(0.2)
    if pid_of(name) is not None:
        os.kill(pid, signal.SIGKILL)
    (PIDS / f"{name}.pid").unlink(missing_ok=True)


def down(only: Path | None) -> None:
    # Workers started by an `up` with more CONNECT_WORKERS than this call's are stopped too.
    extra = sorted(p.stem for p in PIDS.glob("connect-*.pid") if p.stem not in WORKERS) if PIDS.exists() else []
    names = [c.name for c in COMPONENTS] + extra
    if only is not None:
        chosen = set(only.read_text().split()) if only.exists() else set()
        names = [n for n in names if n in chosen]
    for name in reversed(names):
        stop(name)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    up_cmd = sub.add_parser("up")
    up_cmd.add_argument("--record", type=Path, help="write the names of the components this call started")
    down_cmd = sub.add_parser("down")
    down_cmd.add_argument("--only", type=Path, help="stop only the components named in this file")
    sub.add_parser("status")
    args = parser.parse_args()
    try:
        if args.command == "up":
            up(args.record)
        elif args.command == "down":
            down(args.only)
        else:
            for c in COMPONENTS:
                print(f"{c.name}: {'running' if pid_of(c.name) else 'stopped'}")
    except StackError as e:
        print(f"stack: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
