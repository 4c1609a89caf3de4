package io.jshim.reaper;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Native buffers that are about to be overwritten (read(2) targets, copies of a byte array), taken from malloc and
 * given back with free when their arena closes.
 *
 * <p>Why not {@code arena.allocate}: it zeroes what it allocates with a Java loop of 8-byte stores
 * (SegmentFactories.initNativeMemory in JDK 25), which a young shim runs interpreted until the compiler gets to it:
 * the 64 KiB buffers of runc's output pump and of each exec's stdio copiers were costly to zero (the
 * largest item in an interpreted profile of {@code ctr task exec}), and the zeroing made every page resident, most
 * of which a copier never fills (docs/performance.md). malloc through
 * {@link LibcCall} costs microseconds and touches nothing.
 */
public final class NativeMemory {
    private static final LibcCall MALLOC = LibcCall.of("malloc");
    private static final LibcCall FREE = LibcCall.of("free");
    /** Where malloc and free leave errno; nobody reads it, so every thread may share it. */
    private static final MemorySegment IGNORED_ERRNO = LibcCall.errnoState(Arena.global());

    private NativeMemory() {}

    /** {@code size} bytes (at least 1) of uninitialized native memory, freed when {@code arena} closes. */
    public static MemorySegment uninitialized(Arena arena, long size) {
        long bytes = Math.max(size, 1);
        long address = MALLOC.call(IGNORED_ERRNO, bytes);
        if (address == 0) {
            throw new OutOfMemoryError("malloc(" + bytes + ")");
        }
        return MemorySegment.ofAddress(address).reinterpret(bytes, arena, segment -> FREE.call(IGNORED_ERRNO,
                segment.address()));
    }
}
