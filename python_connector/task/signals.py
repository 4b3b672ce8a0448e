"""Signals: Debezium's Kafka signal channel and message format, for ad-hoc snapshots of tables.

A record on ``signal.kafka.topic`` keyed by the connector's name, valued::

    {"id": "d139b9b7", "type": "execute-snapshot", "data": {"data-collections": ["orders"], "type": "incremental"}}

or ``"type": "stop-snapshot"`` with the same ``data``. The channel (:class:`SignalChannel`, Debezium's
``KafkaSignalChannel``) reads the topic from a position and hands each signal to the task (Debezium's
``SignalProcessor`` dispatching to named actions: here the task's ``execute``/``stop``). The position is not the
consumer's: the task stores it per table in Connect's offsets, with the decision the signal made (see
:mod:`python_connector.records.offsets`), so a restart neither loses nor repeats a signal.

The consumer's settings are ``signal.consumer.*`` (security settings, say): they are passed on and never logged.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from python_connector.records.buffer import Group
from python_connector.records.envelope import offset_header
from python_connector.records.offsets import (
    EXECUTE_SNAPSHOT,
    STOP_SNAPSHOT,
    SignalDecision,
    TableSnapshot,
    signal_partition,
)

log = logging.getLogger(__name__)

CONSUMER_PREFIX = "signal.consumer."
POLL_S = 0.5
RETRY_S = 5.0  # a missing topic or an unreachable cluster is tried again this often


class BadSignal(Exception):
    """A signal that cannot be acted on; logged with its id and skipped, never fatal."""

    def __init__(self, signal_id: str | None, reason: str):
        self.signal_id = signal_id
        super().__init__(f"signal {signal_id or '(no id)'} skipped: {reason}")


@dataclass(frozen=True)
class Signal:
    id: str
    type: str  # EXECUTE_SNAPSHOT or STOP_SNAPSHOT
    tables: tuple[str, ...]
    offset: int  # its position in the signal topic


def parse(key: bytes | None, value: bytes | None, connector: str, offset: int) -> Signal | None:
    """The signal of a record; None when it is for another connector; raises BadSignal when malformed."""
    if key is None or key.decode(errors="replace") != connector:
        return None
    try:
        body = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        raise BadSignal(None, "the value is not JSON") from None
    if not isinstance(body, dict):
        raise BadSignal(None, "the value is not a JSON object")
    signal_id = body.get("id")
    if not isinstance(signal_id, str) or not signal_id:
        raise BadSignal(None, "it has no \"id\"")
    kind = body.get("type")
    if kind not in (EXECUTE_SNAPSHOT, STOP_SNAPSHOT):
        raise BadSignal(signal_id, f"type {kind!r} is not supported (only {EXECUTE_SNAPSHOT}, {STOP_SNAPSHOT})")
    data = body.get("data")
    if not isinstance(data, dict):
        raise BadSignal(signal_id, "it has no \"data\" object")
    tables = data.get("data-collections")
    if not isinstance(tables, list) or not tables or not all(isinstance(t, str) and t for t in tables):
        raise BadSignal(signal_id, "\"data-collections\" is not a non-empty list of table names")
    mode = data.get("type", "incremental")
    if not isinstance(mode, str) or mode.lower() != "incremental":
        raise BadSignal(signal_id, f"snapshot type {mode!r} is not supported (only incremental)")
    return Signal(signal_id, kind, tuple(dict.fromkeys(tables)), offset)


def consumer_settings(raw: Mapping[str, str], bootstrap: str, connector: str) -> dict[str, Any]:
    """The signal consumer's configuration: ``signal.consumer.*`` less the prefix, and what the channel needs.
    Carries secrets: never log it."""
    settings: dict[str, Any] = {k[len(CONSUMER_PREFIX):]: v for k, v in raw.items() if k.startswith(CONSUMER_PREFIX)}
    return {**settings, "bootstrap.servers": bootstrap, "group.id": f"ddbcdc-signals-{connector}-{uuid.uuid4().hex}",
            "enable.auto.commit": False, "auto.offset.reset": "earliest", "enable.partition.eof": False}


class SignalChannel:
    """Reads the signal topic (one partition) from ``start`` (None: its beginning) and hands each signal to
    ``on_signal``, and each bad one to ``on_bad``."""

    def __init__(self, settings: Mapping[str, Any], topic: str, connector: str, start: int | None,
                 on_signal: Callable[[Signal], None], on_bad: Callable[[BadSignal, int], None]):
        self._settings = dict(settings)
        self._topic = topic
        self._connector = connector
        self._start = start
        self._on_signal = on_signal
        self._on_bad = on_bad

    def run(self, stopped: threading.Event) -> None:
        from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

        consumer = Consumer(self._settings)
        try:
            while not stopped.is_set() and not self._topic_exists(consumer):
                log.warning("Signal topic %s not found; looking again in %.0f s", self._topic, RETRY_S)
                stopped.wait(RETRY_S)
            consumer.assign([TopicPartition(self._topic, 0, OFFSET_BEGINNING if self._start is None else self._start)])
            log.info("Reading signals for %s from %s at %s", self._connector, self._topic,
                     "its beginning" if self._start is None else f"offset {self._start}")
            while not stopped.is_set():
                message = consumer.poll(POLL_S)
                if message is None:
                    continue
                if message.error():
                    log.warning("Signal topic %s: %s", self._topic, message.error())
                    continue
                self._handle(message.key(), message.value(), message.offset() or 0)
        finally:
            consumer.close()

    def _topic_exists(self, consumer: Any) -> bool:
        try:
            topic = consumer.list_topics(self._topic, timeout=RETRY_S).topics.get(self._topic)
        except Exception as e:  # the cluster is unreachable: say so (the error names no setting's value)
            log.warning("Signal topic %s: %s", self._topic, e)
            return False
        if topic is None or topic.error is not None:
            return False
        if len(topic.partitions) > 1:
            log.warning("Signal topic %s has %d partitions; only partition 0 is read", self._topic,
                        len(topic.partitions))
        return True

    def _handle(self, key: bytes | None, value: bytes | None, offset: int) -> None:
        try:
            signal = parse(key, value, self._connector, offset)
        except BadSignal as e:
            self._on_bad(e, offset)
            return
        if signal is not None:
            self._on_signal(signal)


class SnapshotActions(Protocol):
    """What a signal asks of the task that reads the table's stream."""

    def running_snapshot(self, table: str) -> TableSnapshot | None:
        """The snapshot of the table this task is scanning now, if any."""
        ...

    def start_snapshot(self, table: str, snapshot: TableSnapshot) -> None:
        ...

    def stop_snapshot(self, table: str) -> None:
        ...


