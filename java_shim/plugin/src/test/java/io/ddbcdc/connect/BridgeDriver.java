package io.ddbcdc.connect;

import io.ddbcdc.connect.engine.EngineTransport;
import io.ddbcdc.connect.engine.Engines;
import io.ddbcdc.connect.engine.InProcessTransport;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Drives the shim's real engine access from Java threads, as Connect does, for tests and the
 * bridge benchmark. Lives in the shim's package to use its package-private classes.
 */
public final class BridgeDriver {
    private static final EngineTransport ENGINE = InProcessTransport.INSTANCE;
    private static final RecordBatchDecoder.RecordFactory PLAIN = (partition, offset, topic, keySchema, key,
            valueSchema, value, headers) -> new SourceRecord(partition, offset, topic, null, keySchema, key,
            valueSchema, value, null, headers);

    private BridgeDriver() {
    }

    /**
     * {@code threads} Java threads each make {@code calls} mixed engine calls (validate, poll,
     * acknowledge) at once. Returns the number of records polled; throws if the calls do not all
     * finish within {@code timeoutMs} (a deadlock).
     */
    public static long concurrentCalls(String[] handles, int threads, int calls, long timeoutMs) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        AtomicLong records = new AtomicLong();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            String handle = handles[t % handles.length];
            futures.add(pool.submit(() -> {
                RecordBatchDecoder decoder = new RecordBatchDecoder();
                for (int i = 0; i < calls; i++) {
                    ENGINE.validate("{\"dynamodb.table.includelist\": \"t" + i + "\"}");
                    ByteBuffer bytes = ENGINE.poll(handle);
                    if (bytes != null) {
                        RecordBatchDecoder.Batch batch = decoder.decode(bytes, PLAIN);
                        records.addAndGet(batch.records().size());
                        ENGINE.acknowledge(handle, batch.id());
                    }
                }
                return null;
            }));
        }
        pool.shutdown();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        for (Future<?> f : futures) {
            long left = deadline - System.nanoTime();
            try {
                f.get(Math.max(left, 0), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                pool.shutdownNow();
                throw new IllegalStateException("engine calls did not finish within " + timeoutMs + " ms", e);
            }
        }
        return records.get();
    }

    /** One poll, decoded as the task does: per record "op|headers" ("tombstone" for a null value). */
    public static List<String> describeOnePoll(String handle) {
        List<String> out = new ArrayList<>();
        for (SourceRecord r : new RecordBatchDecoder().decode(ENGINE.poll(handle), PLAIN).records()) {
            String op = r.value() == null ? "tombstone" : ((org.apache.kafka.connect.data.Struct) r.value()).getString("op");
            StringBuilder headers = new StringBuilder();
            r.headers().forEach(h -> headers.append(h.key()).append('=').append(h.value()));
            out.add(op + "|" + headers);
        }
        return out;
    }

    /** Starts a task with this configuration and returns what Connect would see: the exception. */
    public static ConnectException startTaskFailure(String taskConfigJson) {
        try {
            ENGINE.startTask(taskConfigJson, "[]");
            return null;
        } catch (ConnectException e) {
            return e;
        }
    }

    /** Records per second of poll() through the bridge plus decoding into SourceRecords. */
    public static double bridgedRate(String handle, int polls) {
        return rate(ENGINE, handle, polls);
    }

    /** Records per second of poll() plus decoding into SourceRecords, through any transport. */
    public static double rate(EngineTransport engine, String handle, int polls) {
        long start = System.nanoTime();
        long records = records(engine, handle, polls);
        return records / ((System.nanoTime() - start) / 1e9);
    }

    private static long records(EngineTransport engine, String handle, int polls) {
        RecordBatchDecoder decoder = new RecordBatchDecoder();
        long records = 0;
        for (int i = 0; i < polls; i++) {
            records += decoder.decode(engine.poll(handle), PLAIN).records().size();
        }
        return records;
    }

    /** Records per second over all threads at once: thread i polls handles[i] through engines[i], as tasks do. */
    public static double parallelRate(EngineTransport[] engines, String[] handles, int polls) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(engines.length);
        try {
            List<Future<Long>> counts = new ArrayList<>();
            long start = System.nanoTime();
            for (int t = 0; t < engines.length; t++) {
                EngineTransport engine = engines[t];
                String handle = handles[t];
                counts.add(pool.submit(() -> records(engine, handle, polls)));
            }
            long records = 0;
            for (Future<Long> f : counts) {
                records += f.get();
            }
            return records / ((System.nanoTime() - start) / 1e9);
        } finally {
            pool.shutdown();
        }
    }

    /** The in-process engine, as a transport. */
    public static EngineTransport inProcess() {
        return ENGINE;
    }

    /** A task's engine in a child process started with this interpreter command, as a stock worker starts it. */
    public static EngineTransport processEngine(String python) {
        return Engines.forTask(Map.of("engine.mode", "process", "engine.python", python), "bridge driver");
    }

    /** Seconds spent inside poll() alone (the crossing), over {@code polls} calls. */
    public static double pollSeconds(String handle, int polls) {
        long start = System.nanoTime();
        long sink = 0;
        for (int i = 0; i < polls; i++) {
            sink += ENGINE.poll(handle).remaining();
        }
        return (System.nanoTime() - start) / 1e9 + (sink == 42 ? 1 : 0);
    }

    /** Java-only baseline: records per second of decoding the same batch with no bridge crossing. */
    public static double javaOnlyRate(byte[] batch, int polls) {
        RecordBatchDecoder decoder = new RecordBatchDecoder();
        ByteBuffer buffer = ByteBuffer.allocateDirect(batch.length).put(batch).flip();
        long records = 0;
        long start = System.nanoTime();
        for (int i = 0; i < polls; i++) {
            records += decoder.decode(buffer, PLAIN).records().size();
        }
        return records / ((System.nanoTime() - start) / 1e9);
    }
}
