package io.ddbcdc.connect.converters;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.MessageOptions;
import com.google.protobuf.DescriptorProtos.OneofDescriptorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.DataException;

/**
 * Connect schemas as proto3 files. The record's struct is the only top-level message of its file
 * (message index 0), in the package of its name's namespace. Every other named struct is the message
 * of a file of its own ({@code io/confluent/connector/dynamodb/Source.proto}), imported and
 * registered as a reference, so each message keeps its documented full name. Unnamed structs and map
 * entries are nested messages. Optional scalars are proto3 {@code optional} (null stays distinct from
 * 0 or ""); Connect's logical types are written in their physical type (Decimal as the unscaled
 * two's-complement bytes, Date and Time as int32, Timestamp as int64 milliseconds).
 */
final class ProtobufSchemas {
    /** A .proto file: the path importers use, its descriptor, and the files it imports. */
    record ProtoFile(String path, FileDescriptorProto proto, List<ProtoFile> imports) {
    }

    private record Named(Schema connect, ProtoFile file) {
    }

    private final Map<String, Named> files = new HashMap<>();

    /** The file of a record's struct (an unnamed one is {@code ConnectDefault1}). */
    ProtoFile root(Schema schema) {
        if (schema.type() != Schema.Type.STRUCT) {
            throw new DataException("PROTOBUF writes structs; this record has a " + schema.type() + " schema");
        }
        return file(schema, schema.name() == null ? "ConnectDefault1" : Names.fullName(schema.name()));
    }

    static String path(String fullName) {
        return fullName.replace('.', '/') + ".proto";
    }

    private ProtoFile file(Schema struct, String fullName) {
        Named existing = files.get(fullName);
        if (existing != null) {
            if (!existing.connect().fields().equals(struct.fields())) {
                throw new DataException("Two different structs are named " + fullName + " in one schema");
            }
            return existing.file();
        }
        Map<String, ProtoFile> imports = new LinkedHashMap<>();
        DescriptorProto message = new MessageBuilder(imports).message(struct, Names.simpleName(fullName),
                "." + fullName);
        FileDescriptorProto.Builder proto = FileDescriptorProto.newBuilder().setName(path(fullName)).setSyntax("proto3")
                .addAllDependency(imports.keySet()).addMessageType(message);
        if (!Names.namespace(fullName).isEmpty()) {
            proto.setPackage(Names.namespace(fullName));
        }
        ProtoFile file = new ProtoFile(path(fullName), proto.build(), List.copyOf(imports.values()));
        files.put(fullName, new Named(struct, file));
        return file;
    }

    /** Builds one top-level message, collecting the files it imports. */
    private final class MessageBuilder {
        private final Map<String, ProtoFile> imports;
        private int unnamed;

        MessageBuilder(Map<String, ProtoFile> imports) {
            this.imports = imports;
        }

        DescriptorProto message(Schema struct, String name, String fullName) {
            DescriptorProto.Builder message = DescriptorProto.newBuilder().setName(name);
            Set<String> names = new HashSet<>();
            for (Field f : struct.fields()) {
                String fieldName = Names.identifier(f.name());
                if (!names.add(fieldName)) {
                    throw new DataException("Fields of " + fullName.substring(1) + " clash as " + fieldName);
                }
                FieldDescriptorProto.Builder field = FieldDescriptorProto.newBuilder().setName(fieldName)
                        .setNumber(number(f)).setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
                Schema s = f.schema();
                switch (s.type()) {
                    case ARRAY -> element(field.setLabel(FieldDescriptorProto.Label.LABEL_REPEATED), s.valueSchema(),
                            message, fullName);
                    case MAP -> {
                        String entryName = capitalize(fieldName) + "Entry";
                        DescriptorProto.Builder entry = DescriptorProto.newBuilder().setName(entryName)
                                .setOptions(MessageOptions.newBuilder().setMapEntry(true));
                        FieldDescriptorProto.Builder key = FieldDescriptorProto.newBuilder().setName("key").setNumber(1)
                                .setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL).setType(mapKey(s.keySchema()));
                        FieldDescriptorProto.Builder value = FieldDescriptorProto.newBuilder().setName("value")
                                .setNumber(2).setLabel(FieldDescriptorProto.Label.LABEL_OPTIONAL);
                        element(value, s.valueSchema(), message, fullName);
                        message.addNestedType(entry.addField(key).addField(value));
                        field.setLabel(FieldDescriptorProto.Label.LABEL_REPEATED)
                                .setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(fullName + "." + entryName);
                    }
                    case STRUCT -> field.setType(FieldDescriptorProto.Type.TYPE_MESSAGE)
                            .setTypeName(struct(s, message, fullName));
                    default -> {
                        field.setType(scalar(s));
                        if (s.isOptional()) { // proto3 optional: a synthetic oneof per field
                            field.setProto3Optional(true).setOneofIndex(message.getOneofDeclCount());
                            message.addOneofDecl(OneofDescriptorProto.newBuilder().setName("_" + fieldName));
                        }
                    }
                }
                message.addField(field);
            }
            return message.build();
        }

