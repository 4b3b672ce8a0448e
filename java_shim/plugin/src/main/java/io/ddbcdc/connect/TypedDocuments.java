package io.ddbcdc.connect;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * Typed documents ({@code document.content.format=schema}): the engine decides their schema
 * (python_connector/records/document_schema.py describes the description's form) and sends it in a group
 * header once per schema version; here it only becomes a Connect {@code Schema}, and each record's document,
 * JSON written against that schema, becomes a {@code Struct}. Field names arrive already mapped; the
 * attribute's own name is the field schema's doc.
 */
final class TypedDocuments {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A field's Protobuf number, which the converters use instead of its position (stable as fields are added). */
    static final String PROTOBUF_TAG = "io.ddbcdc.protobuf.tag";

    private TypedDocuments() {
    }

    /** The Connect schema of a description: {"type", "optional", and "fields" / "items" / "values"}. */
    @SuppressWarnings("unchecked")
    static Schema schema(Map<String, Object> description, String doc) {
        return schema(description, doc, null);
    }

    @SuppressWarnings("unchecked")
    private static Schema schema(Map<String, Object> description, String doc, Object tag) {
        String type = (String) description.get("type");
        SchemaBuilder builder = switch (type) {
            case "struct" -> {
                SchemaBuilder struct = SchemaBuilder.struct().name((String) description.get("name"));
                for (Map<String, Object> field : (List<Map<String, Object>>) description.get("fields")) {
                    struct.field((String) field.get("name"), schema((Map<String, Object>) field.get("schema"),
                            (String) field.get("doc"), field.get("tag")));
                }
                yield struct;
            }
            case "array" -> SchemaBuilder.array(schema((Map<String, Object>) description.get("items"), null));
            case "map" -> SchemaBuilder.map(Schema.STRING_SCHEMA,
                    schema((Map<String, Object>) description.get("values"), null));
            case "string" -> SchemaBuilder.string();
            case "int32" -> SchemaBuilder.int32();
            case "int64" -> SchemaBuilder.int64();
            case "float32" -> SchemaBuilder.float32();
            case "float64" -> SchemaBuilder.float64();
            case "boolean" -> SchemaBuilder.bool();
            case "bytes" -> SchemaBuilder.bytes();
            default -> throw new ConnectException("Unknown document type '" + type + "' from the engine");
        };
        if (Boolean.TRUE.equals(description.get("optional"))) {
            builder.optional();
        }
        if (tag != null) {
            builder.parameter(PROTOBUF_TAG, String.valueOf(tag));
        }
        if (doc != null) {
            builder.doc(doc);
        } else if (description.get("doc") != null) {
            builder.doc((String) description.get("doc"));
        }
        return builder.build();
    }

    /** A document (a JSON object written against {@code schema}) as a Struct. */
    static Struct struct(Schema schema, String json) {
        try {
            return (Struct) value(schema, JSON.readTree(json));
        } catch (IOException e) {
            throw new ConnectException("Corrupt typed document in a batch from the engine", e);
        }
    }

    private static Object value(Schema schema, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        return switch (schema.type()) {
            case STRUCT -> {
                Struct struct = new Struct(schema);
                Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
                while (fields.hasNext()) {
                    Map.Entry<String, JsonNode> e = fields.next();
                    Field field = schema.field(e.getKey());
                    if (field == null) {
                        throw new ConnectException("A typed document has a field '" + e.getKey() + "' that "
                                + schema.name() + " does not");
                    }
                    struct.put(field, value(field.schema(), e.getValue()));
                }
                yield struct;
            }
            case ARRAY -> {
                List<Object> list = new ArrayList<>(node.size());
                for (JsonNode element : node) {
                    list.add(value(schema.valueSchema(), element));
                }
                yield list;
            }
            case MAP -> {
                Map<String, Object> map = new HashMap<>();
                node.fields().forEachRemaining(e -> map.put(e.getKey(), value(schema.valueSchema(), e.getValue())));
                yield map;
            }
            case STRING -> node.asText();
            case INT32 -> node.intValue();
            case INT64 -> node.longValue();
            case FLOAT32 -> node.floatValue();
            case FLOAT64 -> node.doubleValue();
            case BOOLEAN -> node.booleanValue();
            case BYTES -> Base64.getDecoder().decode(node.asText());
            default -> throw new ConnectException("Unsupported document type " + schema.type());
        };
    }
}
