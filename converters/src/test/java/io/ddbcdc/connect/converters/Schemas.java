package io.ddbcdc.connect.converters;

import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;

/** Test schemas: the connector's envelope shape for a table named orders-2024, and one with every type. */
final class Schemas {
    static final Schema SOURCE = SchemaBuilder.struct().name("io.confluent.connector.dynamodb.Source").optional()
            .field("version", Schema.OPTIONAL_STRING_SCHEMA)
            .field("tableName", Schema.STRING_SCHEMA)
            .field("ts_ms", Schema.INT64_SCHEMA)
            .field("segment", Schema.OPTIONAL_INT32_SCHEMA)
            .build();
    static final Schema VALUE = SchemaBuilder.struct().name("io.confluent.connect.dynamodb.orders-2024.Value")
            .optional().field("document", Schema.OPTIONAL_STRING_SCHEMA).build();
    static final Schema ENVELOPE = SchemaBuilder.struct().name("io.confluent.connect.dynamodb.orders-2024.Envelope")
            .field("op", Schema.STRING_SCHEMA)
            .field("source", SOURCE)
            .field("before", VALUE)
            .field("after", VALUE)
            .build();
    static final Schema KEY = SchemaBuilder.struct().name("io.confluent.connect.dynamodb.orders-2024.Key")
            .field("pk", Schema.STRING_SCHEMA).field("raw", Schema.BYTES_SCHEMA).build();

    static final Schema INNER = SchemaBuilder.struct().field("x", Schema.INT16_SCHEMA).build();
    static final Schema EVERYTHING = SchemaBuilder.struct().name("test.Everything")
            .field("i8", Schema.INT8_SCHEMA)
            .field("f32", Schema.FLOAT32_SCHEMA)
            .field("f64", Schema.OPTIONAL_FLOAT64_SCHEMA)
            .field("flag", Schema.BOOLEAN_SCHEMA)
            .field("amount", Decimal.schema(2))
            .field("day", Date.SCHEMA)
            .field("at", Timestamp.SCHEMA)
            .field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build())
            .field("counts", SchemaBuilder.map(Schema.STRING_SCHEMA, Schema.INT64_SCHEMA).build())
            .field("by_id", SchemaBuilder.map(Schema.INT32_SCHEMA, INNER).build())
            .field("inner", SchemaBuilder.struct().field("x", Schema.INT16_SCHEMA).optional().build())
            .build();

    static Struct envelope(String op, String before, String after) {
        return new Struct(ENVELOPE).put("op", op)
                .put("source", new Struct(SOURCE).put("tableName", "orders-2024").put("ts_ms", 5L))
                .put("before", before == null ? null : new Struct(VALUE).put("document", before))
                .put("after", after == null ? null : new Struct(VALUE).put("document", after));
    }

    static Struct everything() {
        return new Struct(EVERYTHING).put("i8", (byte) -3).put("f32", 1.5f).put("f64", null).put("flag", true)
                .put("amount", new BigDecimal("12.34")).put("day", new java.util.Date(86_400_000L * 3))
                .put("at", new java.util.Date(1_700_000_000_123L)).put("tags", List.of("a", "b"))
                .put("counts", Map.of("k", 7L)).put("by_id", Map.of(4, new Struct(INNER).put("x", (short) 9)))
                .put("inner", null);
    }

    private Schemas() {
    }
}
