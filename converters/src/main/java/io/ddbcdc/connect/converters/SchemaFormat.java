package io.ddbcdc.connect.converters;

import org.apache.kafka.connect.data.Schema;

/** One output format: a Connect schema as the schema to register and the serializer of its values. */
interface SchemaFormat {
    FormattedSchema describe(Schema schema);
}
