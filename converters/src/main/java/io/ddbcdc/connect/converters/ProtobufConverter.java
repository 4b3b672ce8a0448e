package io.ddbcdc.connect.converters;

/** Records as Protobuf (proto3) in Confluent's wire format (output.data.format=PROTOBUF). */
public class ProtobufConverter extends RegistryConverter {
    @Override
    protected SchemaFormat format() {
        return new ProtobufFormat();
    }
}
