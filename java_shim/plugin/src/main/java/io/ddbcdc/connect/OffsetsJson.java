package io.ddbcdc.connect;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ddbcdc.connect.engine.EngineTransport;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.storage.OffsetStorageReader;

/** JSON in and out of the engine: configurations, partition lists and the offsets Connect stored. */
final class OffsetsJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private OffsetsJson() {
    }

    static String write(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (Exception e) {
            throw new ConnectException("Cannot encode JSON for the engine", e);
        }
    }

    static <T> T read(String json, TypeReference<T> type) {
        try {
            return JSON.readValue(json, type);
        } catch (Exception e) {
            throw new ConnectException("Unreadable JSON from the engine: " + e.getMessage(), e);
        }
    }

    /**
     * A partition map in the key order Connect itself uses. Connect's offset store finds an offset by the
     * serialized partition; when it reads partitions back (GET /connectors/{name}/offsets) it holds them as
     * HashMaps, so a partition written in another order would not be found again.
     */
    static Map<String, Object> canonical(Map<String, Object> partition) {
        return new HashMap<>(partition);
    }

    /**
     * Reads, in one batched call, the stored offsets of the partitions the engine names for this
     * configuration, and returns them as a JSON list of {partition, offset}.
     */
    static String readStored(EngineTransport engine, String configJson, OffsetStorageReader reader) {
        List<Map<String, Object>> partitions = read(engine.offsetPartitions(configJson),
                new TypeReference<List<Map<String, Object>>>() {
                }).stream().map(OffsetsJson::canonical).toList();
        Map<Map<String, Object>, Map<String, Object>> stored = reader.offsets(partitions);
        List<Map<String, Object>> found = new ArrayList<>();
        stored.forEach((partition, offset) -> {
            if (offset != null) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("partition", partition);
                entry.put("offset", offset);
                found.add(entry);
            }
        });
        return write(found);
    }
}
