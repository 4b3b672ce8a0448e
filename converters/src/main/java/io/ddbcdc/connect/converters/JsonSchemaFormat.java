package io.ddbcdc.connect.converters;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.json.JsonConverter;

/**
 * Connect schemas as JSON Schema (draft-07) the way Confluent's JsonSchemaConverter writes them: a
 * struct is an object titled with the schema's name, its properties carrying {@code connect.index};
 * an optional schema is {@code oneOf [null, T]}; integers and floats carry {@code connect.type}; bytes
 * are base64 strings. Non-optional fields are required and no other property is allowed. The payload
 * is Kafka's own JsonConverter output without an embedded schema (decimals as numbers).
 */
final class JsonSchemaFormat implements SchemaFormat {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DRAFT_07 = "http://json-schema.org/draft-07/schema#";

    @Override
    public FormattedSchema describe(Schema schema) {
        ObjectNode root = JSON.createObjectNode().put("$schema", DRAFT_07);
        root.setAll(describeSchema(schema));
        JsonConverter payload = new JsonConverter();
        payload.configure(Map.of("schemas.enable", "false", "decimal.format", "NUMERIC", "converter.type", "value"));
        String recordName = schema.type() == Schema.Type.STRUCT ? schema.name() : null;
        return new FormattedSchema("JSON", root.toString(), recordName, List.of(), new byte[0],
                value -> payload.fromConnectData(null, schema, value));
    }

    static ObjectNode describeSchema(Schema s) {
        ObjectNode node = nonNull(s);
        if (s.name() != null) {
            node.put("title", s.name());
        }
        if (s.parameters() != null && !s.parameters().isEmpty()) {
            ObjectNode parameters = node.putObject("connect.parameters");
            s.parameters().forEach(parameters::put);
        }
        if (!s.isOptional()) {
            return node;
        }
        ObjectNode optional = JSON.createObjectNode();
        ArrayNode oneOf = optional.putArray("oneOf");
        oneOf.addObject().put("type", "null");
        oneOf.add(node);
        return optional;
    }

    private static ObjectNode nonNull(Schema s) {
        ObjectNode node = JSON.createObjectNode();
        switch (s.type()) {
            case INT8, INT16, INT32, INT64 -> node.put("type", "integer").put("connect.type", s.type().getName());
            case FLOAT32, FLOAT64 -> node.put("type", "number").put("connect.type", s.type().getName());
            case BOOLEAN -> node.put("type", "boolean");
            case STRING -> node.put("type", "string");
            case BYTES -> node.put("type", Decimal.LOGICAL_NAME.equals(s.name()) ? "number" : "string")
                    .put("connect.type", "bytes");
            case ARRAY -> node.put("type", "array").set("items", describeSchema(s.valueSchema()));
            case MAP -> {
                if (s.keySchema().type() == Schema.Type.STRING) {
                    node.put("type", "object").put("connect.type", "map")
                            .set("additionalProperties", describeSchema(s.valueSchema()));
                } else { // JsonConverter writes such a map as [key, value] pairs
                    ObjectNode pair = JSON.createObjectNode().put("type", "array");
                    pair.putArray("items").add(describeSchema(s.keySchema())).add(describeSchema(s.valueSchema()));
                    pair.put("minItems", 2).put("maxItems", 2);
                    node.put("type", "array").put("connect.type", "map").set("items", pair);
                }
            }
            case STRUCT -> {
                node.put("type", "object");
                ObjectNode properties = node.putObject("properties");
                ArrayNode required = JSON.createArrayNode();
                for (Field f : s.fields()) {
                    properties.set(f.name(), describeSchema(f.schema()).put("connect.index", f.index()));
                    if (!f.schema().isOptional()) {
                        required.add(f.name());
                    }
                }
                node.set("required", required);
                node.put("additionalProperties", false);
            }
        }
        return node;
    }
}
