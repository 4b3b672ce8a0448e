package io.ddbcdc.connect.converters;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;

/**
 * Names and values as Avro and Protobuf accept them. Connect names come from table and attribute names,
 * which may hold characters these formats refuse ({@code orders-2024}); such characters become '_' and a
 * leading digit gets a '_' in front, as Confluent's converters do with {@code scrub.invalid.names}.
 */
final class Names {
    private Names() {
    }

    static String identifier(String name) {
        String scrubbed = name.replaceAll("[^A-Za-z0-9_]", "_");
        return scrubbed.isEmpty() || Character.isDigit(scrubbed.charAt(0)) ? "_" + scrubbed : scrubbed;
    }

    /** A dotted full name with each part scrubbed. */
    static String fullName(String dotted) {
        return Arrays.stream(dotted.split("\\.", -1)).map(Names::identifier).collect(Collectors.joining("."));
    }

    static String namespace(String fullName) {
        int dot = fullName.lastIndexOf('.');
        return dot < 0 ? "" : fullName.substring(0, dot);
    }

    static String simpleName(String fullName) {
        return fullName.substring(fullName.lastIndexOf('.') + 1);
    }

    /** The value in the schema's physical type: Connect's logical types (Decimal, Date, Time, Timestamp). */
    static Object physical(Schema schema, Object value) {
        if (value == null || schema.name() == null) {
            return value;
        }
        return switch (schema.name()) {
            case Decimal.LOGICAL_NAME -> Decimal.fromLogical(schema, (BigDecimal) value);
            case Date.LOGICAL_NAME -> Date.fromLogical(schema, (java.util.Date) value);
            case Time.LOGICAL_NAME -> Time.fromLogical(schema, (java.util.Date) value);
            case Timestamp.LOGICAL_NAME -> Timestamp.fromLogical(schema, (java.util.Date) value);
            default -> value;
        };
    }
}
