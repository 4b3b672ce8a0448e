"""The change log: one JSON line per change the simulator emits, and the test-side readers of it.

A line is ``{"seq", "shard", "key", "event", "new", "old", "ts"}``: ``seq`` the record's sequence number (a
decimal string), ``event`` INSERT | MODIFY | REMOVE, ``new``/``old`` the item images in DynamoDB JSON (or
null), ``ts`` the epoch seconds of the change. Lines are in sequence-number order and flushed one by one.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import orjson


class ChangeLog:
    """The writer (in the simulator process)."""

    def __init__(self, path: str | Path):
        self._file: IO[bytes] = open(path, "ab")  # noqa: SIM115 - open for the process's lifetime

    def append(self, change: dict[str, Any]) -> None:
        self._file.write(orjson.dumps(change) + b"\n")
        self._file.flush()  # a test reads it while the simulator runs

    def close(self) -> None:
        self._file.close()


def read_change_log(path: str | Path) -> list[dict[str, Any]]:
    """Every complete line of the log (a line being written as it is read is left out)."""
    changes = []
    for line in Path(path).read_bytes().split(b"\n"):
        if line:
            try:
                changes.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                break  # the last, partial line
    return changes


def final_state(log: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The table's items after every change of the log: key → item, removed keys absent."""
    state: dict[str, dict[str, Any]] = {}
    for change in log:
        if change["event"] == "REMOVE":
            state.pop(change["key"], None)
        else:
            state[change["key"]] = change["new"]
    return state


def changes_by_key(log: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each key's changes in order."""
    keyed: dict[str, list[dict[str, Any]]] = {}
    for change in log:
        keyed.setdefault(change["key"], []).append(change)
    return keyed
