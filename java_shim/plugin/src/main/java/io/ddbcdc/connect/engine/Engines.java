package io.ddbcdc.connect.engine;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.ConnectException;

/**
 * Which engine a connector or task talks to, by {@code engine.mode}: the launcher's in-process engine, or a Python
 * child process. Tasks get a process each (they run in parallel on separate cores); the connector side (property
 * table, validation, discovery, task split, offset edits) shares one per worker and interpreter.
 */
public final class Engines {
    public static final String MODE = "engine.mode";
    public static final String PYTHON = Interpreter.PROPERTY;
    static final String IN_PROCESS_MISSING = "engine.mode is in-process, but this worker was not started by the "
            + "launcher (`ddb-cdc worker`), so no engine runs inside it. Use engine.mode=auto or process to run the "
            + "engine in a Python child process.";
    private static final Map<String, ProcessTransport> SHARED = new ConcurrentHashMap<>();

    private Engines() {
    }

    enum Mode { AUTO, IN_PROCESS, PROCESS }

    static Mode mode(Map<String, String> props) {
        String value = props.getOrDefault(MODE, "auto");
        return switch (value == null ? "auto" : value.trim().toLowerCase(Locale.ROOT)) {
            case "auto", "" -> Mode.AUTO;
            case "in-process" -> Mode.IN_PROCESS;
            case "process" -> Mode.PROCESS;
            default -> throw new ConfigException(MODE, value, "must be one of auto, in-process, process");
        };
    }

    /** Why this configuration cannot run on this worker (the validation's message for engine.mode), or null. */
    public static String unavailable(Map<String, String> props) {
        return mode(props) == Mode.IN_PROCESS && !InProcessTransport.available() ? IN_PROCESS_MISSING : null;
    }

    private static boolean inProcess(Map<String, String> props) {
        Mode mode = mode(props);
        if (mode == Mode.IN_PROCESS && !InProcessTransport.available()) {
            throw new ConnectException(IN_PROCESS_MISSING);
        }
        return mode == Mode.IN_PROCESS || mode == Mode.AUTO && InProcessTransport.available();
    }

    /** The connector side's engine: in-process, or the worker's shared process for this interpreter. */
    public static EngineTransport connectorSide(Map<String, String> props) {
        if (inProcess(props)) {
            return InProcessTransport.INSTANCE;
        }
        Interpreter python = Interpreter.of(props);
        return SHARED.compute(python.command(), (command, existing) -> {
            if (existing != null && existing.alive()) {
                return existing;
            }
            if (existing != null) {
                existing.terminate();
            }
            return ProcessTransport.start(python, "connector side", false);
        });
    }

    /** A task's own engine: in-process, or a new process that the transport's close() ends. */
    public static EngineTransport forTask(Map<String, String> props, String context) {
        return inProcess(props) ? InProcessTransport.INSTANCE : ProcessTransport.start(Interpreter.of(props), context,
                true);
    }
}
