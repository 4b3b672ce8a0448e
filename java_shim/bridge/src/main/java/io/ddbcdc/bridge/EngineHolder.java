package io.ddbcdc.bridge;

/**
 * The one place the shim finds the engine. It lives on the worker's system classpath so that
 * the launcher (through JPype) and the plugin (through Connect's plugin class loader) see the
 * same class and therefore the same static field.
 */
public final class EngineHolder {
    private static volatile Engine engine;

    private EngineHolder() {
    }

    public static void register(Engine e) {
        engine = e;
    }

    /** The registered engine, or null when the worker was not started by our launcher. */
    public static Engine get() {
        return engine;
    }
}
