package io.ddbcdc.connect;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.SourceTask;

/**
 * Decodes the given batch once, at start, into template records (same schemas, keys, values, headers, partitions
 * and offsets as our task's), then returns them from memory, cycling, {@code reference.batch.records} per poll, until
 * {@code reference.records} are out. Each poll builds new SourceRecords from the templates, as any source must, and
 * counts acknowledgements in commitRecord, as ours does; nothing else is done per record.
 */
public class ReferenceSourceTask extends SourceTask {
    private List<SourceRecord> templates;
    private long left;
    private int perPoll;
    private int next;
    private final AtomicLong acknowledged = new AtomicLong();

    @Override
    public String version() {
        return DynamoDbCdcSourceConnector.VERSION;
    }

    @Override
    public void start(Map<String, String> props) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(Path.of(props.get(ReferenceSourceConnector.BATCH_FILE)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        templates = new RecordBatchDecoder().decode(ByteBuffer.wrap(bytes), (partition, offset, topic, keySchema, key,
                valueSchema, value, headers) -> new SourceRecord(partition, offset, topic, null, keySchema, key,
                valueSchema, value, null, headers)).records();
        left = Long.parseLong(props.get(ReferenceSourceConnector.RECORDS));
        perPoll = Integer.parseInt(props.getOrDefault(ReferenceSourceConnector.BATCH_RECORDS, "5000"));
    }

    @Override
    public List<SourceRecord> poll() throws InterruptedException {
        if (left <= 0) {
            Thread.sleep(100); // done: idle like a task with nothing to read
            return null;
        }
        int count = (int) Math.min(perPoll, left);
        List<SourceRecord> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            SourceRecord t = templates.get(next);
            next = (next + 1) % templates.size();
            out.add(new SourceRecord(t.sourcePartition(), t.sourceOffset(), t.topic(), null, t.keySchema(), t.key(),
                    t.valueSchema(), t.value(), null, t.headers()));
        }
        left -= count;
        return out;
    }

    @Override
    public void commitRecord(SourceRecord record, RecordMetadata metadata) {
        acknowledged.incrementAndGet();
    }

    @Override
    public void stop() {
    }
}
