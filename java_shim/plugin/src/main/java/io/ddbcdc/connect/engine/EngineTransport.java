package io.ddbcdc.connect.engine;

import java.nio.ByteBuffer;

/**
 * The engine's operations as the plugin calls them, whichever way it is reached: in the worker's own process
 * (JPype, under our launcher) or in a Python child process (any stock worker). The same operations as
 * {@code io.ddbcdc.bridge.Engine}, named here so that the plugin compiles and loads without the bridge jar.
 *
 * <p>Calls may come from many Connect threads at once. A failure arrives as a {@code ConnectException} (or its
 * {@code RetriableException} subclass), already classified by the engine.
 */
public interface EngineTransport extends AutoCloseable {

    String configDefinition();

    String validate(String configJson);

    void startConnector(String configJson);

    String discoverTables(String configJson);

    String offsetPartitions(String configJson);

    String alterOffsets(String configJson, String offsetsJson);

    String taskConfigs(String configJson, int maxTasks, String offsetsJson);

    String startTask(String taskConfigJson, String offsetsJson);

    /**
     * The next batch in the wire format (null when none came within the linger); decode it before this thread calls
     * the engine again.
     */
    ByteBuffer poll(String taskHandle);

    void acknowledge(String taskHandle, long batchId);

    void stopTask(String taskHandle);

    /** Releases what this transport owns (a task's engine process); a shared one stays. */
    @Override
    void close();
}
