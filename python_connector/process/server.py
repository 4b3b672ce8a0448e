"""Serves one engine to the plugin over a Unix domain socket: a thread per connection, the engine's operations by
name, and an exit when the plugin goes away (its control connection closes, or the parent process changes).

The plugin passes the socket path and the secret in the environment (never on the command line, which any user
of the host can read); :func:`run` removes them at once so that nothing the engine starts inherits them.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable
from importlib import metadata
from typing import Any

import orjson

from python_connector.engine import Engine, Failure, classify
from python_connector.metrics import tables
from python_connector.metrics.registry import METRICS
from python_connector.process import framing

log = logging.getLogger(__name__)

SOCKET_ENV = "DDB_CDC_SOCKET"
SECRET_ENV = "DDB_CDC_SECRET"
PARENT_ENV = "DDB_CDC_PARENT_PID"  # the worker's pid, as the plugin saw it when it started this process
# Polls of several tasks wait for the GIL; a shorter switch interval keeps them responsive (as the launcher does).
SWITCH_INTERVAL_S = 0.001
PARENT_CHECK_S = 1.0
STOP_TASKS_WAIT_S = 10.0  # how long an exit waits for the tasks to stop before it leaves anyway
# A poll's answer is up to max.batch.size records (~5 MB at 5,000): with the default ~200 KB send buffer the child
# and the task thread hand it over in some 25 wake-ups, each a wait for a core on a busy host. The kernel caps this
# at net.core.wmem_max.
SEND_BUFFER_BYTES = 8 << 20

# operation -> what it does with the engine and the request's arguments (JSON values)
OPERATIONS: dict[str, Callable[[Engine, list[Any]], Any]] = {
    "configDefinition": lambda e, a: e.config_definition(),
    "validate": lambda e, a: e.validate(a[0]),
    "startConnector": lambda e, a: e.start_connector(a[0]),
    "discoverTables": lambda e, a: e.discover_tables(a[0]),
    "offsetPartitions": lambda e, a: e.offset_partitions(a[0]),
    "alterOffsets": lambda e, a: e.alter_offsets(a[0], a[1]),
    "taskConfigs": lambda e, a: e.task_configs(a[0], int(a[1]), a[2]),
    "startTask": lambda e, a: e.start_task(a[0], a[1]),
    "poll": lambda e, a: e.poll(str(a[0])),
    "acknowledge": lambda e, a: e.acknowledge(str(a[0]), int(a[1])),
    "stopTask": lambda e, a: e.stop_task(str(a[0])),
    "metrics": lambda e, a: tables.snapshot(METRICS),
}


class Server:
    def __init__(self, engine: Engine, path: str, secret: str, version: str) -> None:
        self._engine = engine
        self._secret = secret.encode()
        self._version = version
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(path)
        self._listener.listen(16)
        self._control: socket.socket | None = None
        self._control_lock = threading.Lock()
        self.done = threading.Event()

    def serve(self, parent: int | None = None) -> None:
        """Accepts connections until the plugin goes away (or ``parent``, the worker's pid, default this process's
        parent now, is no longer this process's parent); then stops the tasks and returns."""
        parent = os.getppid() if parent is None else parent
        # Watching getppid() rather than prctl(PR_SET_PDEATHSIG): that signal fires when the JVM *thread* that
        # started us ends, and Connect's task threads come and go while the worker lives. The pid comes from the
        # plugin, not from getppid() here: a worker killed while this interpreter was still importing the engine
        # would otherwise leave a re-parented child waiting for a connection that never comes.
        if os.getppid() != parent:
            log.warning("The worker process %d went away before the engine started; the engine stops", parent)
            self.done.set()
        threading.Thread(target=self._accept, daemon=True, name="ddbcdc-accept").start()
        while not self.done.wait(PARENT_CHECK_S):
            if os.getppid() != parent:  # the worker died (kill -9 included): we were re-parented
                log.warning("The worker process %d went away; the engine stops", parent)
                self.done.set()
        stopper = threading.Thread(target=self._engine.stop_all, daemon=True, name="ddbcdc-stop")
        stopper.start()
        stopper.join(STOP_TASKS_WAIT_S)

    def _accept(self) -> None:
        while not self.done.is_set():
            conn, _ = self._listener.accept()
            threading.Thread(target=self._connection, args=(conn,), daemon=True, name="ddbcdc-conn").start()

    def _connection(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
                hello = framing.read_frame(conn)
                if hello is None or not hmac.compare_digest(bytes(hello), self._secret):
                    log.warning("Refused a connection without the right secret")
                    return
                with self._control_lock:
                    control = self._control is None
                    if control:
                        self._control = conn
                framing.send_ok(conn, {"version": self._version, "pid": os.getpid()})
                self._requests(conn)
            except (OSError, framing.ProtocolError) as e:
                log.warning("A connection from the plugin failed: %s", e)
            finally:
                if self._control is conn:
                    log.info("The plugin closed the engine's control connection; the engine stops")
                    self.done.set()

    def _requests(self, conn: socket.socket) -> None:
        while (request := framing.read_frame(conn)) is not None:
            try:
                operation, *args = orjson.loads(request)
                handler = OPERATIONS[operation]
            except (ValueError, TypeError, KeyError) as e:  # not JSON, not [operation, ...], no such operation
                framing.send_error(conn, Failure(f"Bad request to the engine process: {e!r}", False))
                continue
            try:
                result = handler(self._engine, args)
            except Exception as e:
                log.exception("Engine call %s failed", operation)
                framing.send_error(conn, classify(e))
                continue
            if isinstance(result, bytes | bytearray):
                framing.send_batch(conn, result)
            else:
                framing.send_ok(conn, result)


def version() -> str:
    try:
        return metadata.version("ddb-cdc-connect")
    except metadata.PackageNotFoundError:
        return "unknown (python_connector is not installed as the ddb-cdc-connect distribution)"


def run(engine: Engine) -> int:
    """Serves ``engine`` at the socket the environment names until the plugin goes away, then exits the process."""
    path, secret = os.environ.pop(SOCKET_ENV, ""), os.environ.pop(SECRET_ENV, "")
    if not path or not secret:
        print(f"{SOCKET_ENV} and {SECRET_ENV} must be set: this module is started by the Kafka Connect plugin, "
              "not by hand", file=sys.stderr)
        return 2
    # stderr is drained into the worker's log, which adds time and context; the level leads each line.
    logging.basicConfig(stream=sys.stderr, level=os.environ.get("DDB_CDC_LOG_LEVEL", "INFO"),
                        format="%(levelname)s %(name)s: %(message)s")
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    try:
        Server(engine, path, secret, version()).serve(int(os.environ.pop(PARENT_ENV, "") or os.getppid()))
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)  # the plugin's directory outlives a worker killed with -9
    logging.shutdown()
    os._exit(0)  # engine threads (scans, lease renewers) must not hold the exit
