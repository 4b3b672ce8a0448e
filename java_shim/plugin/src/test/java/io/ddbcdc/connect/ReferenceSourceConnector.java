package io.ddbcdc.connect;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.source.SourceConnector;

/**
 * Benchmarks only (the plugin's test jar, never its archive): a source that emits, from memory, exactly the records
 * our connector would emit for the bench's items, so its CPU per record is what any Connect source pays for this
 * work through the same worker, converter and producer: Connect's floor. See {@link ReferenceSourceTask}.
 */
public class ReferenceSourceConnector extends SourceConnector {
    static final String BATCH_FILE = "reference.batch.file";
    static final String RECORDS = "reference.records";
    static final String BATCH_RECORDS = "reference.batch.records";

    private Map<String, String> props;

    @Override
    public void start(Map<String, String> props) {
        this.props = props;
    }

    @Override
    public Class<? extends Task> taskClass() {
        return ReferenceSourceTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new ArrayList<>();
        for (int i = 0; i < maxTasks; i++) {
            configs.add(props);
        }
        return configs;
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return new ConfigDef()
                .define(BATCH_FILE, ConfigDef.Type.STRING, ConfigDef.Importance.HIGH,
                        "A batch in the engine's wire format (python_connector/records/wire.py): the records to emit")
                .define(RECORDS, ConfigDef.Type.LONG, ConfigDef.Importance.HIGH, "Records each task emits in all")
                .define(BATCH_RECORDS, ConfigDef.Type.INT, 5000, ConfigDef.Importance.MEDIUM,
                        "Records per poll (our task returns up to max.batch.size)");
    }

    @Override
    public String version() {
        return DynamoDbCdcSourceConnector.VERSION;
    }
}
