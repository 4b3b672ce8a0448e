"""``ddb-cdc status``: per connector and table, the phase, a snapshot's progress with its ETA, and CDC lag.

Reads Connect's REST API (connector and task states, stored offsets) and the workers' metrics endpoints
(``ddb-cdc worker --metrics-port``); without a metrics endpoint it shows what the offsets alone tell.
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SAMPLE = re.compile(r'^(\w+)\{(.*)\} (\S+)$')
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
BAR = 24


def _text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _json(url: str) -> Any:
    return json.loads(_text(url))


def parse_metrics(text: str) -> list[tuple[str, dict[str, str], float]]:
    out = []
    for line in text.splitlines():
        if (m := SAMPLE.match(line)) is not None:
            out.append((m.group(1), dict(LABEL.findall(m.group(2))), float(m.group(3))))
    return out


@dataclass
class TableView:
    phase: str = "?"
    segments_done: int = 0
    segments: int = 0
    read: float = 0.0
    estimated: float = 0.0
    lags: list[float] = field(default_factory=list)
    retention_left: list[float] = field(default_factory=list)
    leases: float = 0.0
    concurrent: bool = False  # a snapshot runs while the changes stream: both shown
    held_pages: float = 0.0
    stalled: float = 0.0


# Metric -> the TableView field that sums it over tasks, or lists it per shard.
SUMMED = {"ddbcdc_snapshot_items_read_total": "read", "ddbcdc_snapshot_items_estimated": "estimated",
          "ddbcdc_leases_owned": "leases", "ddbcdc_snapshot_held_pages": "held_pages",
          "ddbcdc_cdc_stalled_shards": "stalled"}
LISTED = {"ddbcdc_cdc_lag_ms": "lags", "ddbcdc_cdc_retention_left_ms": "retention_left"}


def table_views(connector: str, offsets: Sequence[dict[str, Any]],
                samples: Sequence[tuple[str, dict[str, str], float]]) -> dict[str, TableView]:
    views: dict[str, TableView] = defaultdict(TableView)
    for entry in offsets:
        partition, offset = entry["partition"], entry["offset"]
        if set(partition) == {"segment", "tableName"}:
            view = views[partition["tableName"]]
            view.segments = int(offset.get("totalSegments", 0))
            view.segments_done += str(offset.get("segmentCompleted")) == "true"
            view.phase = "snapshot" if view.phase == "?" else view.phase
        elif partition.get("cdcStarted"):
            views[partition["tableName"]].phase = "cdc"
    for name, labels, value in samples:
        if labels.get("connector") != connector or "table" not in labels:
            continue
        view = views[labels["table"]]
        if name in SUMMED:
            setattr(view, SUMMED[name], getattr(view, SUMMED[name]) + value)
        elif name in LISTED:
            getattr(view, LISTED[name]).append(value)
        elif name == "ddbcdc_table_phase" and value == 1:
            view.phase = labels["phase"]
        elif name == "ddbcdc_snapshot_concurrent":
            view.concurrent = view.concurrent or value == 1
    return dict(views)


def _snapshot_progress(view: TableView, rate: float | None) -> str:
    line = ""
    if view.estimated:
        done = min(1.0, view.read / view.estimated)
        line += f"[{'#' * round(done * BAR):<{BAR}}] {done:4.0%}  {view.read:,.0f}/{view.estimated:,.0f} items"
        if rate:
            line += f"  {rate:,.0f}/s  ETA {max(0.0, view.estimated - view.read) / rate:,.0f}s"
    if view.segments:
        line += f"  segments done {view.segments_done}/{view.segments}"
    return line


def _cdc_lag(view: TableView) -> str:
    line = ""
    if view.lags:
        line += (f"lag {max(view.lags):,.0f} ms (max over {len(view.lags)} shard(s))  retention left "
                 f"{min(view.retention_left) / 3_600_000:.1f} h  leases {view.leases:.0f}")
    if view.stalled:
        line += f"  STALLED: {view.stalled:.0f} shard(s) not advancing (see the worker's log)"
    return line


def describe(table: str, view: TableView, rate: float | None) -> str:
    if view.concurrent:  # a concurrent snapshot: its progress and the CDC lag at once
        return (f"  {table:<28} snapshot+cdc  {_snapshot_progress(view, rate)}  held pages {view.held_pages:.0f}\n"
                f"  {'':<28} {'':<13} {_cdc_lag(view)}")
    if view.phase == "snapshot":
        return f"  {table:<28} snapshot  {_snapshot_progress(view, rate)}"
    if view.phase == "cdc":
        return f"  {table:<28} cdc       {_cdc_lag(view)}"
    return f"  {table:<28} {view.phase}"


def report(connect_url: str, metrics_urls: Sequence[str], previous: dict[tuple[str, str], float],
           elapsed_s: float, only: Sequence[str] = ()) -> tuple[str, dict[tuple[str, str], float]]:
    """The status text of every connector (or those named in ``only``), and the snapshot items read per
    (connector, table), for the next look's rates."""
    samples = [s for url in metrics_urls for s in parse_metrics(_text(url))]
    lines, read = [], {}
    for name, info in sorted(_json(f"{connect_url}/connectors?expand=status").items()):
        if only and name not in only:
            continue
        status = info["status"]
        tasks = status.get("tasks", [])
        running = sum(t["state"] == "RUNNING" for t in tasks)
        lines.append(f"connector {name}  {status['connector']['state']}  tasks {running}/{len(tasks)} RUNNING")
        lines += [f"  task {t['id']} {t['state']}: {t.get('trace', '').splitlines()[0]}" for t in tasks
                  if t["state"] == "FAILED"]
        offsets = _json(f"{connect_url}/connectors/{name}/offsets").get("offsets", [])
        for table, view in sorted(table_views(name, offsets, samples).items()):
            read[(name, table)] = view.read
            before = previous.get((name, table))
            rate = (view.read - before) / elapsed_s if before is not None and elapsed_s > 0 else None
            lines.append(describe(table, view, rate))
    return "\n".join(lines), read


def main(connect_url: str, metrics_urls: Sequence[str], watch_s: float | None, only: Sequence[str] = ()) -> int:
    """Prints the status once (two looks a second apart, for the rates), or every ``watch_s`` seconds."""
    connect_url = connect_url.rstrip("/")
    _, previous = report(connect_url, metrics_urls, {}, 0.0, only)
    last = time.monotonic()
    while True:
        time.sleep(watch_s or 1.0)
        now = time.monotonic()
        text, previous = report(connect_url, metrics_urls, previous, now - last, only)
        last = now
        if watch_s is None:
            print(text)
            return 0
        print("\033[2J\033[H" + time.strftime("%H:%M:%S ") + connect_url + "\n" + text, flush=True)
