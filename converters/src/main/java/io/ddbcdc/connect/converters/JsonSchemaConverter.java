package io.ddbcdc.connect.converters;

/** Records as JSON with a registered JSON Schema, in Confluent's wire format (output.data.format=JSON_SR). */
public class JsonSchemaConverter extends RegistryConverter {
    @Override
    protected SchemaFormat format() {
        return new JsonSchemaFormat();
    }
}
