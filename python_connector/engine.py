"""The engine as the Java shim sees it, in plain Python types: one method per bridge call."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from python_connector import config as cfg
from python_connector.aws.client import AwsError
from python_connector.connector import discovery, offsets_admin, planning
from python_connector.task.task import SourceTaskEngine


@dataclass(frozen=True)
class Failure:
    """An engine error as it crosses to Java, whichever the transport: Connect retries a retriable one
    (``RetriableException``) and fails the task or request on the rest (``ConnectException``)."""

    message: str
    retriable: bool


def classify(error: BaseException) -> Failure:
    """A configuration error keeps its own message (it names the property); others carry their type too.
    Retriable when an AWS error the client marked retriable is anywhere in the cause chain."""
    message = str(error) if isinstance(error, cfg.ConfigError) else f"{type(error).__name__}: {error}"
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, AwsError) and cause.retriable:
            return Failure(message, True)
        cause = cause.__cause__
    return Failure(message, False)


class Task(Protocol):
    def start(self) -> None: ...
    def poll(self) -> bytearray | None: ...
    def acknowledge(self, batch_id: int) -> None: ...
    def stop(self) -> None: ...


class Engine:
    def __init__(self, task_factory: Callable[[Mapping[str, str], Sequence[Mapping[str, Any]]], Task]
                 = SourceTaskEngine) -> None:
        self._task_factory = task_factory
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()

    def config_definition(self) -> list[dict[str, Any]]:
        return cfg.definitions()

    def validate(self, raw: Mapping[str, str]) -> cfg.Problems:
        return cfg.validate(raw)

    def start_connector(self, raw: Mapping[str, str]) -> None:
        discovery.start(raw)

    def discover_tables(self, raw: Mapping[str, str]) -> dict[str, Any]:
        return discovery.discover_tables(raw)

    def offset_partitions(self, raw: Mapping[str, str]) -> list[dict[str, str]]:
        return offsets_admin.offset_partitions(raw)

    def alter_offsets(self, raw: Mapping[str, str], entries: Sequence[Mapping[str, Any]]) -> str | None:
        return offsets_admin.alter_offsets(raw, entries)

    def task_configs(self, raw: Mapping[str, str], max_tasks: int,
                     stored: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
        return planning.task_configs(raw, max_tasks, stored)

    def start_task(self, raw: Mapping[str, str], stored: Sequence[Mapping[str, Any]]) -> str:
        task = self._task_factory(raw, stored)
        task.start()
        handle = uuid.uuid4().hex
        with self._lock:
            self._tasks[handle] = task
        return handle

    def poll(self, handle: str) -> bytearray | None:
        task = self._tasks.get(handle)
        return None if task is None else task.poll()  # None: the task was stopped while Connect polled

    def acknowledge(self, handle: str, batch_id: int) -> None:
        task = self._tasks.get(handle)
        if task is not None:  # records of a stopped task may still be acknowledged
            task.acknowledge(batch_id)

    def stop_task(self, handle: str) -> None:
        with self._lock:
            task = self._tasks.pop(handle, None)
        if task is not None:
            task.stop()

    def stop_all(self) -> None:
        """Stops every task still running (the host is going away)."""
        with self._lock:
            handles = list(self._tasks)
        for handle in handles:
            self.stop_task(handle)
