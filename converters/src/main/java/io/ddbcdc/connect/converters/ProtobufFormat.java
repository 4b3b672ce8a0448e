package io.ddbcdc.connect.converters;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.DataException;

/**
 * Records as Protobuf: the schema from {@link ProtobufSchemas}, values as DynamicMessages of its
 * descriptors. The record's message is the first of its file, so the message indexes are one 0 byte.
 */
final class ProtobufFormat implements SchemaFormat {
    private static final byte[] FIRST_MESSAGE = {0};

    @Override
    public FormattedSchema describe(Schema schema) {
        ProtobufSchemas.ProtoFile root = new ProtobufSchemas().root(schema);
        Descriptor message = descriptor(root, new HashMap<>()).getMessageTypes().get(0);
        return new FormattedSchema("PROTOBUF", ProtoText.render(root.proto()), message.getFullName(),
                dependencies(root), FIRST_MESSAGE, value -> message(message, schema, (Struct) value).toByteArray());
    }

    private static List<FormattedSchema.Dependency> dependencies(ProtobufSchemas.ProtoFile file) {
        return file.imports().stream().map(i -> new FormattedSchema.Dependency(i.path(), new FormattedSchema(
                "PROTOBUF", ProtoText.render(i.proto()), null, dependencies(i), FIRST_MESSAGE, null))).toList();
    }

    private static Descriptors.FileDescriptor descriptor(ProtobufSchemas.ProtoFile file,
                                                         Map<String, Descriptors.FileDescriptor> built) {
        Descriptors.FileDescriptor done = built.get(file.path());
        if (done != null) {
            return done;
        }
        Descriptors.FileDescriptor[] imports = file.imports().stream().map(i -> descriptor(i, built))
                .toArray(Descriptors.FileDescriptor[]::new);
        try {
            Descriptors.FileDescriptor descriptor = Descriptors.FileDescriptor.buildFrom(file.proto(), imports);
            built.put(file.path(), descriptor);
            return descriptor;
        } catch (Descriptors.DescriptorValidationException e) {
            throw new DataException("This schema cannot be written as Protobuf: " + e.getMessage(), e);
        }
    }

    static DynamicMessage message(Descriptor descriptor, Schema schema, Struct struct) {
        DynamicMessage.Builder builder = DynamicMessage.newBuilder(descriptor);
        for (Field f : schema.fields()) {
            Object value = struct.get(f);
            if (value == null) {
                continue; // absent: null for a message or a proto3 optional scalar
            }
            FieldDescriptor field = descriptor.findFieldByNumber(ProtobufSchemas.number(f));
            Schema s = f.schema();
            switch (s.type()) {
                case ARRAY -> {
                    for (Object element : (List<?>) value) {
                        builder.addRepeatedField(field, element(field, s.valueSchema(), element, f.name()));
                    }
                }
                case MAP -> {
                    Descriptor entry = field.getMessageType();
                    for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
                        builder.addRepeatedField(field, DynamicMessage.newBuilder(entry)
                                .setField(entry.findFieldByNumber(1), scalar(s.keySchema(), e.getKey()))
                                .setField(entry.findFieldByNumber(2),
                                        element(entry.findFieldByNumber(2), s.valueSchema(), e.getValue(), f.name()))
                                .build());
                    }
                }
                default -> builder.setField(field, element(field, s, value, f.name()));
            }
        }
        return builder.build();
    }

    private static Object element(FieldDescriptor field, Schema schema, Object value, String name) {
        if (value == null) {
            throw new DataException("PROTOBUF cannot hold a null inside the array or map " + name);
        }
        return schema.type() == Schema.Type.STRUCT ? message(field.getMessageType(), schema, (Struct) value)
                : scalar(schema, value);
    }

    private static Object scalar(Schema schema, Object value) {
        Object v = Names.physical(schema, value);
        return switch (schema.type()) {
            case INT8, INT16 -> ((Number) v).intValue();
            case BYTES -> v instanceof byte[] bytes ? ByteString.copyFrom(bytes)
                    : ByteString.copyFrom(((java.nio.ByteBuffer) v).duplicate());
            default -> v;
        };
    }
}
