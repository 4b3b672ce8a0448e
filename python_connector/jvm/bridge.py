"""The JPype boundary: the only module that imports JPype.

A proxy implementing ``io.ddbcdc.bridge.Engine`` turns Java strings into Python objects, calls the
engine, and turns results back. Errors cross already classified, as Kafka Connect's own exception
types: retriable AWS conditions become ``RetriableException`` (Connect retries the poll), the rest
``ConnectException`` with the Python message; the traceback goes to the worker log.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import jpype
import orjson
from jpype import JImplements, JOverride

from python_connector.engine import Engine, classify

log = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])


def to_java_exception(error: BaseException) -> Any:
    """The Connect exception a Python error becomes when it crosses into Java."""
    failure = classify(error)
    name = "RetriableException" if failure.retriable else "ConnectException"
    return jpype.JClass(f"org.apache.kafka.connect.errors.{name}")(failure.message)


def _classified(method: F) -> F:
    @functools.wraps(method)
    def call(self: Any, *args: Any) -> Any:
        try:
            return method(self, *args)
        except jpype.JException:
            raise
        except Exception as e:
            log.exception("Engine call %s failed", method.__name__)
            raise to_java_exception(e) from None

    return call  # type: ignore[return-value]


def _json(value: Any) -> Any:
    return orjson.loads(str(value))


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()


@JImplements("io.ddbcdc.bridge.Engine", deferred=True)
class JavaEngine:
    """What Java holds; every method may be entered by many Connect threads at once."""

    def __init__(self, engine: Engine):
        self._engine = engine
        # The batch a thread's last poll lent to Java stays alive until that thread polls again.
        self._lent = threading.local()

    @JOverride
    @_classified
    def configDefinition(self) -> str:
        return _text(self._engine.config_definition())

    @JOverride
    @_classified
    def validate(self, config_json: Any) -> str:
        return _text(self._engine.validate(_json(config_json)))

    @JOverride
    @_classified
    def startConnector(self, config_json: Any) -> None:
        self._engine.start_connector(_json(config_json))

    @JOverride
    @_classified
    def discoverTables(self, config_json: Any) -> str:
        return _text(self._engine.discover_tables(_json(config_json)))

    @JOverride
    @_classified
    def offsetPartitions(self, config_json: Any) -> str:
        return _text(self._engine.offset_partitions(_json(config_json)))

    @JOverride
    @_classified
    def alterOffsets(self, config_json: Any, offsets_json: Any) -> str | None:
        return self._engine.alter_offsets(_json(config_json), _json(offsets_json))

    @JOverride
    @_classified
    def taskConfigs(self, config_json: Any, max_tasks: int, offsets_json: Any) -> str:
        return _text(self._engine.task_configs(_json(config_json), int(max_tasks), _json(offsets_json)))

    @JOverride
    @_classified
    def startTask(self, config_json: Any, offsets_json: Any) -> str:
        return self._engine.start_task(_json(config_json), _json(offsets_json))

    @JOverride
    @_classified
    def poll(self, handle: Any) -> Any:
        batch = self._engine.poll(str(handle))
        self._lent.batch = batch
        return None if batch is None else jpype.nio.convertToDirectBuffer(batch)

    @JOverride
    @_classified
    def acknowledge(self, handle: Any, batch_id: int) -> None:
        self._engine.acknowledge(str(handle), int(batch_id))

    @JOverride
    @_classified
    def stopTask(self, handle: Any) -> None:
        self._engine.stop_task(str(handle))


def install(engine: Engine) -> None:
    """Registers the engine where the plugin finds it. The JVM must be running with the bridge jar."""
    jpype.JClass("io.ddbcdc.bridge.EngineHolder").register(JavaEngine(engine))
