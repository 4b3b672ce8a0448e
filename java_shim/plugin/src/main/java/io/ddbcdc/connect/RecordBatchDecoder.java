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
 * python_connector/records/wire.py (which documents it); all integers are little-endian:
 *
 * <pre>
 * batch  := i64 batchId, i32 groupCount, group*
 * group  := str headerJson, i32 recordCount, record*
 * record := i64 sourceTsNs, str op, str seqNo, str key[keyCount], str before, str after, str position,
 *           str headers (JSON object of string headers, or null)
 * str    := i32 byteLength (-1 for null), UTF-8 bytes
 * </pre>
 *
 * A group shares its table and source fields; its header says whether a delete is followed by a tombstone. The
 * engine decides every field and offset (python_connector/records/); this class only builds Structs. A group of kind
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

    Batch decode(ByteBuffer bytes, RecordFactory factory) {
        ByteBuffer in = bytes.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        long batchId = in.getLong();
        int groups = in.getInt();
        List<SourceRecord> out = new ArrayList<>();
        for (int g = 0; g < groups; g++) {
            Map<String, Object> header = readJson(readString(in));
            int count = in.getInt();
            if ("offset".equals(header.get("kind"))) {
                out.add(offsetRecord(header, (String) header.get("topic"), factory)); // count is 0
                continue;
            }
            Group group = group(header);
            for (int r = 0; r < count; r++) {
                decodeRecord(in, group, r == count - 1, factory, out);
            }
        }
        return new Batch(batchId, out);
    }

    /*
     * Kept in small methods: the JIT compiles (and recompiles) one large decode loop for over a second of a core,
     * which a short snapshot pays for in throughput.
     */

    /** What a group's records share, read once from its header. */
    private static final class Group {
        final String table;
        final String topic;
        final EnvelopeSchemas schemas;
        final String[] keyNames;
        final boolean[] keyIsBinary;
        final Map<String, Object> partition;
        final Map<String, Object> offset;
        final Map<String, Object> lastOffset;
        final String positionField;
        final long tsNs;
        final Object syncMode;
        final Long snapshotStartTime;
        final Integer snapshotCount;
        final Integer segment;
        final Integer totalSegments;
        final Object shardId;
        final boolean tombstones;
        // A snapshot page's records share one source block (same time, no sequence number): built once.
        Struct source;
        long sourceTsNs;

        @SuppressWarnings("unchecked")
        Group(Map<String, Object> header, EnvelopeSchemas schemas) {
            table = (String) header.get("table");
            topic = (String) header.get("topic");
            this.schemas = schemas;
            List<List<String>> keyAttributes = (List<List<String>>) header.get("key");
            keyNames = keyAttributes.stream().map(a -> a.get(0)).toArray(String[]::new);
            keyIsBinary = new boolean[keyNames.length];
            for (int i = 0; i < keyNames.length; i++) {
                keyIsBinary[i] = "B".equals(keyAttributes.get(i).get(1));
            }
            partition = OffsetsJson.canonical((Map<String, Object>) header.get("partition"));
            offset = (Map<String, Object>) header.get("offset");
            lastOffset = (Map<String, Object>) header.get("lastOffset");
            positionField = (String) header.get("positionField");
            tsNs = ((Number) header.get("tsNs")).longValue();
            syncMode = header.get("syncMode");
            snapshotStartTime = asLong(header.get("snapshotStartTime"));
            snapshotCount = asInt(header.get("snapshotCount"));
            segment = asInt(header.get("segment"));
            totalSegments = asInt(header.get("totalSegments"));
            shardId = header.get("shardId");
            tombstones = Boolean.TRUE.equals(header.get("tombstones"));
        }

        Struct source(long ts, String seqNo) {
            if (source == null || seqNo != null || ts != sourceTsNs) {
                source = new Struct(EnvelopeSchemas.SOURCE)
                        .put("tableName", table)
                        .put("sync_mode", syncMode)
                        .put("ts_ms", ts / 1_000_000L)
                        .put("ts_us", ts / 1_000L)
                        .put("ts_ns", ts)
                        .put("snapshotStartTime", snapshotStartTime)
                        .put("snapshotCount", snapshotCount)
                        .put("segment", segment)
                        .put("totalSegments", totalSegments)
                        .put("shard_Id", shardId)
                        .put("seq_No", seqNo);
                sourceTsNs = ts;
            }
            return source;
        }
    }

    @SuppressWarnings("unchecked")
    private Group group(Map<String, Object> header) {
        String table = (String) header.get("table");
        List<List<String>> keyAttributes = (List<List<String>>) header.get("key");
        return new Group(header, schemas.computeIfAbsent(table + '\u0000' + keyAttributes,
                k -> new EnvelopeSchemas(table, keyAttributes)));
    }

    private void decodeRecord(ByteBuffer in, Group g, boolean last, RecordFactory factory, List<SourceRecord> out) {
        long sourceTsNs = in.getLong();
        String op = readString(in);
        String seqNo = readString(in);
        Struct key = new Struct(g.schemas.key);
        for (int i = 0; i < g.keyNames.length; i++) {
            String v = readString(in);
            key.put(g.keyNames[i], g.keyIsBinary[i] ? Base64.getDecoder().decode(v) : v);
        }
        String before = readString(in);
        String after = readString(in);
        String position = readString(in);
        ConnectHeaders headers = headers(readString(in));
        Struct value = new Struct(g.schemas.envelope)
                .put("op", op)
                .put("ts_ms", g.tsNs / 1_000_000L)
                .put("ts_us", g.tsNs / 1_000L)
                .put("ts_ns", g.tsNs)
                .put("source", g.source(sourceTsNs, seqNo))
                .put("before", before == null ? null : new Struct(g.schemas.value).put("document", before))
                .put("after", after == null ? null : new Struct(g.schemas.value).put("document", after));
        Map<String, Object> recordOffset = new HashMap<>(g.offset);
        if (g.positionField != null && position != null) {
            recordOffset.put(g.positionField, position);
        }
        if (g.lastOffset != null && last) {
            recordOffset.putAll(g.lastOffset);
        }
        out.add(factory.create(g.partition, recordOffset, g.topic, g.schemas.key, key, g.schemas.envelope, value,
                headers));
        if (g.tombstones && "d".equals(op)) {
            out.add(factory.create(g.partition, recordOffset, g.topic, g.schemas.key, key, null, null, headers));
        }
    }

    private static ConnectHeaders headers(String json) {
        ConnectHeaders headers = new ConnectHeaders();
        if (json != null) {
            readJson(json).forEach((k, v) -> headers.addString(k, String.valueOf(v)));
        }
        return headers;
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
