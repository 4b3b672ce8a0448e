"""The engine's metrics as JMX MBeans in Connect's style, next to Connect's own in the worker's JVM.

One MBean per connector and table, ``kafka.connect:type=dynamodb-cdc-table-metrics,connector=<c>,table=<t>``,
whose attributes sum or pick the registry's series over tasks and shards: ``phase``,
``snapshot-items-read``, ``snapshot-items-estimated``, ``snapshot-records``, ``cdc-records``,
``cdc-lag-ms-max``, ``cdc-retention-left-ms-min``, ``leases-owned``, ``errors``. Each attribute is read from
the registry when asked, so it is as fresh as the Prometheus endpoint. MBeans appear and go with their tables.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence

import jpype
from jpype import JImplements, JOverride

from python_connector.metrics.registry import METRICS, Registry

log = logging.getLogger(__name__)

DOMAIN_TYPE = "kafka.connect:type=dynamodb-cdc-table-metrics"
SYNC_S = 5.0  # how often MBeans are added for new tables and removed for gone ones

Samples = Sequence[tuple[str, dict[str, str], float]]


def _total(name: str, **match: str) -> Callable[[Samples], float]:
    return lambda samples: sum(v for n, ls, v in samples if n == name and match.items() <= ls.items())


def _extreme(name: str, pick: Callable[[list[float]], float]) -> Callable[[Samples], float]:
    return lambda samples: pick([v for n, _, v in samples if n == name] or [0.0])


ATTRIBUTES: dict[str, tuple[str, Callable[[Samples], float | str]]] = {
    "phase": ("snapshot or cdc", lambda samples: next(
        (ls["phase"] for n, ls, v in samples if n == "ddbcdc_table_phase" and v == 1), "")),
    "snapshot-items-read": ("Items the snapshot read", _total("ddbcdc_snapshot_items_read_total")),
    "snapshot-items-estimated": ("Items by DescribeTable's ItemCount", _total("ddbcdc_snapshot_items_estimated")),
    "snapshot-concurrent": ("1 while a snapshot runs with the changes streaming", _total("ddbcdc_snapshot_concurrent")),
    "snapshot-held-pages": ("Pages a concurrent snapshot holds", _total("ddbcdc_snapshot_held_pages")),
    "snapshot-records": ("Snapshot records handed to Connect", _total("ddbcdc_records_total", kind="snapshot")),
    "cdc-records": ("Change records handed to Connect", _total("ddbcdc_records_total", kind="cdc")),
    "cdc-lag-ms-max": ("Largest CDC lag over the table's shards", _extreme("ddbcdc_cdc_lag_ms", max)),
    "cdc-retention-left-ms-min": ("Least retention left over the table's shards",
                                  _extreme("ddbcdc_cdc_retention_left_ms", min)),
    "leases-owned": ("Shard leases held", _total("ddbcdc_leases_owned")),
    "errors": ("Times the table stopped on an error", _total("ddbcdc_table_errors_total")),
}


def table_mbean(registry: Registry, connector: str, table: str) -> object:
    """A DynamicMBean (a JPype proxy) whose attributes read the registry's series of one table."""
    management = jpype.JPackage("javax.management")
    info = management.MBeanInfo(
        "io.ddbcdc.TableMetrics", f"DynamoDB CDC metrics of table {table}",
        [management.MBeanAttributeInfo(name, "java.lang.String" if name == "phase" else "java.lang.Double", text,
                                       True, False, False) for name, (text, _) in ATTRIBUTES.items()],
        None, None, None)

    def read(name: str) -> object:
        samples = [s for s in registry.samples() if s[1].get("connector") == connector and s[1].get("table") == table]
        value = ATTRIBUTES[str(name)][1](samples)
        return jpype.JString(value) if isinstance(value, str) else jpype.JDouble(value)

    @JImplements("javax.management.DynamicMBean")
    class TableMBean:
        @JOverride
        def getAttribute(self, name: object) -> object:
            if str(name) not in ATTRIBUTES:
                raise jpype.JClass("javax.management.AttributeNotFoundException")(str(name))
            return read(str(name))

        @JOverride
        def getAttributes(self, names: Iterable[object]) -> object:
            attributes = management.AttributeList()
            for name in names:
                if str(name) in ATTRIBUTES:
                    attributes.add(management.Attribute(name, read(str(name))))
            return attributes

        @JOverride
        def setAttribute(self, attribute: object) -> None:
            raise jpype.JClass("javax.management.AttributeNotFoundException")("read-only")

        @JOverride
        def setAttributes(self, attributes: object) -> object:
            return management.AttributeList()

        @JOverride
        def invoke(self, action: object, params: object, signature: object) -> object:
            raise jpype.JClass("javax.management.ReflectionException")(
                jpype.JClass("java.lang.UnsupportedOperationException")(str(action)))

        @JOverride
        def getMBeanInfo(self) -> object:
            return info

    return TableMBean()


def object_name(connector: str, table: str) -> object:
    quote = jpype.JClass("javax.management.ObjectName").quote
    return jpype.JClass("javax.management.ObjectName")(
        f"{DOMAIN_TYPE},connector={quote(connector)},table={quote(table)}")


def sync(registry: Registry, registered: dict[tuple[str, str], object]) -> None:
    """Registers an MBean for each (connector, table) the registry has series of, and unregisters gone ones."""
    server = jpype.JClass("java.lang.management.ManagementFactory").getPlatformMBeanServer()
    present = {(ls["connector"], ls["table"]) for _, ls, _ in registry.samples() if "connector" in ls and "table" in ls}
    for key in present - registered.keys():
        name = object_name(*key)
        if not server.isRegistered(name):
            server.registerMBean(table_mbean(registry, *key), name)
        registered[key] = name
    for key in registered.keys() - present:
        if server.isRegistered(registered[key]):
            server.unregisterMBean(registered[key])
        del registered[key]


def start(registry: Registry = METRICS, stopped: threading.Event | None = None) -> threading.Thread:
    """Keeps the MBeans in step with the registry from a daemon thread (the JVM must be running) until
    ``stopped`` is set; the caller joins the thread before the JVM goes (a Python thread inside a JPype call
    while the interpreter and JVM shut down crashes the process)."""
    stopped = stopped or threading.Event()
    registered: dict[tuple[str, str], object] = {}

    def loop() -> None:
        while not stopped.wait(SYNC_S):
            try:
                sync(registry, registered)
            except Exception:  # a failed sync must not stop the next one
                log.exception("Could not update the engine's JMX MBeans")

    thread = threading.Thread(target=loop, daemon=True, name="ddbcdc-jmx")
    thread.start()
    return thread
