"""A worker's CPU by kind of thread, from /proc: what one record costs, and where.

Threads are told apart by their name (``/proc/<pid>/task/<tid>/comm``, 15 characters): the JVM names its own, Connect
names its task threads, the engine names its readers ``ddbcdc-*`` and its other Python threads keep the
interpreter's name. Work that Connect's task thread does through JPype (the engine's poll and the decoder) counts as
the task thread's, as it is on that thread.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")

# (prefix of the thread name, kind), first match wins.
KINDS = (
    ("task-thread-", "connect task threads"),
    ("kafka-producer", "producer"),
    ("C2 Compiler", "JIT"),
    ("C1 Compiler", "JIT"),
    ("GC Thread", "GC"),
    ("G1 ", "GC"),
    ("VM Thread", "GC"),
    ("python", "engine Python threads"),
    ("ddbcdc-", "engine Python threads"),  # the engine's readers (python_connector/task/threads.py)
)


def kind_of(name: str) -> str:
    return next((kind for prefix, kind in KINDS if name.startswith(prefix)), "other")


def thread_ticks(pid: int) -> Counter[str]:
    """CPU ticks (user + system) per kind of thread of a process, so far. Threads gone since are not counted:
    sample a steady state, where the threads are long-lived."""
    ticks: Counter[str] = Counter()
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended while we looked
        ticks[kind_of(name)] += int(fields[11]) + int(fields[12])
    return ticks


@dataclass(frozen=True)
class CpuPerRecord:
    records: int
    by_kind_us: dict[str, float]  # µs of CPU per record, by kind of thread

    @property
    def total_us(self) -> float:
        return sum(self.by_kind_us.values())

    def describe(self) -> str:
        split = ", ".join(f"{k} {v:.1f}" for k, v in sorted(self.by_kind_us.items(), key=lambda kv: -kv[1]))
        return f"{self.total_us:.1f} µs of worker CPU per record over {self.records:,} records ({split})"


class CpuWindow:
    """CPU of a process between two moments, divided by the records written in between."""

    def __init__(self, pid: int):
        self._pid = pid
        self._start = thread_ticks(pid)

    def per_record(self, records: int) -> CpuPerRecord:
        used = thread_ticks(self._pid)
        used.subtract(self._start)
        return CpuPerRecord(records, {k: v * TICK_S * 1e6 / max(records, 1) for k, v in used.items() if v > 0})
