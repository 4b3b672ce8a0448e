package io.ddbcdc.connect;

import com.fasterxml.jackson.core.type.TypeReference;
import io.ddbcdc.connect.engine.EngineTransport;
import io.ddbcdc.connect.engine.Engines;
import io.ddbcdc.connect.engine.PluginFiles;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.runtime.rest.errors.BadRequestException;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Amazon DynamoDB CDC source. A thin shim: the property table, validation and the task split
 * come from the Python engine (in the worker's process under our launcher, else in a child
 * process: {@link Engines}); this class only adapts them to Connect's API.
 */
public class DynamoDbCdcSourceConnector extends SourceConnector {
    static final String VERSION = PluginFiles.VERSION;

    private static final Logger LOG = LoggerFactory.getLogger(DynamoDbCdcSourceConnector.class);
    /** Where the discovered table set travels back to the engine, as a JSON list. */
    static final String TABLES_KEY = "ddbcdc.tables";

    private Map<String, String> props;
    private EngineTransport engine;
    private volatile List<String> tables = List.of();
    private ScheduledExecutorService discovery;

    @Override
    public String version() {
        return VERSION;
    }

    @Override
    public void start(Map<String, String> props) {
        this.props = Map.copyOf(props);
        String configJson = OffsetsJson.write(this.props);
        engine = Engines.connectorSide(this.props); // fails at once, saying how to fix it, without an engine
        engine.startConnector(configJson);
        Discovered found = discover(configJson);
        tables = found.tables();
        LOG.info("Connector {} captures tables {}", props.get("name"), tables);
        if (found.intervalMs() > 0) {
            discovery = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "ddbcdc-discovery-" + props.get("name"));
                t.setDaemon(true);
                return t;
            });
            discovery.scheduleWithFixedDelay(() -> rediscover(configJson), found.intervalMs(), found.intervalMs(),
                    TimeUnit.MILLISECONDS);
        }
    }

    private record Discovered(List<String> tables, long intervalMs) {
    }

    private Discovered discover(String configJson) {
        Map<String, Object> answer = OffsetsJson.read(engine.discoverTables(configJson), new TypeReference<>() {
        });
        @SuppressWarnings("unchecked")
        List<String> names = (List<String>) answer.get("tables");
        return new Discovered(List.copyOf(names), ((Number) answer.get("intervalMs")).longValue());
    }

    /** Asks Connect for new task configurations when the table set changed; a failed look keeps the old set. */
    private void rediscover(String configJson) {
        try {
            List<String> now = discover(configJson).tables();
            if (!now.equals(tables)) {
                List<String> gone = tables.stream().filter(t -> !now.contains(t)).toList();
                List<String> added = now.stream().filter(t -> !tables.contains(t)).toList();
                LOG.info("Connector {}: tables now matching {}; no longer read (offsets kept) {}; reconfiguring tasks",
                        props.get("name"), added, gone);
                tables = now;
                context().requestTaskReconfiguration();
            }
        } catch (RuntimeException e) {
            LOG.warn("Connector {}: table discovery failed, keeping tables {}: {}", props.get("name"), tables,
                    e.getMessage());
        }
    }

    /** The configuration with the current table set, as the engine reads it back. */
    private String configWithTables() {
        Map<String, String> withTables = new HashMap<>(props);
        withTables.put(TABLES_KEY, OffsetsJson.write(tables));
        return OffsetsJson.write(withTables);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return DynamoDbCdcSourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        String configJson = configWithTables();
        String stored = OffsetsJson.readStored(engine, configJson, context().offsetStorageReader());
        return OffsetsJson.read(engine.taskConfigs(configJson, maxTasks, stored), new TypeReference<>() {
        });
    }

    @Override
    public void stop() {
        if (discovery != null) {
            discovery.shutdownNow();
        }
    }

    /**
     * Offsets edited (PATCH) or reset (DELETE) through Connect's REST API: the engine says which edits it
     * refuses (only TypeC may be edited), and a refusal answers 400 with its reason.
     */
    @Override
    public boolean alterOffsets(Map<String, String> connectorConfig, Map<Map<String, ?>, Map<String, ?>> offsets) {
        List<Map<String, Object>> entries = new ArrayList<>();
        offsets.forEach((partition, offset) -> {
            Map<String, Object> entry = new HashMap<>();
            entry.put("partition", partition);
            entry.put("offset", offset);
            entries.add(entry);
        });
        String refusal = Engines.connectorSide(connectorConfig).alterOffsets(OffsetsJson.write(connectorConfig),
                OffsetsJson.write(entries));
        if (refusal != null) {
            throw new BadRequestException(refusal);
        }
        return true;
    }

    /**
     * Every position a task resumes from travels in its records' offsets, and lease checkpoints are written
     * only after Connect commits, never ahead of it: with the worker's transactions (KIP-618) delivery is
     * exactly-once. A poll's batch is the transaction (the worker's default boundary).
     */
    @Override
    public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
        return ExactlyOnceSupport.SUPPORTED;
    }

    /** The property table from the engine; empty when no engine starts (validate() then says why). */
    @Override
    public ConfigDef config() {
        try {
            return ConfigDefinitions.fromJson(Engines.connectorSide(Map.of()).configDefinition());
        } catch (ConnectException | ConfigException e) {
            LOG.warn("No property table from the DynamoDB CDC engine: {}", e.getMessage());
            return new ConfigDef();
        }
    }

    /** Connect's validation of our table, with the engine's own messages and any reason it cannot run here. */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        EngineTransport checker;
        ConfigDef definition;
        try {
            String unavailable = Engines.unavailable(connectorConfigs);
            if (unavailable != null) {
                return refused(connectorConfigs, Engines.MODE, unavailable);
            }
            checker = Engines.connectorSide(connectorConfigs);
            definition = ConfigDefinitions.fromJson(checker.configDefinition());
        } catch (ConfigException e) {
            return refused(connectorConfigs, Engines.MODE, e.getMessage());
        } catch (ConnectException e) {
            return refused(connectorConfigs, Engines.PYTHON, e.getMessage());
        }
        Config config = new Config(definition.validate(connectorConfigs));
        Map<String, ConfigValue> byName = new HashMap<>();
        config.configValues().forEach(v -> byName.put(v.name(), v));
        Map<String, List<String>> problems = OffsetsJson.read(
                checker.validate(OffsetsJson.write(connectorConfigs)), new TypeReference<>() {
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

    /** Connect's own validation against config() (every property there needs a value), plus why we cannot run. */
    private Config refused(Map<String, String> connectorConfigs, String property, String why) {
        Config config = super.validate(connectorConfigs);
        ConfigValue v = config.configValues().stream().filter(c -> c.name().equals(property)).findFirst()
                .orElseGet(() -> {
                    ConfigValue added = new ConfigValue(property);
                    config.configValues().add(added);
                    return added;
                });
        v.addErrorMessage(why);
        return config;
    }
}
