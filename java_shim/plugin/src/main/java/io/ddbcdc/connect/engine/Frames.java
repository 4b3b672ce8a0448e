package io.ddbcdc.connect.engine;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SocketChannel;

/**
 * Reads and writes the process transport's frames: i32 little-endian length, then the payload. The protocol is
 * written down once, in {@code python_connector/process/framing.py}.
 */
final class Frames {
    static final byte OK = 0;
    static final byte BATCH = 1;
    static final byte ERROR = 2;
    private static final int MAX_FRAME = 1 << 30;

    private Frames() {
    }

    static void write(SocketChannel channel, byte[] payload) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(payload.length).flip();
        ByteBuffer[] buffers = {head, ByteBuffer.wrap(payload)};
        while (head.hasRemaining() || buffers[1].hasRemaining()) {
            channel.write(buffers);
        }
    }

    /** The next frame's payload, in a heap buffer of exactly its size, positioned at 0. */
    static ByteBuffer read(SocketChannel channel) throws IOException {
        ByteBuffer payload = ByteBuffer.allocate(length(channel));
        fill(channel, payload);
        return payload.flip();
    }

    /**
     * The next frame's payload in {@code reuse} (from position 0 to its limit), or in a new direct buffer when it
     * does not fit: the buffer to pass next time.
     */
    static ByteBuffer read(SocketChannel channel, ByteBuffer reuse) throws IOException {
        int length = length(channel);
        ByteBuffer payload = length <= reuse.capacity() ? reuse.clear()
                : ByteBuffer.allocateDirect(Math.max(length, 2 * reuse.capacity()));
        fill(channel, payload.limit(length));
        return payload.flip();
    }

    private static int length(SocketChannel channel) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        fill(channel, head);
        int length = head.flip().getInt();
        if (length < 0 || length > MAX_FRAME) {
            throw new IOException("bad frame length " + length + " from the engine process");
        }
        return length;
    }

    private static void fill(SocketChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new EOFException("the engine process closed the connection");
            }
        }
    }
}
