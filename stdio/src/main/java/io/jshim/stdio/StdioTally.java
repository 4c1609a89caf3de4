package io.jshim.stdio;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What a container's copiers delivered, for the shim's metrics: bytes written per stream (stdin, stdout, stderr; a
 * terminal's output counts as stdout) over all its processes, and the copiers that met an error (a read that failed,
 * a sink that refused a write, a copier that threw). Plain atomics: a copier adds once per write. Thread-safe.
 */
public final class StdioTally {
    public static final List<String> STREAMS = List.of("stdin", "stdout", "stderr");

    private final AtomicLongArray bytes = new AtomicLongArray(STREAMS.size());
    private final AtomicLong errors = new AtomicLong();

    void add(int stream, long n) {
        bytes.addAndGet(stream, n);
    }

    void error() {
        errors.incrementAndGet();
    }

    /** Bytes copied of stream {@code stream} (an index of {@link #STREAMS}). */
    public long bytes(int stream) {
        return bytes.get(stream);
    }

    /** Copiers that met an error. */
    public long errors() {
        return errors.get();
    }
}
