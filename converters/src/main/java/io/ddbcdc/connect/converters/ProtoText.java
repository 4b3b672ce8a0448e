package io.ddbcdc.connect.converters;

import com.google.protobuf.DescriptorProtos.DescriptorProto;
import com.google.protobuf.DescriptorProtos.FieldDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import java.util.HashMap;
import java.util.Map;

/** The .proto text of the proto3 files {@link ProtobufSchemas} builds (what the registry stores). */
final class ProtoText {
    private ProtoText() {
    }

    static String render(FileDescriptorProto file) {
        StringBuilder out = new StringBuilder("syntax = \"proto3\";\n");
        if (file.hasPackage()) {
            out.append("package ").append(file.getPackage()).append(";\n");
        }
        if (file.getDependencyCount() > 0) {
            out.append('\n');
            file.getDependencyList().forEach(d -> out.append("import \"").append(d).append("\";\n"));
        }
        for (DescriptorProto message : file.getMessageTypeList()) {
            out.append('\n');
            message(out, message, "");
        }
        return out.toString();
    }

    private static void message(StringBuilder out, DescriptorProto message, String indent) {
        out.append(indent).append("message ").append(message.getName()).append(" {\n");
        Map<String, DescriptorProto> mapEntries = new HashMap<>();
        message.getNestedTypeList().stream().filter(n -> n.getOptions().getMapEntry())
                .forEach(n -> mapEntries.put(n.getName(), n));
        for (FieldDescriptorProto field : message.getFieldList()) {
            out.append(indent).append("  ");
            String typeName = field.getTypeName();
            DescriptorProto entry = mapEntries.get(typeName.substring(typeName.lastIndexOf('.') + 1));
            if (entry != null && field.getLabel() == FieldDescriptorProto.Label.LABEL_REPEATED) {
                out.append("map<").append(type(entry.getField(0))).append(", ").append(type(entry.getField(1)))
                        .append("> ");
            } else {
                if (field.getProto3Optional()) {
                    out.append("optional ");
                } else if (field.getLabel() == FieldDescriptorProto.Label.LABEL_REPEATED) {
                    out.append("repeated ");
                }
                out.append(type(field)).append(' ');
            }
            out.append(field.getName()).append(" = ").append(field.getNumber()).append(";\n");
        }
        for (DescriptorProto nested : message.getNestedTypeList()) {
            if (!nested.getOptions().getMapEntry()) {
                out.append('\n');
                message(out, nested, indent + "  ");
            }
        }
        out.append(indent).append("}\n");
    }

    private static String type(FieldDescriptorProto field) {
        return switch (field.getType()) {
            case TYPE_MESSAGE -> field.getTypeName();
            case TYPE_INT32 -> "int32";
            case TYPE_INT64 -> "int64";
            case TYPE_FLOAT -> "float";
            case TYPE_DOUBLE -> "double";
            case TYPE_BOOL -> "bool";
            case TYPE_STRING -> "string";
            case TYPE_BYTES -> "bytes";
            default -> throw new IllegalArgumentException("unexpected field type " + field.getType());
        };
    }
}
