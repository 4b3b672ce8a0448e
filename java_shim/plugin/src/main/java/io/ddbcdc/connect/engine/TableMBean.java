package io.ddbcdc.connect.engine;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.management.Attribute;
import javax.management.AttributeList;
import javax.management.AttributeNotFoundException;
import javax.management.DynamicMBean;
import javax.management.MBeanAttributeInfo;
import javax.management.MBeanInfo;
import javax.management.ReflectionException;

/** One table's metrics over the engine processes that report it; the attributes are the engine's. */
final class TableMBean implements DynamicMBean {
    private record Spec(String description, String type, String merge) {
    }

    private final Map<String, Spec> specs = new LinkedHashMap<>();
    private final Map<String, JsonNode> bySource = new ConcurrentHashMap<>();
    private final MBeanInfo info;

    TableMBean(String table, JsonNode attributes) {
        List<MBeanAttributeInfo> infos = new ArrayList<>();
        for (JsonNode a : attributes) {
            Spec spec = new Spec(a.path("description").asText(), a.path("type").asText(), a.path("merge").asText());
            specs.put(a.path("name").asText(), spec);
            infos.add(new MBeanAttributeInfo(a.path("name").asText(), "java.lang." + spec.type(), spec.description(),
                    true, false, false));
        }
        info = new MBeanInfo("io.ddbcdc.TableMetrics", "DynamoDB CDC metrics of table " + table,
                infos.toArray(MBeanAttributeInfo[]::new), null, null, null);
    }

    void report(String source, JsonNode values) {
        bySource.put(source, values);
    }

    /** Forgets a source; true when no source is left. */
    boolean forget(String source) {
        bySource.remove(source);
        return bySource.isEmpty();
    }

    @Override
    public Object getAttribute(String name) throws AttributeNotFoundException {
        if (!specs.containsKey(name)) {
            throw new AttributeNotFoundException(name);
        }
        return read(name);
    }

    private Object read(String name) {
        Spec spec = specs.get(name);
        return EngineMBeans.merge(spec.merge(), spec.type(), bySource.values().stream().map(v -> v.get(name)).toList());
    }

    @Override
    public AttributeList getAttributes(String[] names) {
        AttributeList list = new AttributeList();
        for (String name : names) {
            if (specs.containsKey(name)) {
                list.add(new Attribute(name, read(name)));
            }
        }
        return list;
    }

    @Override
    public void setAttribute(Attribute attribute) throws AttributeNotFoundException {
        throw new AttributeNotFoundException("read-only: " + attribute.getName());
    }

    @Override
    public AttributeList setAttributes(AttributeList attributes) {
        return new AttributeList();
    }

    @Override
    public Object invoke(String action, Object[] params, String[] signature) throws ReflectionException {
        throw new ReflectionException(new UnsupportedOperationException(action));
    }

    @Override
    public MBeanInfo getMBeanInfo() {
        return info;
    }
}
