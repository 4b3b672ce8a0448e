package io.ddbcdc.connect;

import io.ddbcdc.bridge.Engine;
import io.ddbcdc.bridge.EngineHolder;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.function.Function;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * The only class of the plugin that names the bridge types, so that a stock worker (no bridge jar
 * on its classpath) still loads the connector and fails with {@link #NOT_LAUNCHED} instead of a
 * NoClassDefFoundError.
 */
final class EngineAccess {
    static final String NOT_LAUNCHED = "The DynamoDB CDC Source connector runs its engine in Python, so it needs a "
            + "Kafka Connect worker started by its launcher: `ddb-cdc worker connect-distributed.properties` "
            + "(see README, 'Running a worker'). This worker was started some other way (for example with "
            + "connect-distributed.sh), so the engine is not available.";

    private EngineAccess() {
    }

    static boolean available() {
        try {
            return EngineHolder.get() != null;
        } catch (NoClassDefFoundError e) {
            return false;
        }
    }

    static String configDefinition() {
        return call("configDefinition", Engine::configDefinition);
    }

    static String validate(String configJson) {
        return call("validate", e -> e.validate(configJson));
    }

    static void startConnector(String configJson) {
        call("startConnector", e -> {
            e.startConnector(configJson);
            return null;
        });
    }

    static String discoverTables(String configJson) {
        return call("discoverTables", e -> e.discoverTables(configJson));
    }

    static String offsetPartitions(String configJson) {
        return call("offsetPartitions", e -> e.offsetPartitions(configJson));
    }

    static String alterOffsets(String configJson, String offsetsJson) {
        return call("alterOffsets", e -> e.alterOffsets(configJson, offsetsJson));
    }

    static String taskConfigs(String configJson, int maxTasks, String offsetsJson) {
        return call("taskConfigs", e -> e.taskConfigs(configJson, maxTasks, offsetsJson));
    }

    static String startTask(String taskConfigJson, String offsetsJson) {
        return call("startTask", e -> e.startTask(taskConfigJson, offsetsJson));
    }

    static java.nio.ByteBuffer poll(String taskHandle) {
        return call("poll", e -> e.poll(taskHandle));
    }

    static void acknowledge(String taskHandle, long batchId) {
        call("acknowledge", e -> {
            e.acknowledge(taskHandle, batchId);
            return null;
        });
    }

    static void stopTask(String taskHandle) {
        call("stopTask", e -> {
            e.stopTask(taskHandle);
            return null;
        });
    }

    private static <T> T call(String what, Function<Engine, T> body) {
        Engine engine;
        try {
            engine = EngineHolder.get();
        } catch (NoClassDefFoundError e) {
            throw new ConnectException(NOT_LAUNCHED);
        }
        if (engine == null) {
            throw new ConnectException(NOT_LAUNCHED);
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
