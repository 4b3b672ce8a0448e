"""A worker's CPU by kind of thread, from /proc: what one record costs, and where.

Threads are told apart by their name (``/proc/<pid>/task/<tid>/comm``, 15 characters): the JVM names its own, Connect
names its task threads, the engine names its readers ``ddbcdc-*`` and its other Python threads keep the
interpreter's name. Work that Connect's task thread does through JPype (the engine's poll and the decoder) counts as
the task thread's, as it is on that thread.

The total is the process's own (``/proc/<pid>/stat``), which keeps the CPU of threads that ended. The split follows
each thread by its id, sampled while the run goes on: Connect runs tasks and connectors on pooled threads that it
renames for each one (a thread's CPU before the window is not the window's), and a thread that ends (a scan segment
done) keeps what its last sample saw; what no sample saw is shown as ``exited threads``. A stock worker runs the
engine in child processes of its JVM (one per task, one for the connector side): their CPU, followed per child the
same way, counts as the worker's, as one kind.
"""

from __future__ import annotations

import contextlib
import os
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
EXITED = "exited threads"
CHILDREN = "engine child processes"


def kind_of(name: str) -> str:
    return next((kind for prefix, kind in KINDS if name.startswith(prefix)), "other")


def _ticks(stat: str) -> int:
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def thread_ticks(pid: int) -> dict[int, tuple[str, int]]:
    """Each live thread's kind and CPU ticks (user + system) so far, by thread id."""
    threads = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            threads[int(task.name)] = (kind_of(name), _ticks((task / "stat").read_text()))
        except OSError:
            continue  # the thread ended while we looked
    return threads


def process_ticks(pid: int) -> int:
    """CPU ticks of the whole process so far, ended threads included."""
    return _ticks(Path(f"/proc/{pid}/stat").read_text())


def child_pids(pid: int) -> list[int]:
    """The processes whose parent is ``pid``, from each one's /proc stat (the kernel's ``children`` files are not
    reliable while the children run)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
        except OSError:
            continue  # it ended while we looked
    return found


def children_ticks(pid: int) -> dict[int, int]:
    """Each live child process's CPU ticks so far, by pid."""
    out = {}
    for child in child_pids(pid):
        with contextlib.suppress(OSError):  # the child ended while we looked
            out[child] = process_ticks(child)
    return out


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
    """CPU of a process from now until ``per_record``, divided by the records written in between. Call ``sample``
    every so often meanwhile, so threads that end are split by kind too."""

    def __init__(self, pid: int):
        self._pid = pid
        self._start_total = process_ticks(pid)
        self._start = {tid: ticks for tid, (_, ticks) in thread_ticks(pid).items()}
        self._children_start = children_ticks(pid)
        self._last: dict[int, tuple[str, int]] = {}
        self._children_last: dict[int, int] = {}
        self.sample()

    def sample(self) -> None:
        self._last.update(thread_ticks(self._pid))
        self._children_last.update(children_ticks(self._pid))

    def per_record(self, records: int) -> CpuPerRecord:
        self.sample()
        total = process_ticks(self._pid) - self._start_total
        by_kind: dict[str, int] = {}
        for tid, (kind, ticks) in self._last.items():
            by_kind[kind] = by_kind.get(kind, 0) + ticks - self._start.get(tid, 0)
        by_kind[EXITED] = total - sum(by_kind.values())
        by_kind[CHILDREN] = sum(t - self._children_start.get(c, 0) for c, t in self._children_last.items())
        return CpuPerRecord(records, {k: v * TICK_S * 1e6 / max(records, 1) for k, v in by_kind.items() if v > 0})
