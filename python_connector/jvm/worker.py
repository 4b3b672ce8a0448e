"""The launcher: hosts a real Kafka Connect distributed worker inside this Python process.

JPype starts the JVM (released JPype cannot attach to a JVM started by ``java``), the engine is
registered with the bridge jar, and Kafka's own ``ConnectDistributed`` starts the worker, so the
REST API, offsets, SMTs and converters are Connect's. Signals are Python's to handle: the JVM
runs with ``-Xrs`` (a SIGTERM landing while Connect threads are inside Python crashed JPype), and
a SIGTERM/SIGINT stops Connect the normal way (tasks stopped, offsets flushed) before exiting 0.
"""

from __future__ import annotations

import glob
import logging
import os
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import jpype

from python_connector.engine import Engine
from python_connector.jvm import bridge, jmx
from python_connector.metrics import registry as metrics

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent.parent
BRIDGE_JAR = PACKAGE_DIR / "jars" / "ddb-cdc-bridge.jar"
DEFAULT_LOG4J = PACKAGE_DIR / "resources" / "connect-log4j2.properties"
# Java->Python calls wait for the GIL; a shorter switch interval keeps poll() responsive while
# scan threads are busy parsing pages.
SWITCH_INTERVAL_S = 0.001
# How long an exit waits for the JMX sync thread to leave a call into Java (one sync takes milliseconds).
JMX_STOP_WAIT_S = 10.0


class LaunchError(Exception):
    pass


def connect_classpath(explicit: str | None) -> list[str]:
    """Kafka Connect's jars: --classpath, else $KAFKA_CLASSPATH, else $KAFKA_HOME/libs/*."""
    spec = explicit or os.environ.get("KAFKA_CLASSPATH")
    if not spec and os.environ.get("KAFKA_HOME"):
        spec = os.path.join(os.environ["KAFKA_HOME"], "libs", "*")
    if not spec:
        raise LaunchError("Kafka Connect's jars were not found: pass --classpath, or set KAFKA_CLASSPATH or "
                          "KAFKA_HOME (a Kafka 4.x installation).")
    jars: list[str] = []
    for entry in spec.split(os.pathsep):
        jars.extend(sorted(glob.glob(entry)) if "*" in entry else [entry])
    return jars


def start_jvm(classpath: Sequence[str], jvm_options: Sequence[str]) -> None:
    if not BRIDGE_JAR.exists():
        raise LaunchError(f"{BRIDGE_JAR} is missing: build it with `make build`.")
    # -XX:+DisableExplicitGC: JPype answers Python's own collections (every few hundred allocations)
    # with System.gc() whenever the process's malloc use grew, a full Java GC run while the GIL is held.
    # Measured on a snapshot: 1 MB Scan pages took 40-60 ms to parse instead of 4 ms, throughput halved.
    options = ["-Xrs", "-XX:+DisableExplicitGC", *jvm_options]
    if not any(o.startswith("-Dlog4j2.configurationFile") for o in options):
        options.append(f"-Dlog4j2.configurationFile={DEFAULT_LOG4J}")
    jpype.startJVM(*options, classpath=[str(BRIDGE_JAR), *classpath], convertStrings=False, interrupt=False)


def run(properties_file: str, classpath: Sequence[str], jvm_options: Sequence[str],
        metrics_address: tuple[str, int] | None = None) -> int:
    """Runs the worker until SIGTERM/SIGINT (exit 0) or until the herder dies (exit 1); serves the engine's
    metrics at ``metrics_address`` (host, port) when one is given."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    if metrics_address is not None:
        server = metrics.serve(*metrics_address)
        log.info("Engine metrics at http://%s:%d/metrics", *server.server_address[:2])
    # A connector asking for engine.mode=process here gets this Python, which has the engine, unless told otherwise.
    os.environ.setdefault("DDB_CDC_PYTHON", sys.executable)
    start_jvm(classpath, jvm_options)
    bridge.install(Engine())
    jmx_stopped = threading.Event()
    jmx_thread = jmx.start(stopped=jmx_stopped)

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stop.set())

    utils = jpype.JClass("org.apache.kafka.common.utils.Utils")
    distributed = jpype.JClass("org.apache.kafka.connect.cli.ConnectDistributed")
    cli = distributed(jpype.JArray(jpype.JString)([properties_file]))
    connect = cli.startConnect(utils.propsToStringMap(utils.loadProps(properties_file)))
    log.info("Kafka Connect worker started from %s", properties_file)
    herder = connect.herderTask()
    status = 0
    while not stop.wait(0.5):
        if herder.isDone():
            log.error("The Connect herder stopped on its own; see the log above")
            status = 1
            break
    log.info("Stopping the Kafka Connect worker")
    connect.stop()
    connect.awaitStop()
    jmx_stopped.set()
    jmx_thread.join(JMX_STOP_WAIT_S)
    log.info("Kafka Connect worker stopped")
    return status


def jvm_options_from_env() -> list[str]:
    return shlex.split(os.environ.get("DDB_CDC_JVM_OPTS", "-Xms256m -Xmx1g"))
