package io.jshim.events;

import io.jshim.proto.wire.Bytes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * The events not yet delivered to containerd, oldest first, each kept as its serialized envelope in native memory
 * with a 32-byte entry on the heap.
 *
 * <p>Why off the heap: the queue must hold 100,000 events (or 64 MiB) while containerd is away, and as Java
 * objects a TaskExit costs ~300 bytes of heap (message, ids, timestamp, record), so the shim's heap would have to
 * be sized for a backlog it almost never has, and a bigger heap is what lets garbage (a peer's malformed frames)
 * grow the process. Serialized in chunks of native memory, a backlog costs what its bytes cost, only while it
 * exists: a chunk is freed as soon as its last event is delivered or dropped. Chunks are 256 KiB, above glibc's
 * mmap threshold, so freeing one gives its pages back at once.
 *
 * <p>Not thread-safe: {@link EventQueue} calls it under its lock.
 */
final class OffHeapBacklog {
    private static final int CHUNK_BYTES = 256 << 10;
    /** What an entry costs on the heap (object, deque slot), counted with the bytes against the queue's bound. */
    static final int ENTRY_OVERHEAD = 40;

    /** Native memory holding consecutive envelopes; freed when no entry points into it any more. */
    private static final class Chunk {
        final Arena arena = Arena.ofShared();
        final MemorySegment memory;
        int used;
        int live;

        Chunk(int size) {
            memory = arena.allocate(size);
        }
    }

    private record Entry(long sequence, String topic, Chunk chunk, int offset, int length, boolean precious) {}

    private final ArrayDeque<Entry> entries = new ArrayDeque<>();
    private Chunk tail;
    private long bytes;

    void add(Event event) {
        byte[] envelope = event.envelope().toByteArray();
        if (tail == null || tail.memory.byteSize() - tail.used < envelope.length) {
            Chunk full = tail;
            tail = new Chunk(Math.max(CHUNK_BYTES, envelope.length));
            releaseIfUnused(full);
        }
        Chunk chunk = tail;
        MemorySegment.copy(envelope, 0, chunk.memory, ValueLayout.JAVA_BYTE, chunk.used, envelope.length);
        entries.addLast(new Entry(event.sequence(), event.topic(), chunk, chunk.used, envelope.length,
                Topics.isPrecious(event.message())));
        chunk.used += envelope.length;
        chunk.live++;
        bytes += envelope.length + ENTRY_OVERHEAD;
    }

    boolean isEmpty() {
        return entries.isEmpty();
    }

    int size() {
        return entries.size();
    }

    /** Serialized bytes held plus the entries' heap, for the queue's byte bound. */
    long bytes() {
        return bytes;
    }

    /** The oldest event, or null. */
    Queued first() {
        Entry e = entries.peekFirst();
        return e == null ? null : queued(e);
    }

    long firstSequence() {
        Entry e = entries.peekFirst();
        return e == null ? -1 : e.sequence();
    }

    void removeFirst() {
        Entry e = entries.pollFirst();
        if (e != null) {
            forget(e);
        }
    }

    /** Removes and returns the oldest event that is not precious (not TaskExit, not TaskOOM), or null. */
    Queued removeOldestOrdinary() {
        Iterator<Entry> it = entries.iterator();
        while (it.hasNext()) {
            Entry e = it.next();
            if (!e.precious()) {
                Queued dropped = queued(e);
                it.remove();
                forget(e);
                return dropped;
            }
        }
        return null;
    }

    private void forget(Entry e) {
        bytes -= e.length() + ENTRY_OVERHEAD;
        e.chunk().live--;
        if (e.chunk() == tail && e.chunk().live == 0) {
            tail.used = 0; // empty again: reuse it rather than free and allocate
        } else {
            releaseIfUnused(e.chunk());
        }
    }

    private void releaseIfUnused(Chunk chunk) {
        if (chunk != null && chunk != tail && chunk.live == 0) {
            chunk.arena.close();
        }
    }

    private static Queued queued(Entry e) {
        byte[] bytes = e.chunk().memory.asSlice(e.offset(), e.length()).toArray(ValueLayout.JAVA_BYTE);
        return new Queued(e.sequence(), e.topic(), Bytes.copyFrom(bytes));
    }
}
