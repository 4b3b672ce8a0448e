package io.ddbcdc.connect.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.connect.errors.ConnectException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One engine child process: {@code <python> -m python_connector.process}, its socket and its life. Started with the
 * socket path and a random secret in its environment (never on the command line); the plugin connects, sends the
 * secret and checks the engine's version before any use. The process exits by itself when the first (control)
 * connection closes or the worker dies; {@link #stop()} closes it politely, then escalates to SIGTERM and SIGKILL.
 */
final class EngineProcess {
    private static final Logger LOG = LoggerFactory.getLogger(EngineProcess.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicInteger COUNTER = new AtomicInteger();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final long START_TIMEOUT_MS = 60_000; // importing botocore on a busy host takes seconds
    private static final long STOP_STEP_MS = 5_000;
    private static final Map<Integer, String> SIGNALS = Map.of(1, "SIGHUP", 2, "SIGINT", 6, "SIGABRT", 9, "SIGKILL",
            11, "SIGSEGV", 15, "SIGTERM");

    private final Interpreter python;
    private final Process process;
    private final Path socket;
    private final byte[] secret;
    private final ProcessOutput output;
    private SocketChannel control;
    private volatile String killedBecause = "";

    private EngineProcess(Interpreter python, Process process, Path socket, byte[] secret, String context) {
        this.python = python;
        this.process = process;
        this.socket = socket;
        this.secret = secret;
        this.output = new ProcessOutput(process, context);
    }

    /** Starts the process and waits for its handshake; fails, saying how to fix it, when the engine is not there. */
    static EngineProcess start(Interpreter python, String context) {
        Path socket = SocketDirectory.get().resolve("engine-" + COUNTER.incrementAndGet() + ".sock");
        byte[] secretBytes = new byte[32];
        RANDOM.nextBytes(secretBytes);
        String secret = HexFormat.of().formatHex(secretBytes);
        ProcessBuilder builder = new ProcessBuilder(python.command(), "-m", "python_connector.process")
                .redirectErrorStream(true);
        builder.environment().put("DDB_CDC_SOCKET", socket.toString());
        builder.environment().put("DDB_CDC_SECRET", secret);
        // The child watches this pid: a worker killed while the child is still starting must not leave it behind.
        builder.environment().put("DDB_CDC_PARENT_PID", Long.toString(ProcessHandle.current().pid()));
        builder.environment().put("PYTHONUNBUFFERED", "1");
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new ConnectException(notInstalled(python, "it could not be run: " + e.getMessage()));
        }
        EngineProcess engine = new EngineProcess(python, process, socket,
                secret.getBytes(StandardCharsets.UTF_8), context);
        try {
            process.getOutputStream().close(); // the child reads nothing from stdin
            engine.control = engine.handshake();
        } catch (IOException | RuntimeException e) {
            engine.stop();
            throw e instanceof ConnectException ce ? ce : new ConnectException("The DynamoDB CDC engine process "
                    + "(Python " + python + ") did not start: " + e.getMessage() + ". Its output:\n"
                    + engine.output.tail(), e);
        }
        LOG.info("Started the DynamoDB CDC engine process pid {} with Python {} for {}", process.pid(), python,
                context);
        return engine;
    }

    private SocketChannel handshake() throws IOException {
        long deadline = System.currentTimeMillis() + START_TIMEOUT_MS;
        while (true) {
            if (!process.isAlive()) {
                throw new ConnectException(notInstalled(python, "it " + exitDescription() + ". Its output:\n"
                        + output.tail()));
            }
            if (Files.exists(socket)) {
                SocketChannel channel = tryConnect();
                if (channel != null) {
                    return channel;
                }
            }
            if (System.currentTimeMillis() > deadline) {
                throw new ConnectException("The DynamoDB CDC engine process (Python " + python + ") did not answer "
                        + "within " + START_TIMEOUT_MS / 1000 + " s of starting. Its output:\n" + output.tail());
            }
            sleep(20);
        }
    }

    private SocketChannel tryConnect() throws IOException {
        SocketChannel channel;
        try {
            channel = connect();
        } catch (java.net.ConnectException e) {
            return null; // bound but not listening yet
        }
        ByteBuffer answer = Frames.read(channel);
        if (answer.get() != Frames.OK) {
            channel.close();
            throw new IOException("the engine process refused the handshake");
        }
        JsonNode hello = JSON.readTree(StandardCharsets.UTF_8.decode(answer).toString());
        String version = hello.path("version").asText();
        if (!PluginFiles.VERSION.equals(version)) {
            channel.close();
            throw new ConnectException("The DynamoDB CDC engine in Python " + python + " is version " + version
                    + ", but this plugin is version " + PluginFiles.VERSION + ". " + installCommand(python));
        }
        return channel;
    }

    /** A new authenticated connection to the engine. */
    SocketChannel connect() throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(socket));
            Frames.write(channel, secret);
            return channel;
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    SocketChannel control() {
        return control;
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** Kills a process that stopped answering; the calls waiting on it then fail with this reason. */
    void kill(String reason) {
        killedBecause = " (" + reason + ", so the plugin killed it)";
        LOG.error("DynamoDB CDC engine process pid {} {}; killing it", process.pid(), reason);
        process.destroyForcibly();
    }

    /** What Connect reports when a call fails because the process died or the connection broke. */
    ConnectException failure(String operation, IOException cause) {
        waitFor(2_000);
        if (process.isAlive()) {
            return new ConnectException("Lost the connection to the DynamoDB CDC engine process pid " + process.pid()
                    + " during '" + operation + "': " + cause.getMessage(), cause);
        }
        return new ConnectException("The DynamoDB CDC engine process pid " + process.pid() + " (Python " + python
                + ") " + exitDescription() + killedBecause + " during '" + operation + "'. The last lines of its "
                + "output:\n" + output.tail());
    }

    /** Closes the control connection (the process then exits on its own), then SIGTERM, then SIGKILL. */
    void stop() {
        try {
            if (control != null) {
                control.close();
            }
        } catch (IOException e) {
            // the process is going anyway
        }
        if (!waitFor(STOP_STEP_MS)) {
            LOG.warn("DynamoDB CDC engine process pid {} did not exit within {} ms of its connection closing; "
                    + "sending SIGTERM", process.pid(), STOP_STEP_MS);
            process.destroy();
            if (!waitFor(STOP_STEP_MS)) {
                LOG.warn("DynamoDB CDC engine process pid {} ignored SIGTERM; sending SIGKILL", process.pid());
                process.destroyForcibly();
                waitFor(STOP_STEP_MS);
            }
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.debug("Could not delete {}: {}", socket, e.getMessage());
        }
    }

    private boolean waitFor(long ms) {
        try {
            return process.waitFor(ms, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    private String exitDescription() {
        int status = process.exitValue();
        if (status > 128 && status < 160) { // how Java reports a process ended by a signal
            return "was killed by signal " + (status - 128) + " (" + SIGNALS.getOrDefault(status - 128, "?") + ")";
        }
        return "exited with status " + status;
    }

    static String notInstalled(Interpreter python, String what) {
        return "The DynamoDB CDC engine could not start in Python " + python + ": " + what + "\n"
                + installCommand(python);
    }

    private static String installCommand(Interpreter python) {
        return "Install the engine (Python 3.11+) that this plugin's archive ships with: `" + python.command()
                + " -m pip install " + PluginFiles.wheel() + "`, or point engine.python or the worker's "
                + Interpreter.ENV + " at a Python that has it.";
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConnectException("Interrupted while starting the DynamoDB CDC engine process");
        }
    }
}
