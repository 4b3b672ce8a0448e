package io.ddbcdc.connect.converters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;
import org.apache.kafka.connect.storage.Converter;
import org.junit.jupiter.api.Test;

class RegistryConverterTest {
    private static Converter converter(RegistryConverter converter, FakeRegistry registry, boolean isKey,
                                       String... settings) {
        Map<String, String> config = new HashMap<>(Map.of("schema.registry.url", registry.url()));
        for (int i = 0; i < settings.length; i += 2) {
            config.put(settings[i], settings[i + 1]);
        }
        converter.configure(config, isKey);
        return converter;
    }

    private static int schemaId(byte[] framed) {
        assertEquals(0, framed[0]);
        return ByteBuffer.wrap(framed, 1, 4).getInt();
    }

    @Test
    void topicNameStrategyRegistersUnderTopicValueOnceAndFramesWithTheId() throws Exception {
        try (FakeRegistry registry = new FakeRegistry()) {
            Converter c = converter(new AvroConverter(), registry, false);
            byte[] first = c.fromConnectData("orders", Schemas.ENVELOPE, Schemas.envelope("r", null, "{}"));
            byte[] second = c.fromConnectData("orders", Schemas.ENVELOPE, Schemas.envelope("c", null, "{}"));
            assertEquals(List.of("orders-value"), List.copyOf(registry.subjects.keySet()));
            assertEquals(schemaId(first), schemaId(second));
            assertEquals(1, registry.calls.size()); // cached after the first record
            assertTrue(registry.content(schemaId(first)).get("schema").asText().contains("\"Envelope\""));
            assertNull(c.fromConnectData("orders", Schemas.ENVELOPE, null)); // a tombstone stays null
        }
    }

    @Test
    void aRegistrationRefusedBecauseTheSubjectHoldsTheSchemaTakesItsIdAndAnIncompatibleOneFails() throws Exception {
        try (FakeRegistry registry = new FakeRegistry()) {
            registry.conflictWhenHeld = true;
            byte[] first = converter(new AvroConverter(), registry, false)
                    .fromConnectData("orders", Schemas.ENVELOPE, Schemas.envelope("r", null, "{}"));
            byte[] second = converter(new AvroConverter(), registry, false) // another task, registering later
                    .fromConnectData("orders", Schemas.ENVELOPE, Schemas.envelope("r", null, "{}"));
            assertEquals(schemaId(first), schemaId(second));
            assertEquals(List.of("POST /subjects/orders-value/versions", "POST /subjects/orders-value/versions",
                    "POST /subjects/orders-value"), registry.calls);

            DataException incompatible = assertThrows(DataException.class, () -> converter(new AvroConverter(),
                    registry, false).fromConnectData("orders", Schema.STRING_SCHEMA, "not the envelope"));
            assertTrue(incompatible.getMessage().contains("answered 409"), incompatible.getMessage());
        }
    }

    @Test
    void recordAndTopicRecordStrategiesUseTheRecordsFullName() throws Exception {
        try (FakeRegistry registry = new FakeRegistry()) {
            converter(new AvroConverter(), registry, true, "key.subject.name.strategy", "RecordNameStrategy")
                    .fromConnectData("t", Schemas.KEY, new org.apache.kafka.connect.data.Struct(Schemas.KEY)
                            .put("pk", "a").put("raw", new byte[0]));
            converter(new JsonSchemaConverter(), registry, false, "value.subject.name.strategy",
                    "io.confluent.kafka.serializers.subject.TopicRecordNameStrategy")
                    .fromConnectData("t", Schemas.ENVELOPE, Schemas.envelope("r", null, "{}"));
            assertEquals(List.of("io.confluent.connect.dynamodb.orders_2024.Key",
                    "t-io.confluent.connect.dynamodb.orders-2024.Envelope"), List.copyOf(registry.subjects.keySet()));
            assertEquals("JSON", registry.content(2).get("schemaType").asText());
        }
    }

    @Test
    void protobufRegistersImportsFirstUnderTheReferenceStrategysSubjects() throws Exception {
        try (FakeRegistry registry = new FakeRegistry()) {
            byte[] framed = converter(new ProtobufConverter(), registry, false, "reference.subject.name.strategy",
                    "QualifiedReferenceSubjectNameStrategy")
                    .fromConnectData("t", Schemas.ENVELOPE, Schemas.envelope("r", null, "{}"));
            assertEquals(List.of("io.confluent.connector.dynamodb.Source", "io.confluent.connect.dynamodb.orders_2024.Value",
                    "t-value"), List.copyOf(registry.subjects.keySet()));
            assertEquals(0, framed[5]); // message indexes [0]
            var references = registry.content(schemaId(framed)).get("references");
            assertEquals("io/confluent/connector/dynamodb/Source.proto", references.get(0).get("name").asText());
            assertEquals("io.confluent.connector.dynamodb.Source", references.get(0).get("subject").asText());
            assertEquals(1, references.get(0).get("version").asInt());

            converter(new ProtobufConverter(), registry, false)
                    .fromConnectData("u", Schemas.ENVELOPE, Schemas.envelope("r", null, "{}"));
            assertTrue(registry.subjects.containsKey("io/confluent/connector/dynamodb/Source.proto"));
        }
    }

    @Test
    void withoutAutoRegisterAnUnregisteredSchemaFailsNamingTheSubject() throws Exception {
        try (FakeRegistry registry = new FakeRegistry()) {
            Converter c = converter(new AvroConverter(), registry, false, "auto.register.schemas", "false");
            DataException e = assertThrows(DataException.class,
                    () -> c.fromConnectData("orders", Schemas.ENVELOPE, Schemas.envelope("r", null, "{}")));
            assertTrue(e.getMessage().contains("orders-value"), e.getMessage());
            converter(new AvroConverter(), registry, false)
                    .fromConnectData("orders", Schemas.ENVELOPE, Schemas.envelope("r", null, "{}"));
            assertEquals(1, schemaId(c.fromConnectData("orders", Schemas.ENVELOPE, Schemas.envelope("r", null, "{}"))));
        }
    }

    @Test
    void badSettingsAndSchemalessRecordsAreRefusedPlainly() throws Exception {
        try (FakeRegistry registry = new FakeRegistry()) {
            ConfigException bad = assertThrows(ConfigException.class, () -> converter(new AvroConverter(), registry,
                    false, "value.subject.name.strategy", "TopicStrategy"));
            assertTrue(bad.getMessage().contains("TopicRecordNameStrategy"), bad.getMessage());
            Converter c = converter(new AvroConverter(), registry, false, "value.subject.name.strategy",
                    "RecordNameStrategy");
            assertThrows(DataException.class, () -> c.fromConnectData("t", null, "x"));
            DataException unnamed = assertThrows(DataException.class,
                    () -> c.fromConnectData("t", Schema.STRING_SCHEMA, "x"));
            assertTrue(unnamed.getMessage().contains("TopicNameStrategy"), unnamed.getMessage());
            assertThrows(DataException.class, () -> c.toConnectData("t", new byte[] {0, 0, 0, 0, 1}));
        }
    }
}
