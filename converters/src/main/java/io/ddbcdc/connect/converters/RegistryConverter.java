package io.ddbcdc.connect.converters;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaAndValue;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.storage.Converter;

/**
 * Base of the schema-registry converters. Registers each record's schema under the subject the
 * strategy names and writes Confluent's wire format: byte 0, the schema id (4 bytes, big-endian),
 * the format's index bytes (Protobuf), then the serialized value. Null values stay null
 * (tombstones). Writing only: Connect calls {@link #toConnectData} for sink connectors, which
 * these converters do not serve.
 *
 * <p>Settings carry Confluent's names, so a configuration works with either family.
 */
public abstract class RegistryConverter implements Converter {
    static final String URL = "schema.registry.url";
    static final String AUTO_REGISTER = "auto.register.schemas";
    static final String KEY_STRATEGY = "key.subject.name.strategy";
    static final String VALUE_STRATEGY = "value.subject.name.strategy";
    static final String REFERENCE_STRATEGY = "reference.subject.name.strategy";
    static final String AUTH_SOURCE = "basic.auth.credentials.source";
    static final String USER_INFO = "basic.auth.user.info";
    static final ConfigDef CONFIG = new ConfigDef()
            .define(URL, ConfigDef.Type.LIST, ConfigDef.NO_DEFAULT_VALUE, ConfigDef.Importance.HIGH,
                    "Schema registry URLs (Confluent's REST API), tried in order.")
            .define(AUTO_REGISTER, ConfigDef.Type.BOOLEAN, true, ConfigDef.Importance.MEDIUM,
                    "Register schemas not yet under their subject; when false, a schema must already be registered.")
            .define(KEY_STRATEGY, ConfigDef.Type.STRING, "TopicNameStrategy", ConfigDef.Importance.MEDIUM,
                    "Key subject: TopicNameStrategy (<topic>-key), RecordNameStrategy (the record's full name) or "
                            + "TopicRecordNameStrategy (<topic>-<record full name>).")
            .define(VALUE_STRATEGY, ConfigDef.Type.STRING, "TopicNameStrategy", ConfigDef.Importance.MEDIUM,
                    "Value subject: TopicNameStrategy (<topic>-value), RecordNameStrategy or TopicRecordNameStrategy.")
            .define(REFERENCE_STRATEGY, ConfigDef.Type.STRING, "DefaultReferenceSubjectNameStrategy",
                    ConfigDef.Importance.LOW, "PROTOBUF: the subject of an imported file: "
                            + "DefaultReferenceSubjectNameStrategy (its path) or QualifiedReferenceSubjectNameStrategy "
                            + "(its path with dots, without .proto).")
            .define(AUTH_SOURCE, ConfigDef.Type.STRING, "", ConfigDef.Importance.LOW,
                    "USER_INFO to authenticate with basic.auth.user.info; empty for none.")
            .define(USER_INFO, ConfigDef.Type.PASSWORD, null, ConfigDef.Importance.LOW,
                    "user:password for HTTP basic authentication (with basic.auth.credentials.source=USER_INFO).");

    private record Registration(String topic, Schema schema) {
    }

    private record Writer(byte[] header, FormattedSchema.Serializer serializer) {
        byte[] write(Object value) {
            byte[] payload = serializer.serialize(value);
            return ByteBuffer.allocate(header.length + payload.length).put(header).put(payload).array();
        }
    }

    private final Map<Schema, FormattedSchema> formatted = new ConcurrentHashMap<>();
    private final Map<Registration, Writer> writers = new ConcurrentHashMap<>();
    private SchemaRegistryClient registry;
    private SubjectNameStrategy strategy;
    private ReferenceSubjectNameStrategy referenceStrategy;
    private boolean autoRegister;
    private boolean isKey;

    /** The format of this converter. */
    protected abstract SchemaFormat format();

    @Override
    public void configure(Map<String, ?> configs, boolean isKey) {
        AbstractConfig config = new AbstractConfig(CONFIG, configs);
        this.isKey = isKey;
        String strategyProperty = isKey ? KEY_STRATEGY : VALUE_STRATEGY;
        strategy = SubjectNameStrategy.parse(strategyProperty, config.getString(strategyProperty));
        referenceStrategy = ReferenceSubjectNameStrategy.parse(REFERENCE_STRATEGY, config.getString(REFERENCE_STRATEGY));
        autoRegister = config.getBoolean(AUTO_REGISTER);
        Password userInfo = config.getPassword(USER_INFO);
        boolean basic = "USER_INFO".equals(config.getString(AUTH_SOURCE));
        registry = new SchemaRegistryClient(config.getList(URL), basic && userInfo != null ? userInfo.value() : null);
    }

    @Override
    public ConfigDef config() {
        return CONFIG;
    }

    @Override
    public byte[] fromConnectData(String topic, Schema schema, Object value) {
        if (value == null) {
            return null;
        }
        if (schema == null) {
            throw new DataException(getClass().getSimpleName() + " needs records with a schema; topic " + topic
                    + " got a schemaless " + (isKey ? "key" : "value"));
        }
        return writers.computeIfAbsent(new Registration(topic, schema), r -> writer(topic, schema)).write(value);
    }

    private Writer writer(String topic, Schema schema) {
        FormattedSchema f = formatted.computeIfAbsent(schema, format()::describe);
        String subject = strategy.subject(topic, isKey, f.recordName());
        List<SchemaRegistryClient.Reference> references = references(f);
        int id;
        if (autoRegister) {
            id = registry.register(subject, f.type(), f.text(), references);
        } else {
            SchemaRegistryClient.Registered found = registry.lookup(subject, f.type(), f.text(), references);
            if (found == null) {
                throw new DataException("Subject " + subject + " does not hold the schema of topic " + topic
                        + "'s " + (isKey ? "keys" : "values") + " and " + AUTO_REGISTER + "=false:\n" + f.text());
            }
            id = found.id();
        }
        byte[] header = ByteBuffer.allocate(5 + f.indexes().length).put((byte) 0).putInt(id).put(f.indexes()).array();
        return new Writer(header, f.serializer());
    }

    /** Registers (or finds) each imported schema, its own imports first, under the reference strategy's subject. */
    private List<SchemaRegistryClient.Reference> references(FormattedSchema f) {
        List<SchemaRegistryClient.Reference> out = new ArrayList<>();
        for (FormattedSchema.Dependency dependency : f.dependencies()) {
            FormattedSchema imported = dependency.schema();
            String subject = referenceStrategy.subject(dependency.name());
            List<SchemaRegistryClient.Reference> nested = references(imported);
            SchemaRegistryClient.Registered found = registry.lookup(subject, imported.type(), imported.text(), nested);
            if (found == null && autoRegister) {
                registry.register(subject, imported.type(), imported.text(), nested);
                found = registry.lookup(subject, imported.type(), imported.text(), nested);
            }
            if (found == null) {
                throw new DataException("Subject " + subject + " does not hold the imported schema "
                        + dependency.name() + " and " + AUTO_REGISTER + "=false");
            }
            out.add(new SchemaRegistryClient.Reference(dependency.name(), subject, found.version()));
        }
        return out;
    }

    @Override
    public SchemaAndValue toConnectData(String topic, byte[] value) {
        throw new DataException(getClass().getName() + " only writes records (for source connectors); read topic "
                + topic + " with a Schema Registry-aware deserializer or converter");
    }

    @Override
    public String version() {
        try (InputStream in = RegistryConverter.class.getResourceAsStream("/ddb-cdc-converters.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
