package io.ddbcdc.connect.converters;

/** Records as Avro binary in Confluent's wire format (output.data.format=AVRO). */
public class AvroConverter extends RegistryConverter {
    @Override
    protected SchemaFormat format() {
        return new AvroFormat();
    }
}