@dataclass(frozen=True)
class SignalScope:
    topic: str
    heartbeat_topic: str  # the offset-only records that store decisions go there
    owned: Collection[str]  # the tables whose stream this task reads: it acts for them
    known: Collection[str]  # every table of the connector
    reports: bool  # this task logs the signals no task acts on (malformed, unknown tables), so once


class SignalProcessor:
    """Acts on the signals for the tables whose stream this task reads, each once: a signal at an offset below a
    table's stored ``next_offset`` was handled before a restart. The decision goes into the buffer (an offset-only
    record) before the snapshot it starts, so Connect stores it with, or before, the snapshot's first records."""

    def __init__(self, scope: SignalScope, decisions: Mapping[str, SignalDecision], counts: Mapping[str, int],
                 actions: SnapshotActions, put: Callable[[Group], bool], clock_ns: Callable[[], int]):
        """``counts``: per owned table, its last snapshot's count."""
        self._topic = scope.topic
        self._owned = set(scope.owned)
        self._known = set(scope.known)
        self._reports = scope.reports
        self._heartbeat_topic = scope.heartbeat_topic
        self._decisions = dict(decisions)
        self._counts = dict(counts)
        self._actions = actions
        self._put = put
        self._clock_ns = clock_ns

    def start_offset(self) -> int | None:
        """Where the channel starts: the earliest next signal of the tables owned (None: the topic's beginning)."""
        if not self._owned or any(t not in self._decisions for t in self._owned):
            return None
        return min(self._decisions[t].next_offset for t in self._owned)

    def bad(self, error: BadSignal, offset: int) -> None:
        if self._reports:
            log.warning("Signal topic %s offset %d: %s", self._topic, offset, error)

    def handle(self, signal: Signal) -> None:
        unknown = [t for t in signal.tables if t not in self._known]
        if unknown and self._reports:
            log.warning("Signal %s (%s): table(s) %s are not captured by this connector; skipped", signal.id,
                        signal.type, ", ".join(unknown))
        for table in signal.tables:
            decided = self._decisions.get(table)
            if table not in self._owned or (decided is not None and signal.offset < decided.next_offset):
                continue
            if not self._act(signal, table):
                return

    def _act(self, signal: Signal, table: str) -> bool:
        running = self._actions.running_snapshot(table)
        now_ns = self._clock_ns()
        if signal.type == EXECUTE_SNAPSHOT and running is None:
            snapshot = TableSnapshot(now_ns // 10**6, self._counts.get(table, 0) + 1)
        else:
            snapshot = running or TableSnapshot(now_ns // 10**6, self._counts.get(table, 0))
        decision = SignalDecision(signal.offset + 1, signal.id, signal.type, snapshot)
        if not self._put(Group(offset_header(self._heartbeat_topic, table, signal_partition(self._topic, table),
                                             decision.offset(), now_ns), [])):
            return False
        self._decisions[table] = decision
        if signal.type == STOP_SNAPSHOT:
            # Scanned to its end, a snapshot may still hold pages for the stream: those are dropped too.
            log.info("Signal %s: stopping snapshot %d of %s%s", signal.id, snapshot.count, table,
                     "" if running else " (scanned to its end; pages it still holds are dropped)")
            self._actions.stop_snapshot(table)
        elif running:
            log.info("Signal %s: %s is already in snapshot %d; nothing more to do", signal.id, table, running.count)
        else:
            log.info("Signal %s: an incremental snapshot of %s (snapshotCount %d)", signal.id, table, snapshot.count)
            self._counts[table] = snapshot.count
            self._actions.start_snapshot(table, snapshot)
        return True
