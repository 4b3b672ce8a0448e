package io.ddbcdc.connect.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import javax.management.JMException;
import javax.management.MBeanServer;
import javax.management.ObjectName;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine processes' per-table metrics as JMX MBeans, with the names the launcher registers
 * ({@code kafka.connect:type=dynamodb-cdc-table-metrics,connector=<c>,table=<t>}, python_connector/jvm/jmx.py): each
 * engine process sends its snapshot (python_connector/metrics/tables.py), and a table's MBean merges those of every
 * process that reports the table. An MBean goes when no process reports its table any more.
 */
final class EngineMBeans {
    private static final Logger LOG = LoggerFactory.getLogger(EngineMBeans.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DOMAIN_TYPE = "kafka.connect:type=dynamodb-cdc-table-metrics";
    private static final Map<ObjectName, TableMBean> BEANS = new ConcurrentHashMap<>();

    private EngineMBeans() {
    }

    /** Takes one engine process's snapshot: {"attributes": [...], "tables": [{connector, table, values}]}. */
    static synchronized void update(String source, String snapshotJson) {
        JsonNode snapshot;
        try {
            snapshot = JSON.readTree(snapshotJson);
        } catch (IOException e) {
            throw new IllegalArgumentException("unreadable metrics snapshot: " + e.getMessage(), e);
        }
        Set<ObjectName> reported = new HashSet<>();
        for (JsonNode table : snapshot.path("tables")) {
            ObjectName name = objectName(table.path("connector").asText(), table.path("table").asText());
            reported.add(name);
            BEANS.computeIfAbsent(name, n -> register(n, new TableMBean(table.path("table").asText(),
                    snapshot.path("attributes")))).report(source, table.path("values"));
        }
        dropUnreported(source, reported);
    }

    /** A process that ended reports nothing any more. */
    static synchronized void forget(String source) {
        dropUnreported(source, Set.of());
    }

    private static void dropUnreported(String source, Set<ObjectName> reported) {
        BEANS.entrySet().removeIf(entry -> {
            if (reported.contains(entry.getKey()) || !entry.getValue().forget(source)) {
                return false;
            }
            unregister(entry.getKey());
            return true;
        });
    }

    static ObjectName objectName(String connector, String table) {
        try {
            return new ObjectName(DOMAIN_TYPE + ",connector=" + ObjectName.quote(connector) + ",table="
                    + ObjectName.quote(table));
        } catch (JMException e) {
            throw new IllegalArgumentException(e);
        }
    }

    private static TableMBean register(ObjectName name, TableMBean bean) {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        try {
            if (server.isRegistered(name)) {
                server.unregisterMBean(name); // left by a connector that went away with a previous engine
            }
            server.registerMBean(bean, name);
        } catch (JMException e) {
            LOG.warn("Could not register the JMX MBean {}: {}", name, e.getMessage());
        }
        return bean;
    }

    private static void unregister(ObjectName name) {
        try {
            ManagementFactory.getPlatformMBeanServer().unregisterMBean(name);
        } catch (JMException e) {
            LOG.debug("Could not unregister the JMX MBean {}: {}", name, e.getMessage());
        }
    }

    /** Reads of a table's attributes merge the processes' values; nothing yet reads 0 ("" for text). */
    static Object merge(String merge, String type, Iterable<JsonNode> values) {
        Double number = null;
        for (JsonNode v : values) {
            if (v == null || v.isNull()) {
                continue;
            }
            if ("String".equals(type)) {
                return v.asText();
            }
            double d = v.asDouble();
            number = number == null ? d : switch (merge) {
                case "max" -> Math.max(number, d);
                case "min" -> Math.min(number, d);
                case "first" -> number;
                default -> number + d;
            };
        }
        return "String".equals(type) ? "" : Objects.requireNonNullElse(number, 0.0);
    }
}
