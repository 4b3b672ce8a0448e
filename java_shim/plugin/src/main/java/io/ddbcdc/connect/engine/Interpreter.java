package io.ddbcdc.connect.engine;

import java.util.Map;

/** The Python that runs the engine in process mode, and where that choice came from (for messages). */
record Interpreter(String command, String source) {
    static final String PROPERTY = "engine.python";
    static final String ENV = "DDB_CDC_PYTHON";

    /** engine.python, else $DDB_CDC_PYTHON, else python3 on the PATH. */
    static Interpreter of(Map<String, String> props) {
        String configured = props.get(PROPERTY);
        if (configured != null && !configured.isBlank()) {
            return new Interpreter(configured.trim(), PROPERTY);
        }
        String env = System.getenv(ENV);
        if (env != null && !env.isBlank()) {
            return new Interpreter(env.trim(), "the worker's " + ENV);
        }
        return new Interpreter("python3", "python3 on the worker's PATH");
    }

    @Override
    public String toString() {
        return "'" + command + "' (" + source + ")";
    }
}
