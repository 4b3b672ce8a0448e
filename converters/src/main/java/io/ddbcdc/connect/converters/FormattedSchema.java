package io.ddbcdc.connect.converters;

import java.util.List;

/**
 * A Connect schema as one format writes it: what is registered ({@code type} as the registry's
 * {@code schemaType}, the schema text, the schemas it imports) and how its values are serialized.
 *
 * @param recordName the record's full name, for RecordNameStrategy and TopicRecordNameStrategy; null if it has none
 * @param indexes    bytes between the schema id and the payload (Protobuf's message indexes; else empty)
 * @param serializer null for a schema that is only imported by others
 */
record FormattedSchema(String type, String text, String recordName, List<Dependency> dependencies, byte[] indexes,
                       Serializer serializer) {

    /** An imported schema: the name the importing schema uses for it (a Protobuf import path). */
    record Dependency(String name, FormattedSchema schema) {
    }

    @FunctionalInterface
    interface Serializer {
        byte[] serialize(Object value);
    }
}
