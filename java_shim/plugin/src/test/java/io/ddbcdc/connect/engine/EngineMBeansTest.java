package io.ddbcdc.connect.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;

/** Two engine processes report one table: its MBean merges them by each attribute's rule and goes with the last. */
class EngineMBeansTest {
    private static final String ATTRIBUTES = "[{\"name\":\"phase\",\"description\":\"d\",\"type\":\"String\","
            + "\"merge\":\"first\"},{\"name\":\"cdc-records\",\"description\":\"d\",\"type\":\"Double\","
            + "\"merge\":\"sum\"},{\"name\":\"cdc-lag-ms-max\",\"description\":\"d\",\"type\":\"Double\","
            + "\"merge\":\"max\"},{\"name\":\"cdc-retention-left-ms-min\",\"description\":\"d\",\"type\":\"Double\","
            + "\"merge\":\"min\"}]";

    private static String snapshot(String values) {
        return "{\"attributes\":" + ATTRIBUTES + ",\"tables\":[{\"connector\":\"c\",\"table\":\"t\",\"values\":"
                + values + "}]}";
    }

    @Test
    void aTablesMBeanMergesItsProcessesAndGoesWithTheLast() throws Exception {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        ObjectName name = new ObjectName("kafka.connect:type=dynamodb-cdc-table-metrics,connector=\"c\",table=\"t\"");
        EngineMBeans.update("a", snapshot("{\"phase\":\"cdc\",\"cdc-records\":3,\"cdc-lag-ms-max\":40,"
                + "\"cdc-retention-left-ms-min\":null}"));
        EngineMBeans.update("b", snapshot("{\"phase\":null,\"cdc-records\":4,\"cdc-lag-ms-max\":250,"
                + "\"cdc-retention-left-ms-min\":900}"));
        assertEquals(name, EngineMBeans.objectName("c", "t"));
        assertEquals("cdc", server.getAttribute(name, "phase"));
        assertEquals(7.0, server.getAttribute(name, "cdc-records"));
        assertEquals(250.0, server.getAttribute(name, "cdc-lag-ms-max"));
        assertEquals(900.0, server.getAttribute(name, "cdc-retention-left-ms-min")); // a process without shards is no 0

        EngineMBeans.update("a", "{\"attributes\":" + ATTRIBUTES + ",\"tables\":[]}");
        assertEquals(4.0, server.getAttribute(name, "cdc-records"));
        EngineMBeans.forget("b");
        assertFalse(server.isRegistered(name));
    }

    @Test
    void nothingReportedReadsZeroOrEmpty() {
        assertEquals(0.0, EngineMBeans.merge("min", "Double", java.util.List.of()));
        assertEquals("", EngineMBeans.merge("first", "String", java.util.List.of()));
        assertTrue(EngineMBeans.merge("sum", "Double", java.util.List.of()) instanceof Double);
    }
}
