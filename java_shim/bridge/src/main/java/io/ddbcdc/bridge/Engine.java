package io.ddbcdc.bridge;

/**
 * What the Connect shim asks of the Python engine. The launcher implements it with a JPype proxy
 * and registers it in {@link EngineHolder}. Cold-path calls carry JSON text; the hot path
 * ({@link #poll}) returns one binary batch per call so a poll crosses the bridge once.
 *
 * <p>Every method may be called from many Connect threads at once. A failure arrives as a
 * {@code org.apache.kafka.connect.errors.ConnectException} (or its {@code RetriableException}
 * subclass), already classified by the engine.
 */
public interface Engine {

    /** The connector's property table as JSON: a list of property descriptions. */
    String configDefinition();

    /** Validates a connector configuration (JSON object); returns JSON {property: [problems]}. */
    String validate(String configJson);

    /** Checks a connector's configuration as it starts; fails for one this build cannot run. */
    void startConnector(String configJson);

    /** The tables to capture now: JSON {"tables": [names], "intervalMs": how often to ask again, 0 = never}. */
    String discoverTables(String configJson);

    /** The source partitions (JSON list of maps) whose stored offsets the caller should read. */
    String offsetPartitions(String configJson);

    /**
     * Checks an edit of the connector's offsets through Connect's REST API (a JSON list of {partition,
     * offset}; every offset null for a reset): null to allow it, else why it is refused.
     */
    String alterOffsets(String configJson, String offsetsJson);

    /** Splits the connector's work; offsetsJson is a list of {partition, offset} already stored. */
    String taskConfigs(String configJson, int maxTasks, String offsetsJson);

    /** Starts a task and returns its handle; offsetsJson as for {@link #taskConfigs}. */
    String startTask(String taskConfigJson, String offsetsJson);

    /**
     * The next batch for a task (null when none came within the linger), in the wire format
     * RecordBatchDecoder reads. The buffer is a direct view of Python memory, valid until this
     * thread's next poll: decode it before polling again.
     */
    java.nio.ByteBuffer poll(String taskHandle);

    /** Every record of the batch has been written to Kafka (or dropped by a transform). */
    void acknowledge(String taskHandle, long batchId);

    /** Stops a task; wakes a poll in progress. Idempotent. */
    void stopTask(String taskHandle);
}
