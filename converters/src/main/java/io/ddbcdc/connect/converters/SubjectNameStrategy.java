package io.ddbcdc.connect.converters;

import java.util.Arrays;
import java.util.stream.Collectors;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.DataException;

/**
 * The subject a record's schema is registered under, as Confluent's strategies of the same names
 * (given by simple name or as {@code io.confluent.kafka.serializers.subject.<Name>}).
 */
enum SubjectNameStrategy {
    TopicNameStrategy,
    RecordNameStrategy,
    TopicRecordNameStrategy;

    static final String CONFLUENT_PACKAGE = "io.confluent.kafka.serializers.subject.";

    static SubjectNameStrategy parse(String property, String value) {
        return parseSimpleName(SubjectNameStrategy.class, property, value);
    }

    String subject(String topic, boolean isKey, String recordName) {
        if (this == TopicNameStrategy) {
            return topic + (isKey ? "-key" : "-value");
        }
        if (recordName == null) {
            throw new DataException(name() + " needs a named record schema, and this " + (isKey ? "key" : "value")
                    + " schema has no name; use TopicNameStrategy");
        }
        return this == RecordNameStrategy ? recordName : topic + "-" + recordName;
    }

    /** An enum constant named by its simple name or a class name ending in it. */
    static <E extends Enum<E>> E parseSimpleName(Class<E> type, String property, String value) {
        String simple = value.substring(value.lastIndexOf('.') + 1);
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equals(simple)) {
                return constant;
            }
        }
        String allowed = Arrays.stream(type.getEnumConstants()).map(Enum::name).collect(Collectors.joining(", "));
        throw new ConfigException(property, value, "must be one of " + allowed + " (optionally as "
                + CONFLUENT_PACKAGE + "<name>)");
    }
}
