package io.ddbcdc.connect;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;

/** Builds Connect's ConfigDef from the property table the Python engine owns (config.py). */
final class ConfigDefinitions {
    private static final ObjectMapper JSON = new ObjectMapper();

    private ConfigDefinitions() {
    }

    static ConfigDef fromJson(String tableJson) {
        List<Map<String, Object>> table;
        try {
            table = JSON.readValue(tableJson, new TypeReference<>() {
            });
        } catch (Exception e) {
            throw new ConfigException("Unreadable property table from the engine: " + e.getMessage());
        }
        ConfigDef def = new ConfigDef();
        for (Map<String, Object> p : table) {
            Object dflt = p.get("default");
            def.define(
                    (String) p.get("name"),
                    ConfigDef.Type.valueOf((String) p.get("type")),
                    Boolean.TRUE.equals(p.get("required")) ? ConfigDef.NO_DEFAULT_VALUE : dflt,
                    ConfigDef.Importance.valueOf((String) p.get("importance")),
                    (String) p.get("documentation"),
                    (String) p.get("group"),
                    ((Number) p.get("orderInGroup")).intValue(),
                    ConfigDef.Width.MEDIUM,
                    (String) p.get("displayName"));
        }
        return def;
    }
}
