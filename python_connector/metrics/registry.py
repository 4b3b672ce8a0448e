"""The engine's metrics, per connector and table, kept in the worker process and served as Prometheus text.

Every task of every connector runs in the one worker process, so one registry holds them all; the worker
serves it at ``http://<host>:<port>/metrics`` when started with ``--metrics-port`` (off by default, on
127.0.0.1 unless ``--metrics-host`` says otherwise). ``ddb-cdc status`` reads it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Labels = tuple[tuple[str, str], ...]

# name -> (type, help)
DESCRIPTIONS: Mapping[str, tuple[str, str]] = {
    "ddbcdc_table_phase": ("gauge", "1 for the phase a table is in: snapshot or cdc (label phase)"),
    "ddbcdc_snapshot_items_read_total": ("counter", "Items the snapshot read, per task and table"),
    "ddbcdc_snapshot_items_estimated": ("gauge", "Items the task's segments hold by DescribeTable's ItemCount"),
    "ddbcdc_snapshot_concurrent": ("gauge", "1 while a table's snapshot runs concurrently with its change data "
                                            "capture (CONCURRENT, or a signal's)"),
    "ddbcdc_snapshot_held_pages": ("gauge", "Scanned pages a concurrent snapshot holds until the stream is read "
                                            "past them"),
    "ddbcdc_records_total": ("counter", "Records handed to Connect, per table and kind (snapshot, cdc)"),
    "ddbcdc_cdc_lag_ms": ("gauge", "Now minus ApproximateCreationDateTime of the last change read; 0 when caught "
                                   "up"),
    "ddbcdc_cdc_retention_left_ms": ("gauge", "Time before the oldest unread change leaves the 24 h retention"),
    "ddbcdc_leases_owned": ("gauge", "Shard leases a task holds, per table"),
    "ddbcdc_aws_retries_total": ("counter", "AWS calls retried after a throttling or transient error"),
    "ddbcdc_table_errors_total": ("counter", "Tables stopped by an error"),
    "ddbcdc_documents_skipped_total": ("counter", "Records skipped, with errors.tolerance=all, because the item does "
                                                  "not follow document.schema.value"),
    "ddbcdc_cdc_discovery_ms": ("gauge", "How long the last listing of a table's stream shards took, per task"),
    "ddbcdc_cdc_shards_listed": ("gauge", "Shards of a table's stream as last listed, per task"),
    "ddbcdc_cdc_shards_tracked": ("gauge", "Unfinished shards a task reads (leases held), per table"),
    "ddbcdc_cdc_stalled_shards": ("gauge", "Shards a task is to read that have changes left and have not advanced "
                                           "for the stall time (5 minutes)"),
    "ddbcdc_cdc_throttled_total": ("counter", "GetRecords throttled (the shard backs off; the others are read)"),
}


class Registry:
    def __init__(self) -> None:
        self._values: dict[tuple[str, Labels], float] = {}
        self._lock = threading.Lock()

    def set(self, name: str, value: float, **labels: str) -> None:
        with self._lock:
            self._values[(name, tuple(sorted(labels.items())))] = value

    def add(self, name: str, value: float, **labels: str) -> None:
        key = (name, tuple(sorted(labels.items())))
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + value

    def forget(self, **labels: str) -> None:
        """Drops every series with these labels (a stopped task's gauges must not linger)."""
        wanted = set(labels.items())
        with self._lock:
            for key in [k for k in self._values if wanted <= set(k[1])]:
                del self._values[key]

    def samples(self) -> list[tuple[str, dict[str, str], float]]:
        with self._lock:
            return [(name, dict(labels), value) for (name, labels), value in sorted(self._values.items())]

    def render(self) -> str:
        lines, described = [], set()
        for name, labels, value in self.samples():
            if name not in described:
                kind, text = DESCRIPTIONS[name]
                lines += [f"# HELP {name} {text}", f"# TYPE {name} {kind}"]
                described.add(name)
            rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{rendered}}} {value:g}")
        return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


METRICS = Registry()


def serve(host: str, port: int, registry: Registry = METRICS) -> ThreadingHTTPServer:
    """Serves the registry at /metrics from a daemon thread; returns the server (its port if 0 was asked)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/metrics":
                self.send_error(404)
                return
            body = registry.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:  # scrapes are not worth a log line each
            pass

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="ddbcdc-metrics").start()
    return server
