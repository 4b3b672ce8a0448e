package io.ddbcdc.connect;

import io.ddbcdc.connect.engine.EngineTransport;
import io.ddbcdc.connect.engine.Engines;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.header.Headers;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Drains the engine's batches into Connect. poll() crosses to the engine once per batch; the engine
 * is told a batch is acknowledged once Connect has committed every record of it. In process mode the
 * task has an engine process of its own, started here and ended by stop().
 */
public class DynamoDbCdcSourceTask extends SourceTask {
    private static final Logger LOG = LoggerFactory.getLogger(DynamoDbCdcSourceTask.class);

    private final RecordBatchDecoder decoder = new RecordBatchDecoder();
    private volatile EngineTransport engine;
    private volatile String handle;

    @Override
    public String version() {
        return DynamoDbCdcSourceConnector.VERSION;
    }

    @Override
    public void start(Map<String, String> props) {
        String configJson = OffsetsJson.write(props);
        // A task's properties do not carry its id; Connect's logging context on this thread does ("[name|task-0] ").
        String task = Objects.requireNonNullElse(MDC.get("connector.context"), "[" + props.get("name") + "]").trim();
        engine = Engines.forTask(props, task);
        try {
            String stored = OffsetsJson.readStored(engine, configJson, context.offsetStorageReader());
            LOG.info("Task {} starts {} stored offsets", task, "[]".equals(stored) ? "without" : "with");
            handle = engine.startTask(configJson, stored);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    @Override
    public List<SourceRecord> poll() {
        String h = handle;
        if (h == null) {
            return null;
        }
        ByteBuffer bytes;
        try {
            bytes = engine.poll(h);
        } catch (ConnectException e) {
            if (handle == null) {
                return null; // stopped meanwhile: the engine going away is expected
            }
            throw e;
        }
        if (bytes == null) {
            return null;
        }
        Pending pending = new Pending(engine, h);
        RecordBatchDecoder.Batch batch = decoder.decode(bytes, pending);
        pending.arm(batch.id(), batch.records().size());
        return batch.records().isEmpty() ? null : batch.records();
    }

    @Override
    public void commitRecord(SourceRecord record, RecordMetadata metadata) {
        if (record instanceof BatchedRecord batched) {
            batched.pending.acknowledgeOne();
        }
    }

    @Override
    public void stop() {
        String h = handle;
        handle = null;
        if (h == null) {
            return;
        }
        try {
            engine.stopTask(h); // wakes a poll in progress, which then returns nothing
        } catch (ConnectException e) {
            LOG.warn("Stopping the engine's task failed: {}", e.getMessage());
        } finally {
            engine.close();
        }
    }

    /** Counts the records of one batch still waiting for Kafka; tells the engine when none are left. */
    private static final class Pending implements RecordBatchDecoder.RecordFactory {
        private final EngineTransport engine;
        private final String handle;
        private final AtomicInteger remaining = new AtomicInteger();
        private long batchId;

        Pending(EngineTransport engine, String handle) {
            this.engine = engine;
            this.handle = handle;
        }

        /** Called before poll() returns the records, so no acknowledgement can come earlier. */
        void arm(long id, int count) {
            batchId = id;
            remaining.set(count);
            if (count == 0) {
                engine.acknowledge(handle, batchId);
            }
        }

        void acknowledgeOne() {
            if (remaining.decrementAndGet() == 0) {
                engine.acknowledge(handle, batchId);
            }
        }

        @Override
        public SourceRecord create(Map<String, ?> partition, Map<String, ?> offset, String topic,
                                   Schema keySchema, Object key, Schema valueSchema, Object value, Headers headers) {
            return new BatchedRecord(this, partition, offset, topic, keySchema, key, valueSchema, value, headers);
        }
    }

    private static final class BatchedRecord extends SourceRecord {
        final Pending pending;

        BatchedRecord(Pending pending, Map<String, ?> partition, Map<String, ?> offset, String topic,
                      Schema keySchema, Object key, Schema valueSchema, Object value, Headers headers) {
            super(partition, offset, topic, null, keySchema, key, valueSchema, value, null, headers);
            this.pending = pending;
        }
    }
}
