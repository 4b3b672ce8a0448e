package io.ddbcdc.connect.converters;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.JsonProperties;
import org.apache.avro.LogicalTypes;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/**
 * Connect schemas as Avro the way Confluent's AvroConverter writes them: a struct is a record named
 * by the schema's name (namespace and name split at the last dot) with a {@code connect.name}
 * property; an optional schema is the union {@code ["null", T]} and an optional field defaults to
 * null; INT8/INT16 are ints marked {@code connect.type}; Decimal, Date, Time and Timestamp are Avro's
 * logical types; a map with non-string keys is an array of {@code MapEntry} records.
 */
final class AvroFormat implements SchemaFormat {
    static final String DEFAULT_NAMESPACE = "io.confluent.connect.avro";
    private static final org.apache.avro.Schema NULL = org.apache.avro.Schema.create(org.apache.avro.Schema.Type.NULL);

    @Override
    public FormattedSchema describe(Schema schema) {
        Translation translation = new Translation();
        org.apache.avro.Schema avro;
        try {
            avro = translation.schema(schema);
        } catch (AvroRuntimeException e) {
            throw new DataException("This schema cannot be written as Avro: " + e.getMessage(), e);
        }
        GenericDatumWriter<Object> writer = new GenericDatumWriter<>(avro);
        org.apache.avro.Schema record = nonNull(avro);
        String recordName = record.getType() == org.apache.avro.Schema.Type.RECORD ? record.getFullName() : null;
        return new FormattedSchema("AVRO", avro.toString(), recordName, List.of(), new byte[0],
                value -> write(writer, datum(schema, avro, value)));
    }

