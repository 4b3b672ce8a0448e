package io.ddbcdc.connect;

import com.fasterxml.jackson.core.type.TypeReference;
import java.io.InputStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * Amazon DynamoDB CDC source. A thin shim: the property table, validation and the task split
 * come from the Python engine; this class only adapts them to Connect's API.
 */
public class DynamoDbCdcSourceConnector extends SourceConnector {
    static final String VERSION = readVersion();

    private Map<String, String> props;

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public void start(Map<String, String> props) {
        this.props = Map.copyOf(props);
        EngineAccess.startConnector(OffsetsJson.write(this.props)); // fails at once on a worker without the engine
    }

    @Override
    public Class<? extends Task> taskClass() {
        return DynamoDbCdcSourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        String configJson = OffsetsJson.write(props);
        String stored = OffsetsJson.readStored(configJson, context().offsetStorageReader());
        return OffsetsJson.read(EngineAccess.taskConfigs(configJson, maxTasks, stored), new TypeReference<>() {
        });
    }

    @Override
    public void stop() {
    }

    /** The property table from the engine; empty on a worker without it (validate() then says why). */
    @Override
    public ConfigDef config() {
        return EngineAccess.available() ? ConfigDefinitions.fromJson(EngineAccess.configDefinition()) : new ConfigDef();
    }

    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config config = super.validate(connectorConfigs);
        Map<String, ConfigValue> byName = new HashMap<>();
        config.configValues().forEach(v -> byName.put(v.name(), v));
        if (!EngineAccess.available()) {
            ConfigValue v = new ConfigValue("connector.class");
            v.addErrorMessage(EngineAccess.NOT_LAUNCHED);
            config.configValues().add(v);
            return config;
        }
        Map<String, List<String>> problems = OffsetsJson.read(
                EngineAccess.validate(OffsetsJson.write(connectorConfigs)), new TypeReference<>() {
                });
        problems.forEach((name, messages) -> {
            ConfigValue v = byName.get(name);
            if (v == null) {
                v = new ConfigValue(name);
                config.configValues().add(v);
            } else {
                v.errorMessages().clear(); // the engine's message is the one we designed
            }
            messages.forEach(v::addErrorMessage);
        });
        return config;
    }

    private static String readVersion() {
        try (InputStream in = DynamoDbCdcSourceConnector.class.getResourceAsStream("/ddb-cdc-source.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (Exception e) {
            return "unknown";
        }
    }
}
