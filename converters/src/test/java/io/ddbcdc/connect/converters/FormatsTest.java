package io.ddbcdc.connect.converters;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;
import org.junit.jupiter.api.Test;

class FormatsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static GenericRecord readAvro(FormattedSchema f, byte[] bytes) throws IOException {
        org.apache.avro.Schema schema = new org.apache.avro.Schema.Parser().parse(f.text());
        return (GenericRecord) new GenericDatumReader<>(schema).read(null,
                DecoderFactory.get().binaryDecoder(bytes, null));
    }

    @Test
    void avroEnvelopeHasTheDocumentedNamesAndNullableFieldsDefaultingToNull() throws IOException {
        FormattedSchema f = new AvroFormat().describe(Schemas.ENVELOPE);
        JsonNode schema = JSON.readTree(f.text());
        assertEquals("Envelope", schema.get("name").asText());
        assertEquals("io.confluent.connect.dynamodb.orders_2024", schema.get("namespace").asText());
        assertEquals("io.confluent.connect.dynamodb.orders-2024.Envelope", schema.get("connect.name").asText());
        assertEquals("io.confluent.connect.dynamodb.orders_2024.Envelope", f.recordName());
        JsonNode source = schema.get("fields").get(1);
        assertEquals("null", source.get("type").get(0).asText());
        assertTrue(source.get("default").isNull());
        assertEquals("io.confluent.connector.dynamodb", source.get("type").get(1).get("namespace").asText());
        JsonNode version = source.get("type").get(1).get("fields").get(0);
        assertEquals("[\"null\",\"string\"]", version.get("type").toString());
        assertTrue(version.get("default").isNull());
        // "after" refers by name (relative to the namespace) to the Value record defined for "before"
        assertEquals("Value", schema.get("fields").get(2).get("type").get(1).get("name").asText());
        assertEquals("Value", schema.get("fields").get(3).get("type").get(1).asText());

        GenericRecord read = readAvro(f, f.serializer().serialize(Schemas.envelope("u", "{\"a\":1}", "{\"a\":2}")));
        assertEquals("u", read.get("op").toString());
        assertEquals("orders-2024", ((GenericRecord) read.get("source")).get("tableName").toString());
        assertNull(((GenericRecord) read.get("source")).get("segment"));
        assertEquals("{\"a\":2}", ((GenericRecord) read.get("after")).get("document").toString());
        assertNull(readAvro(f, f.serializer().serialize(Schemas.envelope("c", null, "{}"))).get("before"));
    }

    @Test
    void avroWritesEveryConnectTypeIncludingLogicalTypesAndMaps() throws IOException {
        FormattedSchema f = new AvroFormat().describe(Schemas.EVERYTHING);
        GenericRecord read = readAvro(f, f.serializer().serialize(Schemas.everything()));
        assertEquals(-3, read.get("i8"));
        assertEquals(ByteBuffer.wrap(new java.math.BigInteger("1234").toByteArray()), read.get("amount"));
        assertEquals(3, read.get("day"));
        assertEquals(1_700_000_000_123L, read.get("at"));
        assertEquals(7L, ((java.util.Map<?, ?>) read.get("counts")).values().iterator().next());
        GenericRecord entry = (GenericRecord) ((List<?>) read.get("by_id")).get(0);
        assertEquals(4, entry.get("key"));
        assertEquals("io.confluent.connect.avro.MapEntry", entry.getSchema().getFullName());
        assertNull(read.get("inner"));
        JsonNode amount = JSON.readTree(f.text()).get("fields").get(4).get("type");
        assertEquals("decimal", amount.get("logicalType").asText());
        assertEquals(2, amount.get("scale").asInt());
    }

    @Test
    void jsonSchemaTitlesStructsAndMakesOptionalFieldsNullable() throws IOException {
        FormattedSchema f = new JsonSchemaFormat().describe(Schemas.ENVELOPE);
        JsonNode schema = JSON.readTree(f.text());
        assertEquals("http://json-schema.org/draft-07/schema#", schema.get("$schema").asText());
        assertEquals("io.confluent.connect.dynamodb.orders-2024.Envelope", schema.get("title").asText());
        assertEquals("io.confluent.connect.dynamodb.orders-2024.Envelope", f.recordName());
        assertEquals("[\"op\"]", schema.get("required").toString());
        JsonNode source = schema.get("properties").get("source");
        assertEquals(1, source.get("connect.index").asInt());
        assertEquals("io.confluent.connector.dynamodb.Source", source.get("oneOf").get(1).get("title").asText());
        assertEquals("int64", source.get("oneOf").get(1).get("properties").get("ts_ms").get("connect.type").asText());
        JsonNode payload = JSON.readTree(f.serializer().serialize(Schemas.envelope("d", "{}", null)));
        assertTrue(payload.get("after").isNull());
        assertEquals("orders-2024", payload.get("source").get("tableName").asText());

        JsonNode key = JSON.readTree(new JsonSchemaFormat().describe(Schemas.KEY).serializer()
                .serialize(new Struct(Schemas.KEY).put("pk", "p").put("raw", new byte[] {1, 2})));
        assertEquals("AQI=", key.get("raw").asText()); // bytes as base64
    }

    @Test
    void protobufPutsEachNamedStructInItsOwnImportedFile() throws Exception {
        FormattedSchema f = new ProtobufFormat().describe(Schemas.ENVELOPE);
        assertEquals("io.confluent.connect.dynamodb.orders_2024.Envelope", f.recordName());
        assertArrayEquals(new byte[] {0}, f.indexes());
        assertEquals("""
                syntax = "proto3";
                package io.confluent.connect.dynamodb.orders_2024;

                import "io/confluent/connector/dynamodb/Source.proto";
                import "io/confluent/connect/dynamodb/orders_2024/Value.proto";

                message Envelope {
                  string op = 1;
                  .io.confluent.connector.dynamodb.Source source = 2;
                  .io.confluent.connect.dynamodb.orders_2024.Value before = 3;
                  .io.confluent.connect.dynamodb.orders_2024.Value after = 4;
                }
                """, f.text());
        assertEquals(List.of("io/confluent/connector/dynamodb/Source.proto",
                "io/confluent/connect/dynamodb/orders_2024/Value.proto"),
                f.dependencies().stream().map(FormattedSchema.Dependency::name).toList());
        assertEquals("""
                syntax = "proto3";
                package io.confluent.connector.dynamodb;

                message Source {
                  optional string version = 1;
                  string tableName = 2;
                  int64 ts_ms = 3;
                  optional int32 segment = 4;
                }
                """, f.dependencies().get(0).schema().text());

        byte[] bytes = f.serializer().serialize(Schemas.envelope("c", null, "{\"a\":1}"));
        Descriptors.Descriptor d = envelopeDescriptor();
        DynamicMessage read = DynamicMessage.parseFrom(d, bytes);
        assertEquals("c", read.getField(d.findFieldByName("op")));
        assertFalse(read.hasField(d.findFieldByName("before")));
        DynamicMessage source = (DynamicMessage) read.getField(d.findFieldByName("source"));
        assertFalse(source.hasField(source.getDescriptorForType().findFieldByName("segment")));
    }

    private static Descriptors.Descriptor envelopeDescriptor() throws Exception {
        ProtobufSchemas.ProtoFile root = new ProtobufSchemas().root(Schemas.ENVELOPE);
        Descriptors.FileDescriptor[] imports = new Descriptors.FileDescriptor[root.imports().size()];
        for (int i = 0; i < imports.length; i++) {
            imports[i] = Descriptors.FileDescriptor.buildFrom(root.imports().get(i).proto(),
                    new Descriptors.FileDescriptor[0]);
        }
        return Descriptors.FileDescriptor.buildFrom(root.proto(), imports).getMessageTypes().get(0);
    }

    @Test
    void protobufWritesMapsArraysAndUnnamedStructsAsNestedMessages() throws Exception {
        FormattedSchema f = new ProtobufFormat().describe(Schemas.EVERYTHING);
        assertTrue(f.text().contains("  map<string, int64> counts = 9;\n"), f.text());
        assertTrue(f.text().contains("  map<int32, .test.Everything.ConnectDefault1> by_id = 10;\n"), f.text());
        assertTrue(f.text().contains("  repeated string tags = 8;\n"), f.text());
        assertTrue(f.text().contains("  optional double f64 = 3;\n"), f.text());
        assertTrue(f.text().contains("  message ConnectDefault1 {\n    int32 x = 1;\n  }\n"), f.text());
        byte[] bytes = f.serializer().serialize(Schemas.everything());
        Descriptors.Descriptor d = Descriptors.FileDescriptor.buildFrom(new ProtobufSchemas().root(Schemas.EVERYTHING)
                .proto(), new Descriptors.FileDescriptor[0]).getMessageTypes().get(0);
        DynamicMessage read = DynamicMessage.parseFrom(d, bytes);
        assertEquals(-3, read.getField(d.findFieldByName("i8")));
        assertEquals(2, read.getRepeatedFieldCount(d.findFieldByName("tags")));
        assertEquals(3, read.getField(d.findFieldByName("day")));
    }

    @Test
    void protobufRefusesWhatItCannotHold() {
        Schema nested = SchemaBuilder.struct().name("x.Y")
                .field("grid", SchemaBuilder.array(SchemaBuilder.array(Schema.INT32_SCHEMA).build()).build()).build();
        assertThrows(DataException.class, () -> new ProtobufFormat().describe(nested));
        assertThrows(DataException.class, () -> new ProtobufFormat().describe(Schema.STRING_SCHEMA));
        Schema list = SchemaBuilder.struct().name("x.Z")
                .field("xs", SchemaBuilder.array(Schema.OPTIONAL_STRING_SCHEMA).build()).build();
        java.util.List<String> withNull = new java.util.ArrayList<>();
        withNull.add(null);
        Struct value = new Struct(list).put("xs", withNull);
        assertThrows(DataException.class, () -> new ProtobufFormat().describe(list).serializer().serialize(value));
    }
}
