package io.ddbcdc.connect;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;

class TypedDocumentsTest {
    // What python_connector/records/document_schema.describe writes for a document with every kind of field.
    private static final String DESCRIPTION = """
            {"type": "struct", "name": "io.confluent.connect.dynamodb.t.Document", "optional": true, "fields": [
             {"name": "_ddbx_first_name_1b836d86806e", "doc": "first name", "tag": 13675484,
              "schema": {"type": "string", "optional": true}},
             {"name": "b", "doc": "b", "schema": {"type": "bytes", "optional": true}},
             {"name": "big", "doc": "big", "schema": {"type": "int64", "optional": true}},
             {"name": "flag", "doc": "flag", "schema": {"type": "boolean", "optional": true}},
             {"name": "m", "doc": "m", "schema": {"type": "struct", "name": "io.confluent.connect.dynamodb.t.Document_m_1",
               "optional": true, "fields": [{"name": "x", "doc": "x", "schema": {"type": "float64", "optional": true}}]}},
             {"name": "n", "doc": "n", "schema": {"type": "int32", "optional": false}},
             {"name": "tags", "doc": "tags", "schema": {"type": "array", "optional": true,
               "items": {"type": "string", "optional": true}}},
             {"name": "_ddb_overflow", "doc": "overflow", "schema": {"type": "string", "optional": true}}]}
            """;

    private static Schema schema() throws Exception {
        Map<String, Object> description = new ObjectMapper().readValue(DESCRIPTION, new TypeReference<>() {
        });
        return TypedDocuments.schema(description, null);
    }

    @Test
    void aDescriptionBecomesAConnectSchemaWithTheAttributeNamesAsDocs() throws Exception {
        Schema s = schema();
        assertEquals("io.confluent.connect.dynamodb.t.Document", s.name());
        assertTrue(s.isOptional());
        assertEquals("first name", s.field("_ddbx_first_name_1b836d86806e").schema().doc());
        assertEquals("13675484",
                s.field("_ddbx_first_name_1b836d86806e").schema().parameters().get(TypedDocuments.PROTOBUF_TAG));
        assertEquals(Schema.Type.STRUCT, s.field("m").schema().type());
        assertEquals("io.confluent.connect.dynamodb.t.Document_m_1", s.field("m").schema().name());
        assertEquals(Schema.Type.ARRAY, s.field("tags").schema().type());
        assertTrue(!s.field("n").schema().isOptional());
        assertEquals(List.of("_ddbx_first_name_1b836d86806e", "b", "big", "flag", "m", "n", "tags", "_ddb_overflow"),
                s.fields().stream().map(f -> f.name()).toList());
    }

    @Test
    void aDocumentBecomesAStructOfItsSchema() throws Exception {
        Struct doc = TypedDocuments.struct(schema(), """
                {"_ddbx_first_name_1b836d86806e": "Ann", "b": "AAEC", "big": 5000000000, "flag": true,
                 "m": {"x": 1.5}, "n": 7, "tags": ["a", "b"], "_ddb_overflow": "{\\"l\\":{\\"L\\":[]}}"}
                """);
        doc.validate();
        assertEquals("Ann", doc.get("_ddbx_first_name_1b836d86806e"));
        assertArrayEquals(new byte[] {0, 1, 2}, (byte[]) doc.get("b"));
        assertEquals(5_000_000_000L, doc.get("big"));
        assertEquals(1.5, doc.getStruct("m").get("x"));
        assertEquals(7, doc.get("n"));
        assertEquals(List.of("a", "b"), doc.get("tags"));
        assertNull(TypedDocuments.struct(schema(), "{\"n\": 1}").get("flag"));
    }

    @Test
    void aFieldTheSchemaDoesNotHaveIsAnError() {
        assertThrows(ConnectException.class, () -> TypedDocuments.struct(schema(), "{\"n\": 1, \"zzz\": 2}"));
    }
}
