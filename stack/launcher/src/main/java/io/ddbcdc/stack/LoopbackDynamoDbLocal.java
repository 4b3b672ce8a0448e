package io.ddbcdc.stack;

import java.lang.reflect.Field;
import java.lang.reflect.Method;

/**
 * Starts DynamoDB Local like its ServerRunner, but listening on 127.0.0.1 only (ServerRunner has
 * no host option and binds every interface). Arguments are ServerRunner's, for example
 * {@code -inMemory -port 8000}. Reflection keeps this free of a compile-time dependency.
 */
public final class LoopbackDynamoDbLocal {
    private LoopbackDynamoDbLocal() {
    }

    public static void main(String[] args) throws Exception {
        Class<?> runner = Class.forName("software.amazon.dynamodb.services.local.main.ServerRunner");
        Object proxy = runner.getMethod("createServerFromCommandLineArgs", String[].class).invoke(null, (Object) args);
        Object jetty = null;
        for (Field f : proxy.getClass().getDeclaredFields()) {
            if (f.getType().getName().equals("org.eclipse.jetty.server.Server")) {
                f.setAccessible(true);
                jetty = f.get(proxy);
            }
        }
        if (jetty == null) {
            throw new IllegalStateException("DynamoDB Local's Jetty server was not found; cannot bind to loopback");
        }
        for (Object connector : (Object[]) jetty.getClass().getMethod("getConnectors").invoke(jetty)) {
            Method setHost = connector.getClass().getMethod("setHost", String.class);
            setHost.invoke(connector, "127.0.0.1");
        }
        proxy.getClass().getMethod("start").invoke(proxy);
        proxy.getClass().getMethod("join").invoke(proxy);
    }
}
