package io.ddbcdc.connect;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.header.Headers;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Turns one batch from the engine into SourceRecords. The format is written by
 * python_connector/wire.py (which documents it); all integers are little-endian:
 *
 * <pre>
 * batch  := i64 batchId, i32 groupCount, group*
 * group  := str headerJson, i32 recordCount, record*
 * record := i64 sourceTsNs, str op, str seqNo, str key[keyCount], str before, str after, str position,
 *           str headers (JSON object of string headers, or null)
 * str    := i32 byteLength (-1 for null), UTF-8 bytes
 * </pre>
 *
 * A group shares its table and source fields; a delete is followed by its tombstone here. A group of kind
 * "offset" has no records and stands for one record that only carries an offset (TypeA, TypeC).
 * Not thread-safe: each task has its own decoder.
 */
final class RecordBatchDecoder {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {
    };

    private static final Schema HEARTBEAT_KEY = SchemaBuilder.struct().name("io.ddbcdc.dynamodb.HeartbeatKey")
            .field("tableName", Schema.STRING_SCHEMA).build();
    private static final Schema HEARTBEAT = SchemaBuilder.struct().name("io.ddbcdc.dynamodb.Heartbeat")
            .field("tableName", Schema.STRING_SCHEMA).field("offset", Schema.STRING_SCHEMA).build();

    private final Map<String, EnvelopeSchemas> schemas = new ConcurrentHashMap<>();
    private byte[] scratch = new byte[64 * 1024];

    /** A decoded batch: its id (for the acknowledgement) and its records in order. */
    record Batch(long id, List<SourceRecord> records) {
    }

    @SuppressWarnings("unchecked")
    Batch decode(ByteBuffer bytes, RecordFactory factory) {
        ByteBuffer in = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long batchId = in.getLong();
        int groups = in.getInt();
        List<SourceRecord> out = new ArrayList<>();
        for (int g = 0; g < groups; g++) {
            Map<String, Object> header = readJson(readString(in));
            String topic = (String) header.get("topic");
            if ("offset".equals(header.get("kind"))) {
                in.getInt(); // no records: the group stands for one record that carries an offset
                out.add(offsetRecord(header, topic, factory));
                continue;
            }
            String table = (String) header.get("table");
            List<List<String>> keyAttributes = (List<List<String>>) header.get("key");
            EnvelopeSchemas s = schemas.computeIfAbsent(table + '\u0000' + keyAttributes,
                    k -> new EnvelopeSchemas(table, keyAttributes));
            Map<String, Object> partition = OffsetsJson.canonical((Map<String, Object>) header.get("partition"));
            Map<String, Object> offset = (Map<String, Object>) header.get("offset");
            Map<String, Object> lastOffset = (Map<String, Object>) header.get("lastOffset");
            String positionField = (String) header.get("positionField");
            long tsNs = ((Number) header.get("tsNs")).longValue();
            int count = in.getInt();
            for (int r = 0; r < count; r++) {
                long sourceTsNs = in.getLong();
                String op = readString(in);
                String seqNo = readString(in);
                Struct key = new Struct(s.key);
                for (List<String> attribute : keyAttributes) {
                    String v = readString(in);
                    key.put(attribute.get(0), "B".equals(attribute.get(1)) ? Base64.getDecoder().decode(v) : v);
                }
                String before = readString(in);
                String after = readString(in);
                String position = readString(in);
                String headersJson = readString(in);
                ConnectHeaders headers = new ConnectHeaders();
                if (headersJson != null) {
                    readJson(headersJson).forEach((k, v) -> headers.addString(k, String.valueOf(v)));
                }

                Struct source = new Struct(EnvelopeSchemas.SOURCE)
                        .put("tableName", table)
                        .put("sync_mode", header.get("syncMode"))
                        .put("ts_ms", sourceTsNs / 1_000_000L)
                        .put("ts_us", sourceTsNs / 1_000L)
                        .put("ts_ns", sourceTsNs)
                        .put("snapshotStartTime", asLong(header.get("snapshotStartTime")))
                        .put("snapshotCount", asInt(header.get("snapshotCount")))
                        .put("segment", asInt(header.get("segment")))
                        .put("totalSegments", asInt(header.get("totalSegments")))
                        .put("shard_Id", header.get("shardId"))
                        .put("seq_No", seqNo);
                Struct value = new Struct(s.envelope)
                        .put("op", op)
                        .put("ts_ms", tsNs / 1_000_000L)
                        .put("ts_us", tsNs / 1_000L)
                        .put("ts_ns", tsNs)
                        .put("source", source)
                        .put("before", before == null ? null : new Struct(s.value).put("document", before))
                        .put("after", after == null ? null : new Struct(s.value).put("document", after));

                Map<String, Object> recordOffset = new HashMap<>(offset);
                if (positionField != null && position != null) {
                    recordOffset.put(positionField, position);
                }
                if (lastOffset != null && r == count - 1) {
                    recordOffset.putAll(lastOffset);
                }
                out.add(factory.create(partition, recordOffset, topic, s.key, key, s.envelope, value, headers));
                if ("d".equals(op)) {
                    out.add(factory.create(partition, recordOffset, topic, s.key, key, null, null, headers));
                }
            }
        }
        return new Batch(batchId, out);
    }

    /**
     * A record whose only purpose is its offset: key {tableName}, value {tableName, offset as JSON}. Named
     * structs, so every converter (Avro, Protobuf, JSON Schema, any subject strategy) can write it.
     */
    @SuppressWarnings("unchecked")
    private static SourceRecord offsetRecord(Map<String, Object> header, String topic, RecordFactory factory) {
        Map<String, Object> offset = (Map<String, Object>) header.get("offset");
        String json;
        try {
            json = JSON.writeValueAsString(offset);
        } catch (IOException e) {
            throw new ConnectException("Cannot write an offset as JSON", e);
        }
        Object table = header.get("key");
        return factory.create(OffsetsJson.canonical((Map<String, Object>) header.get("partition")), offset, topic,
                HEARTBEAT_KEY, new Struct(HEARTBEAT_KEY).put("tableName", table), HEARTBEAT,
                new Struct(HEARTBEAT).put("tableName", table).put("offset", json), new ConnectHeaders());
    }

    /** How a record is made, so the task can attach its batch for acknowledgement. */
    interface RecordFactory {
        SourceRecord create(Map<String, ?> partition, Map<String, ?> offset, String topic,
                            Schema keySchema, Object key,
                            Schema valueSchema, Object value, Headers headers);
    }

    /** Copies out of the (direct) buffer through a scratch array: one copy, no per-string allocation. */
    private String readString(ByteBuffer in) {
        int len = in.getInt();
        if (len < 0) {
            return null;
        }
        if (len > scratch.length) {
            scratch = new byte[Math.max(len, scratch.length * 2)];
        }
        in.get(scratch, 0, len);
        return new String(scratch, 0, len, StandardCharsets.UTF_8);
    }

    private static Map<String, Object> readJson(String json) {
        try {
            return JSON.readValue(json, MAP);
        } catch (IOException e) {
            throw new ConnectException("Corrupt JSON in a batch from the engine", e);
        }
    }

    private static Long asLong(Object o) {
        return o == null ? null : ((Number) o).longValue();
    }

    private static Integer asInt(Object o) {
        return o == null ? null : ((Number) o).intValue();
    }
}
