package io.ddbcdc.connect.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.connect.errors.ConnectException;
import org.junit.jupiter.api.Test;

/** engine.mode and engine.python on a worker without the launcher (no engine registered with the bridge). */
class EnginesTest {

    @Test
    void modesParseAndABadOneNamesTheSetting() {
        assertEquals(Engines.Mode.AUTO, Engines.mode(Map.of()));
        assertEquals(Engines.Mode.PROCESS, Engines.mode(Map.of("engine.mode", " Process ")));
        ConfigException bad = assertThrows(ConfigException.class, () -> Engines.mode(Map.of("engine.mode", "jvm")));
        assertTrue(bad.getMessage().contains("engine.mode"), bad.getMessage());
    }

    @Test
    void inProcessWithoutTheLauncherIsRefusedSayingWhy() {
        assertNull(Engines.unavailable(Map.of("engine.mode", "auto")));
        assertTrue(Engines.unavailable(Map.of("engine.mode", "in-process")).contains("not started by the launcher"));
        assertThrows(ConnectException.class, () -> Engines.forTask(Map.of("engine.mode", "in-process"), "t"));
    }

    @Test
    void anInterpreterThatCannotRunIsNamedWithTheInstallCommand() {
        ConnectException e = assertThrows(ConnectException.class,
                () -> Engines.forTask(Map.of("engine.python", "/nonexistent/python3"), "t"));
        assertTrue(e.getMessage().contains("'/nonexistent/python3' (engine.python)"), e.getMessage());
        assertTrue(e.getMessage().contains("/nonexistent/python3 -m pip install "), e.getMessage());
        assertTrue(e.getMessage().contains("ddb_cdc_connect-" + PluginFiles.VERSION + "-py3-none-any.whl"));
    }
}
