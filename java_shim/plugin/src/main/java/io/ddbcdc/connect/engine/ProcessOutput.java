package io.ddbcdc.connect.engine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Deque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;
import org.slf4j.event.Level;

/**
 * Drains the engine process's output (Python logging on stderr, stdout merged into it) into the worker's log, line
 * by line and continuously (a full pipe would block the child), at the level each line starts with, and keeps the
 * last lines for the message of a failure.
 */
final class ProcessOutput {
    private static final Logger LOG = LoggerFactory.getLogger("io.ddbcdc.engine");
    private static final int TAIL_LINES = 20;
    private static final String MDC_CONTEXT = "connector.context"; // Connect's own, for its log pattern

    private final Deque<String> tail = new ArrayDeque<>();
    private final Thread thread;

    ProcessOutput(Process process, String context) {
        String mdc = MDC.get(MDC_CONTEXT); // "[connector|task-0] " on a task's thread
        String prefix = "[engine pid " + process.pid() + ", " + (mdc == null ? context : mdc.trim()) + "] ";
        thread = new Thread(() -> drain(process, mdc, prefix), "ddbcdc-engine-output-" + process.pid());
        thread.setDaemon(true);
        thread.start();
    }

    private void drain(Process process, String mdc, String prefix) {
        if (mdc != null) {
            MDC.put(MDC_CONTEXT, mdc);
        }
        Level level = Level.INFO; // a traceback's lines keep the level of the line that started it
        try (BufferedReader in = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                Level own = levelOf(line);
                level = own != null ? own : line.startsWith(" ") || line.startsWith("Traceback") ? level : Level.WARN;
                log(level, prefix + (own != null ? line.substring(line.indexOf(' ') + 1) : line));
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > TAIL_LINES) {
                        tail.removeFirst();
                    }
                }
            }
        } catch (IOException e) {
            LOG.debug("{}output closed: {}", prefix, e.getMessage());
        }
    }

    private static void log(Level level, String message) {
        switch (level) {
            case ERROR -> LOG.error(message);
            case WARN -> LOG.warn(message);
            case DEBUG, TRACE -> LOG.debug(message);
            default -> LOG.info(message);
        }
    }

    /** The level a Python logging line starts with; null for other output (a traceback's lines, a print). */
    private static Level levelOf(String line) {
        int space = line.indexOf(' ');
        return switch (space > 0 ? line.substring(0, space) : "") {
            case "CRITICAL", "ERROR" -> Level.ERROR;
            case "WARNING" -> Level.WARN;
            case "INFO" -> Level.INFO;
            case "DEBUG" -> Level.DEBUG;
            default -> null;
        };
    }

    /** The last lines the process wrote, waiting a moment for a dying process's last words. */
    String tail() {
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (tail) {
            return tail.isEmpty() ? "(no output)" : String.join("\n", tail);
        }
    }
}
