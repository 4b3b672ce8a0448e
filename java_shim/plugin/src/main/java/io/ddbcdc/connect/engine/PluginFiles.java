package io.ddbcdc.connect.engine;

import java.io.InputStream;
import java.nio.file.Path;
import java.util.Properties;

/** The plugin's version and where its archive keeps the engine's wheel (packaging/package.py puts it there). */
public final class PluginFiles {
    public static final String VERSION = readVersion();

    private PluginFiles() {
    }

    /** The wheel beside the plugin's lib/ directory: {@code <plugin dir>/wheel/ddb_cdc_connect-<version>-...whl}. */
    static String wheel() {
        String name = "ddb_cdc_connect-" + VERSION + "-py3-none-any.whl";
        try {
            Path jar = Path.of(PluginFiles.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return jar.getParent().resolveSibling("wheel").resolve(name).toString();
        } catch (Exception | Error e) {
            return "<plugin dir>/wheel/" + name;
        }
    }

    private static String readVersion() {
        try (InputStream in = PluginFiles.class.getResourceAsStream("/ddb-cdc-source.properties")) {
            Properties p = new Properties();
            p.load(in);
            return p.getProperty("version", "unknown");
        } catch (Exception e) {
            return "unknown";
        }
    }
}
