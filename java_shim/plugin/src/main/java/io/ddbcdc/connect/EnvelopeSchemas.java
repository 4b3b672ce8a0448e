package io.ddbcdc.connect;

import java.util.List;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;

/**
 * The documented record schemas: {@code io.confluent.connect.dynamodb.<table>.Envelope} with its
 * {@code .Value} before/after and {@code io.confluent.connector.dynamodb.Source}, and a key
 * struct of the table's primary key attributes (S and N as strings, B as bytes).
 */
final class EnvelopeSchemas {
    static final Schema SOURCE = SchemaBuilder.struct()
            .name("io.confluent.connector.dynamodb.Source")
            .optional()
            .field("version", Schema.OPTIONAL_STRING_SCHEMA)
            .field("tableName", Schema.STRING_SCHEMA)
            .field("sync_mode", Schema.STRING_SCHEMA)
            .field("ts_ms", Schema.INT64_SCHEMA)
            .field("ts_us", Schema.INT64_SCHEMA)
            .field("ts_ns", Schema.INT64_SCHEMA)
            .field("snapshotStartTime", Schema.OPTIONAL_INT64_SCHEMA)
            .field("snapshotCount", Schema.OPTIONAL_INT32_SCHEMA)
            .field("segment", Schema.OPTIONAL_INT32_SCHEMA)
            .field("totalSegments", Schema.OPTIONAL_INT32_SCHEMA)
            .field("shard_Id", Schema.OPTIONAL_STRING_SCHEMA)
            .field("seq_No", Schema.OPTIONAL_STRING_SCHEMA)
            .build();

    final Schema key;
    final Schema value;
    final Schema document;
    final Schema envelope;

    EnvelopeSchemas(String table, List<List<String>> keyAttributes) {
        this(table, keyAttributes, Schema.OPTIONAL_STRING_SCHEMA);
    }

    /** With {@code document} the schema of before/after's document: a string, or a typed document's struct. */
    EnvelopeSchemas(String table, List<List<String>> keyAttributes, Schema document) {
        this.document = document;
        SchemaBuilder keyBuilder = SchemaBuilder.struct().name("io.confluent.connect.dynamodb." + table + ".Key");
        for (List<String> attribute : keyAttributes) {
            keyBuilder.field(attribute.get(0), "B".equals(attribute.get(1)) ? Schema.BYTES_SCHEMA : Schema.STRING_SCHEMA);
        }
        key = keyBuilder.build();
        value = SchemaBuilder.struct()
                .name("io.confluent.connect.dynamodb." + table + ".Value")
                .optional()
                .field("document", document)
                .build();
        envelope = SchemaBuilder.struct()
                .name("io.confluent.connect.dynamodb." + table + ".Envelope")
                .field("op", Schema.STRING_SCHEMA)
                .field("ts_ms", Schema.INT64_SCHEMA)
                .field("ts_us", Schema.INT64_SCHEMA)
                .field("ts_ns", Schema.INT64_SCHEMA)
                .field("source", SOURCE)
                .field("before", value)
                .field("after", value)
                .build();
    }
}
