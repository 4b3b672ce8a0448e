package io.ddbcdc.connect.engine;

import io.ddbcdc.bridge.Engine;
import io.ddbcdc.bridge.EngineHolder;
import java.lang.reflect.UndeclaredThrowableException;
import java.nio.ByteBuffer;
import java.util.function.Function;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * The engine in the worker's own process, registered by our launcher through JPype. The only class of the plugin
 * that names the bridge types: on a stock worker (no bridge jar) {@link #available()} answers false instead of the
 * JVM failing with NoClassDefFoundError, and no other method is reached.
 */
public final class InProcessTransport implements EngineTransport {
    public static final InProcessTransport INSTANCE = new InProcessTransport();

    private InProcessTransport() {
    }

    /** Whether this worker was started by our launcher, which hosts the engine. */
    public static boolean available() {
        try {
            return EngineHolder.get() != null;
        } catch (NoClassDefFoundError e) {
            return false;
        }
    }

    @Override
    public String configDefinition() {
        return call("configDefinition", Engine::configDefinition);
    }

    @Override
    public String validate(String configJson) {
        return call("validate", e -> e.validate(configJson));
    }

    @Override
    public void startConnector(String configJson) {
        call("startConnector", e -> {
            e.startConnector(configJson);
            return null;
        });
    }

    @Override
    public String discoverTables(String configJson) {
        return call("discoverTables", e -> e.discoverTables(configJson));
    }

    @Override
    public String offsetPartitions(String configJson) {
        return call("offsetPartitions", e -> e.offsetPartitions(configJson));
    }

    @Override
    public String alterOffsets(String configJson, String offsetsJson) {
        return call("alterOffsets", e -> e.alterOffsets(configJson, offsetsJson));
    }

    @Override
    public String taskConfigs(String configJson, int maxTasks, String offsetsJson) {
        return call("taskConfigs", e -> e.taskConfigs(configJson, maxTasks, offsetsJson));
    }

    @Override
    public String startTask(String taskConfigJson, String offsetsJson) {
        return call("startTask", e -> e.startTask(taskConfigJson, offsetsJson));
    }

    @Override
    public ByteBuffer poll(String taskHandle) {
        return call("poll", e -> e.poll(taskHandle));
    }

    @Override
    public void acknowledge(String taskHandle, long batchId) {
        call("acknowledge", e -> {
            e.acknowledge(taskHandle, batchId);
            return null;
        });
    }

    @Override
    public void stopTask(String taskHandle) {
        call("stopTask", e -> {
            e.stopTask(taskHandle);
            return null;
        });
    }

    @Override
    public void close() {
        // the launcher owns the engine
    }

    private static <T> T call(String what, Function<Engine, T> body) {
        Engine engine = EngineHolder.get();
        if (engine == null) {
            throw new ConnectException("The in-process DynamoDB CDC engine is not registered in this worker");
        }
        try {
            return body.apply(engine);
        } catch (ConnectException e) {
            throw e; // already classified by the engine
        } catch (UndeclaredThrowableException e) {
            // A Python error the bridge did not classify arrives wrapped in JPype's PyExceptionProxy.
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new ConnectException("DynamoDB CDC engine call '" + what + "' failed: " + cause.getMessage(), cause);
        }
    }
}