        /** A repeated element or map value: a scalar or a struct. */
        private void element(FieldDescriptorProto.Builder field, Schema s, DescriptorProto.Builder parent,
                             String parentName) {
            if (s.type() == Schema.Type.ARRAY || s.type() == Schema.Type.MAP) {
                throw new DataException("PROTOBUF cannot hold an array or map directly inside an array or map");
            }
            if (s.type() == Schema.Type.STRUCT) {
                field.setType(FieldDescriptorProto.Type.TYPE_MESSAGE).setTypeName(struct(s, parent, parentName));
            } else {
                field.setType(scalar(s));
            }
        }

        /** The type name of a struct: a file of its own when named, else a message nested in its parent. */
        private String struct(Schema s, DescriptorProto.Builder parent, String parentName) {
            if (s.name() != null) {
                String fullName = Names.fullName(s.name());
                ProtoFile file = file(s, fullName);
                imports.put(file.path(), file);
                return "." + fullName;
            }
            String name = "ConnectDefault" + (++unnamed);
            parent.addNestedType(message(s, name, parentName + "." + name));
            return parentName + "." + name;
        }
    }

    /**
     * A field's number: its position, or the number its schema's {@code io.ddbcdc.protobuf.tag} parameter gives
     * (typed documents, whose fields are in name order, so positions would shift as attributes are added).
     */
    static int number(Field f) {
        Map<String, String> parameters = f.schema().parameters();
        String tag = parameters == null ? null : parameters.get(TAG_PARAMETER);
        return tag == null ? f.index() + 1 : Integer.parseInt(tag);
    }

    static final String TAG_PARAMETER = "io.ddbcdc.protobuf.tag";

    private static FieldDescriptorProto.Type scalar(Schema s) {
        return switch (s.type()) {
            case INT8, INT16, INT32 -> FieldDescriptorProto.Type.TYPE_INT32;
            case INT64 -> FieldDescriptorProto.Type.TYPE_INT64;
            case FLOAT32 -> FieldDescriptorProto.Type.TYPE_FLOAT;
            case FLOAT64 -> FieldDescriptorProto.Type.TYPE_DOUBLE;
            case BOOLEAN -> FieldDescriptorProto.Type.TYPE_BOOL;
            case STRING -> FieldDescriptorProto.Type.TYPE_STRING;
            case BYTES -> FieldDescriptorProto.Type.TYPE_BYTES;
            default -> throw new IllegalArgumentException(s.type() + " is not a scalar");
        };
    }

    private static FieldDescriptorProto.Type mapKey(Schema s) {
        if (s.type() == Schema.Type.BYTES || s.type() == Schema.Type.FLOAT32 || s.type() == Schema.Type.FLOAT64
                || s.type() == Schema.Type.ARRAY || s.type() == Schema.Type.MAP || s.type() == Schema.Type.STRUCT) {
            throw new DataException("PROTOBUF map keys are integers, booleans or strings, not " + s.type());
        }
        return scalar(s);
    }

    private static String capitalize(String name) {
        List<String> parts = new ArrayList<>();
        for (String part : name.split("_")) {
            parts.add(part.isEmpty() ? "" : Character.toUpperCase(part.charAt(0)) + part.substring(1));
        }
        return String.join("", parts);
    }
}
