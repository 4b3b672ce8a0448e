package io.ddbcdc.connect.converters;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import java.nio.ByteBuffer;
import java.util.List;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

/**
 * Typed documents (document.content.format=schema) in every format: nested optional structs, arrays of
 * structs, bytes, and the attribute's own name as the field's doc.
 */
class TypedDocumentFormatsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Schema ADDRESS = SchemaBuilder.struct().name("io.confluent.connect.dynamodb.t.Document_a_1")
            .optional().doc("address").field("city", SchemaBuilder.string().optional().doc("city").build()).build();
    private static final Schema LINE = SchemaBuilder.struct().name("io.confluent.connect.dynamodb.t.Document_l_items_1")
            .field("qty", SchemaBuilder.int64().optional().doc("qty").build()).build();
    private static final Schema DOCUMENT = SchemaBuilder.struct().name("io.confluent.connect.dynamodb.t.Document")
            .optional()
            .field("_ddbx_first_name_1b836d86806e", SchemaBuilder.string().optional().doc("first name").build())
            .field("a", ADDRESS)
            .field("blob", SchemaBuilder.bytes().optional().doc("blob").build())
            .field("l", SchemaBuilder.array(LINE).optional().doc("l").build())
            .field("n", SchemaBuilder.float64().optional().doc("n").build())
            .build();
    private static final Schema VALUE = SchemaBuilder.struct().name("io.confluent.connect.dynamodb.t.Value").optional()
            .field("document", DOCUMENT).build();
    private static final Schema ENVELOPE = SchemaBuilder.struct().name("io.confluent.connect.dynamodb.t.Envelope")
            .field("op", Schema.STRING_SCHEMA).field("before", VALUE).field("after", VALUE).build();

    private static Struct envelope() {
        Struct document = new Struct(DOCUMENT).put("_ddbx_first_name_1b836d86806e", "Ann")
                .put("a", new Struct(ADDRESS).put("city", "Oslo")).put("blob", new byte[] {1, 2})
                .put("l", List.of(new Struct(LINE).put("qty", 3L))).put("n", 1.5);
        return new Struct(ENVELOPE).put("op", "c").put("after", new Struct(VALUE).put("document", document));
    }

    @Test
    void avroNamesNestedRecordsAndDocumentsTheAttributeNames() throws Exception {
        FormattedSchema f = new AvroFormat().describe(ENVELOPE);
        JsonNode document = JSON.readTree(f.text()).get("fields").get(1).get("type").get(1).get("fields").get(0)
                .get("type").get(1);
        assertEquals("Document", document.get("name").asText());
        assertEquals("first name", document.get("fields").get(0).get("doc").asText());
        assertEquals("Document_a_1", document.get("fields").get(1).get("type").get(1).get("name").asText());
        org.apache.avro.Schema schema = new org.apache.avro.Schema.Parser().parse(f.text());
        GenericRecord read = (GenericRecord) new GenericDatumReader<>(schema).read(null,
                DecoderFactory.get().binaryDecoder(f.serializer().serialize(envelope()), null));
        GenericRecord doc = (GenericRecord) ((GenericRecord) read.get("after")).get("document");
        assertEquals("Ann", doc.get("_ddbx_first_name_1b836d86806e").toString());
        assertEquals("Oslo", ((GenericRecord) doc.get("a")).get("city").toString());
        assertEquals(ByteBuffer.wrap(new byte[] {1, 2}), doc.get("blob"));
        assertEquals(3L, ((GenericRecord) ((List<?>) doc.get("l")).get(0)).get("qty"));
        assertEquals(1.5, doc.get("n"));
    }

    @Test
    void jsonSchemaDescribesTheDocumentAndWritesIt() throws Exception {
        FormattedSchema f = new JsonSchemaFormat().describe(ENVELOPE);
        assertTrue(f.text().contains("\"_ddbx_first_name_1b836d86806e\""), f.text());
        JsonNode written = JSON.readTree(f.serializer().serialize(envelope()));
        JsonNode document = written.get("after").get("document");
        assertEquals("Oslo", document.get("a").get("city").asText());
        assertEquals("AQI=", document.get("blob").asText());
        assertEquals(3, document.get("l").get(0).get("qty").asInt());
    }

    @Test
    void protobufWritesTheDocumentWithNestedMessages() throws Exception {
        FormattedSchema f = new ProtobufFormat().describe(ENVELOPE);
        ProtobufSchemas.ProtoFile root = new ProtobufSchemas().root(ENVELOPE);
        Descriptors.Descriptor d = build(root).getMessageTypes().get(0);
        DynamicMessage read = DynamicMessage.parseFrom(d, f.serializer().serialize(envelope()));
        DynamicMessage after = (DynamicMessage) read.getField(d.findFieldByName("after"));
        DynamicMessage doc = (DynamicMessage) after.getField(after.getDescriptorForType().findFieldByName("document"));
        Descriptors.Descriptor dd = doc.getDescriptorForType();
        assertEquals("Ann", doc.getField(dd.findFieldByName("_ddbx_first_name_1b836d86806e")));
        assertEquals(1, doc.getRepeatedFieldCount(dd.findFieldByName("l")));
        assertEquals(1.5, doc.getField(dd.findFieldByName("n")));
    }

    @Test
    void protobufNumbersFieldsByTheirTagSoAnAddedFieldRenumbersNothing() throws Exception {
        Schema before = SchemaBuilder.struct().name("t.D")
                .field("b", tagged(SchemaBuilder.string(), 505669656)).field("c", tagged(SchemaBuilder.bool(), 7))
                .build();
        Schema after = SchemaBuilder.struct().name("t.D").field("a", tagged(SchemaBuilder.int64(), 177701145))
                .field("b", tagged(SchemaBuilder.string(), 505669656)).field("c", tagged(SchemaBuilder.bool(), 7))
                .build();
        for (Schema s : List.of(before, after)) {
            Descriptors.Descriptor d = build(new ProtobufSchemas().root(s)).getMessageTypes().get(0);
            assertEquals(505669656, d.findFieldByName("b").getNumber());
            assertEquals(7, d.findFieldByName("c").getNumber());
            Struct value = new Struct(s).put("b", "x").put("c", true);
            DynamicMessage read = DynamicMessage.parseFrom(d, new ProtobufFormat().describe(s).serializer()
                    .serialize(value));
            assertEquals("x", read.getField(d.findFieldByName("b")));
            assertEquals(true, read.getField(d.findFieldByName("c")));
        }
    }

    private static Schema tagged(SchemaBuilder builder, int tag) {
        return builder.optional().parameter(ProtobufSchemas.TAG_PARAMETER, String.valueOf(tag)).build();
    }

    private static Descriptors.FileDescriptor build(ProtobufSchemas.ProtoFile file) throws Exception {
        Descriptors.FileDescriptor[] imports = new Descriptors.FileDescriptor[file.imports().size()];
        for (int i = 0; i < imports.length; i++) {
            imports[i] = build(file.imports().get(i));
        }
        return Descriptors.FileDescriptor.buildFrom(file.proto(), imports);
    }
}