    private static byte[] write(GenericDatumWriter<Object> writer, Object datum) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
        try {
            writer.write(datum, encoder);
            encoder.flush();
        } catch (IOException | RuntimeException e) {
            throw new DataException("Could not write a value as Avro: " + e, e);
        }
        return out.toByteArray();
    }

    private static org.apache.avro.Schema nonNull(org.apache.avro.Schema avro) {
        return avro.getType() == org.apache.avro.Schema.Type.UNION ? avro.getTypes().get(1) : avro;
    }

    /** A Connect value as the Avro datum of its schema (records, lists, maps, ByteBuffers, ints). */
    static Object datum(Schema schema, org.apache.avro.Schema avro, Object value) {
        if (value == null) {
            return null;
        }
        org.apache.avro.Schema a = nonNull(avro);
        Object v = Names.physical(schema, value);
        switch (schema.type()) {
            case INT8, INT16:
                return ((Number) v).intValue();
            case BYTES:
                return v instanceof byte[] bytes ? ByteBuffer.wrap(bytes) : v;
            case ARRAY: {
                List<Object> out = new ArrayList<>();
                for (Object element : (List<?>) v) {
                    out.add(datum(schema.valueSchema(), a.getElementType(), element));
                }
                return out;
            }
            case MAP: {
                Map<?, ?> map = (Map<?, ?>) v;
                if (a.getType() == org.apache.avro.Schema.Type.MAP) {
                    Map<String, Object> out = new LinkedHashMap<>();
                    map.forEach((k, e) -> out.put((String) k, datum(schema.valueSchema(), a.getValueType(), e)));
                    return out;
                }
                org.apache.avro.Schema entry = a.getElementType();
                List<Object> out = new ArrayList<>();
                map.forEach((k, e) -> {
                    GenericData.Record r = new GenericData.Record(entry);
                    r.put(0, datum(schema.keySchema(), entry.getFields().get(0).schema(), k));
                    r.put(1, datum(schema.valueSchema(), entry.getFields().get(1).schema(), e));
                    out.add(r);
                });
                return out;
            }
            case STRUCT: {
                Struct struct = (Struct) v;
                GenericData.Record record = new GenericData.Record(a);
                for (Field f : schema.fields()) {
                    record.put(f.index(), datum(f.schema(), a.getFields().get(f.index()).schema(), struct.get(f)));
                }
                return record;
            }
            default:
                return v;
        }
    }

    /** One schema's translation: named records are defined once and then referred to by name. */
    private static final class Translation {
        private record Named(Schema connect, org.apache.avro.Schema avro) {
        }

        private final Map<String, Named> named = new HashMap<>();
        private int defaults;
        private int mapEntries;

        org.apache.avro.Schema schema(Schema s) {
            org.apache.avro.Schema avro = nonNullSchema(s);
            return s.isOptional() ? org.apache.avro.Schema.createUnion(NULL, avro) : avro;
        }

        private org.apache.avro.Schema nonNullSchema(Schema s) {
            org.apache.avro.Schema logical = logical(s);
            if (logical != null) {
                return logical;
            }
            org.apache.avro.Schema avro = switch (s.type()) {
                case INT8, INT16 -> withProp(primitive(org.apache.avro.Schema.Type.INT), "connect.type",
                        s.type().getName());
                case INT32 -> primitive(org.apache.avro.Schema.Type.INT);
                case INT64 -> primitive(org.apache.avro.Schema.Type.LONG);
                case FLOAT32 -> primitive(org.apache.avro.Schema.Type.FLOAT);
                case FLOAT64 -> primitive(org.apache.avro.Schema.Type.DOUBLE);
                case BOOLEAN -> primitive(org.apache.avro.Schema.Type.BOOLEAN);
                case STRING -> primitive(org.apache.avro.Schema.Type.STRING);
                case BYTES -> primitive(org.apache.avro.Schema.Type.BYTES);
                case ARRAY -> org.apache.avro.Schema.createArray(schema(s.valueSchema()));
                case MAP -> s.keySchema().type() == Schema.Type.STRING && !s.keySchema().isOptional()
                        ? org.apache.avro.Schema.createMap(schema(s.valueSchema()))
                        : org.apache.avro.Schema.createArray(mapEntry(s));
                case STRUCT -> record(s);
            };
            if (s.name() != null && s.type() != Schema.Type.STRUCT) {
                avro.addProp("connect.name", s.name());
            }
            return avro;
        }

        private static org.apache.avro.Schema primitive(org.apache.avro.Schema.Type type) {
            return org.apache.avro.Schema.create(type);
        }

        private static org.apache.avro.Schema withProp(org.apache.avro.Schema avro, String name, String value) {
            avro.addProp(name, value);
            return avro;
        }

        private static org.apache.avro.Schema logical(Schema s) {
            if (s.name() == null) {
                return null;
            }
            org.apache.avro.Schema avro;
            switch (s.name()) {
                case Decimal.LOGICAL_NAME -> {
                    Map<String, String> parameters = s.parameters() == null ? Map.of() : s.parameters();
                    int scale = Integer.parseInt(parameters.getOrDefault(Decimal.SCALE_FIELD, "0"));
                    int precision = Integer.parseInt(parameters.getOrDefault("connect.decimal.precision", "64"));
                    avro = LogicalTypes.decimal(precision, scale).addToSchema(primitive(org.apache.avro.Schema.Type.BYTES));
                    avro.addProp("connect.parameters", new LinkedHashMap<>(parameters));
                }
                case Date.LOGICAL_NAME -> avro = LogicalTypes.date().addToSchema(primitive(org.apache.avro.Schema.Type.INT));
                case Time.LOGICAL_NAME ->
                        avro = LogicalTypes.timeMillis().addToSchema(primitive(org.apache.avro.Schema.Type.INT));
                case Timestamp.LOGICAL_NAME ->
                        avro = LogicalTypes.timestampMillis().addToSchema(primitive(org.apache.avro.Schema.Type.LONG));
                default -> {
                    return null;
                }
            }
            avro.addProp("connect.version", 1);
            avro.addProp("connect.name", s.name());
            return avro;
        }

        private org.apache.avro.Schema mapEntry(Schema map) {
            String name = "MapEntry" + (mapEntries++ == 0 ? "" : String.valueOf(mapEntries));
            org.apache.avro.Schema entry = org.apache.avro.Schema.createRecord(name, null, DEFAULT_NAMESPACE, false);
            entry.setFields(List.of(field("key", map.keySchema()), field("value", map.valueSchema())));
            return entry;
        }

        private org.apache.avro.Schema record(Schema s) {
            String fullName = s.name() != null ? Names.fullName(s.name())
                    : DEFAULT_NAMESPACE + ".ConnectDefault" + (defaults++ == 0 ? "" : String.valueOf(defaults));
            Named existing = named.get(fullName);
            if (existing != null) {
                if (!existing.connect().fields().equals(s.fields())) {
                    throw new DataException("Two different structs are named " + fullName + " in one schema");
                }
                return existing.avro();
            }
            String namespace = Names.namespace(fullName);
            org.apache.avro.Schema record = org.apache.avro.Schema.createRecord(Names.simpleName(fullName), s.doc(),
                    namespace.isEmpty() ? null : namespace, false);
            named.put(fullName, new Named(s, record));
            List<org.apache.avro.Schema.Field> fields = new ArrayList<>();
            for (Field f : s.fields()) {
                fields.add(field(f.name(), f.schema()));
            }
            record.setFields(fields);
            if (s.name() != null) {
                record.addProp("connect.name", s.name());
            }
            return record;
        }

        private org.apache.avro.Schema.Field field(String name, Schema s) {
            return new org.apache.avro.Schema.Field(Names.identifier(name), schema(s), s.doc(),
                    s.isOptional() ? JsonProperties.NULL_VALUE : null);
        }
    }
}
