package io.ddbcdc.connect.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.util.RawValue;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine in a Python child process, over its Unix socket (frames: {@link Frames}). Each calling thread borrows a
 * connection of its own (the child serves each on its own thread), so a poll that waits for records never holds up
 * an acknowledgement or a stop. A health check on the control connection every few seconds brings the engine's
 * metrics to JMX ({@link EngineMBeans}) and kills a child that stopped answering.
 */
public final class ProcessTransport implements EngineTransport {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessTransport.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long HEALTH_EVERY_MS = 5_000;
    private static final long HEALTH_TIMEOUT_MS = 60_000;
    // Health checks block on a socket: their own daemon threads, not the common pool's few.
    private static final ExecutorService HEALTH_CALLS = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "ddbcdc-engine-health-call");
        t.setDaemon(true);
        return t;
    });

    // Each calling thread's answers land in one direct buffer of its own, reused: a 5,000-record batch is ~5 MB,
    // which on the heap is a humongous G1 allocation per poll, and a socket read into the heap goes through a direct
    // buffer anyway. Engine.poll's contract already ends a batch's validity at the thread's next call.
    private static final ThreadLocal<ByteBuffer> ANSWERS = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(64 << 10));

    private final EngineProcess process;
    private final boolean owned;
    private final String source;
    private final Deque<SocketChannel> idle = new ConcurrentLinkedDeque<>();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile boolean closed;

    private ProcessTransport(EngineProcess process, boolean owned) {
        this.process = process;
        this.owned = owned;
        this.source = "pid-" + process.pid();
        Thread health = new Thread(this::checkHealth, "ddbcdc-engine-health-" + process.pid());
        health.setDaemon(true);
        health.start();
    }

    /** A transport to a new engine process; {@code owned}: {@link #close()} ends the process (a task's). */
    static ProcessTransport start(Interpreter python, String context, boolean owned) {
        return new ProcessTransport(EngineProcess.start(python, context), owned);
    }

    boolean alive() {
        return !closed && process.alive();
    }

    @Override
    public String configDefinition() {
        return json(call("configDefinition"));
    }

    @Override
    public String validate(String configJson) {
        return json(call("validate", raw(configJson)));
    }

    @Override
    public void startConnector(String configJson) {
        call("startConnector", raw(configJson));
    }

    @Override
    public String discoverTables(String configJson) {
        return json(call("discoverTables", raw(configJson)));
    }

    @Override
    public String offsetPartitions(String configJson) {
        return json(call("offsetPartitions", raw(configJson)));
    }

    @Override
    public String alterOffsets(String configJson, String offsetsJson) {
        return string(call("alterOffsets", raw(configJson), raw(offsetsJson)));
    }

    @Override
    public String taskConfigs(String configJson, int maxTasks, String offsetsJson) {
        return json(call("taskConfigs", raw(configJson), maxTasks, raw(offsetsJson)));
    }

    @Override
    public String startTask(String taskConfigJson, String offsetsJson) {
        return string(call("startTask", raw(taskConfigJson), raw(offsetsJson)));
    }

    @Override
    public ByteBuffer poll(String taskHandle) {
        ByteBuffer answer = call("poll", taskHandle);
        return answer.get(0) == Frames.BATCH ? answer.position(1).slice() : null;
    }

    @Override
    public void acknowledge(String taskHandle, long batchId) {
        if (!closed) { // records of a stopped task may still be acknowledged; the engine forgot the task
            call("acknowledge", taskHandle, batchId);
        }
    }

    @Override
    public void stopTask(String taskHandle) {
        call("stopTask", taskHandle);
    }

    @Override
    public void close() {
        if (owned) {
            terminate();
        }
    }

    /** Ends the process whoever owns it (a task's at its stop; a shared one found dead). */
    void terminate() {
        if (closed) {
            return;
        }
        closed = true;
        closing.countDown();
        for (SocketChannel channel = idle.poll(); channel != null; channel = idle.poll()) {
            closeQuietly(channel);
        }
        process.stop();
        EngineMBeans.forget(source);
    }

    private ByteBuffer call(String operation, Object... args) {
        if (closed) {
            throw new ConnectException("The DynamoDB CDC engine process pid " + process.pid() + " was stopped");
        }
        byte[] request = request(operation, args);
        SocketChannel channel;
        try {
            channel = borrow();
        } catch (IOException e) {
            throw process.failure(operation, e);
        }
        ByteBuffer answer;
        try {
            Frames.write(channel, request);
            answer = Frames.read(channel, ANSWERS.get());
            ANSWERS.set(answer);
        } catch (IOException e) {
            closeQuietly(channel);
            throw closed ? new ConnectException("The DynamoDB CDC engine process was stopped during '" + operation
                    + "'") : process.failure(operation, e);
        }
        idle.push(channel);
        if (closed) { // terminate() may have drained the pool while this call was out
            idle.remove(channel);
            closeQuietly(channel);
        }
        return checked(answer);
    }

    private SocketChannel borrow() throws IOException {
        SocketChannel channel = idle.poll();
        if (channel != null) {
            return channel;
        }
        channel = process.connect();
        Frames.read(channel); // the hello
        return channel;
    }

    private static ByteBuffer checked(ByteBuffer answer) {
        if (answer.get(0) != Frames.ERROR) {
            return answer;
        }
        JsonNode error = tree(json(answer));
        String message = error.path("message").asText();
        throw error.path("retriable").asBoolean() ? new RetriableException(message) : new ConnectException(message);
    }

    private static byte[] request(String operation, Object... args) {
        List<Object> request = new ArrayList<>(args.length + 1);
        request.add(operation);
        request.addAll(List.of(args));
        try {
            return JSON.writeValueAsBytes(request);
        } catch (IOException e) {
            throw new ConnectException("Cannot encode a request to the engine: " + e.getMessage(), e);
        }
    }

    /** JSON text the caller already holds goes into the request as it is. */
    private static RawValue raw(String json) {
        return new RawValue(json);
    }

    /** A JSON answer's text, as the engine wrote it. */
    private static String json(ByteBuffer answer) {
        return StandardCharsets.UTF_8.decode(answer.position(1)).toString();
    }

    /** A JSON string answer (or null). */
    private static String string(ByteBuffer answer) {
        JsonNode node = tree(json(answer));
        return node.isNull() ? null : node.asText();
    }

    private static JsonNode tree(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new ConnectException("Unreadable answer from the engine process: " + e.getMessage(), e);
        }
    }

    /** Every few seconds: the engine's metrics for JMX, through the control connection; a silent child is killed. */
    private void checkHealth() {
        SocketChannel control = process.control();
        try {
            while (!closing.await(HEALTH_EVERY_MS, TimeUnit.MILLISECONDS)) {
                CompletableFuture<ByteBuffer> answer = CompletableFuture.supplyAsync(() -> metrics(control),
                        HEALTH_CALLS);
                String snapshot = json(answer.get(HEALTH_TIMEOUT_MS, TimeUnit.MILLISECONDS));
                try {
                    EngineMBeans.update(source, snapshot);
                } catch (RuntimeException e) {
                    LOG.warn("Could not update the engine's JMX metrics: {}", e.toString());
                }
            }
        } catch (TimeoutException e) {
            process.kill("did not answer a health check within " + HEALTH_TIMEOUT_MS / 1000 + " s");
        } catch (ExecutionException e) {
            if (!closed) {
                LOG.warn("Health check of the DynamoDB CDC engine process pid {} failed: {}", process.pid(),
                        e.getCause().getMessage());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            EngineMBeans.forget(source);
        }
    }

    private ByteBuffer metrics(SocketChannel control) {
        try {
            Frames.write(control, request("metrics"));
            return checked(Frames.read(control));
        } catch (IOException e) {
            throw process.failure("metrics", e);
        }
    }

    private static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
