"""The engine's metrics as JMX MBeans: registered per connector and table in the JVM's platform server, read
through JMX as a JMX client would, and removed with their table."""

import jpype
import pytest

from python_connector.jvm import jmx
from python_connector.metrics.registry import Registry
from tests.integration import jvm

pytestmark = pytest.mark.local_stack  # runs worker processes or a JVM of its own


def test_a_tables_metrics_are_an_mbean_in_connects_style_and_go_with_it():
    jvm.start()
    registry = Registry()
    labels = {"connector": "c1", "table": "orders"}
    registry.set("ddbcdc_table_phase", 1, phase="cdc", **labels)
    registry.add("ddbcdc_snapshot_items_read_total", 700, task="0", **labels)
    registry.add("ddbcdc_snapshot_items_read_total", 300, task="1", **labels)
    registry.set("ddbcdc_cdc_lag_ms", 40, shard="s1", **labels)
    registry.set("ddbcdc_cdc_lag_ms", 250, shard="s2", **labels)
    registered = {}
    jmx.sync(registry, registered)
    server = jpype.JClass("java.lang.management.ManagementFactory").getPlatformMBeanServer()
    name = jpype.JClass("javax.management.ObjectName")(
        'kafka.connect:type=dynamodb-cdc-table-metrics,connector="c1",table="orders"')
    assert server.isRegistered(name)
    assert str(server.getAttribute(name, "phase")) == "cdc"
    assert float(server.getAttribute(name, "snapshot-items-read")) == 1000
    assert float(server.getAttribute(name, "cdc-lag-ms-max")) == 250
    listed = {str(a.getName()) for a in server.getMBeanInfo(name).getAttributes()}
    assert listed == set(jmx.ATTRIBUTES)

    registry.forget(connector="c1")
    jmx.sync(registry, registered)
    assert not server.isRegistered(name)
