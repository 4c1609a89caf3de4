package io.jshim.shim.mount;

import io.jshim.reaper.LibcCall;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * mount(2) and umount2(2), which the JDK does not expose, through {@link LibcCall}'s shared downcall handle. As with
 * a C caller, a failed call's errno is read afterwards with {@link #errno()} on the same thread (it is kept per
 * thread).
 */
public final class LibcMount {
    public interface C {
        int mount(String source, String target, String fstype, long flags, String data);

        int umount2(String target, int flags);
    }

    /** errno of this thread's last failed call (0 after a successful one). */
    private static final ThreadLocal<int[]> LAST_ERRNO = ThreadLocal.withInitial(() -> new int[1]);

    static final C LIBC = new Libc();

    private LibcMount() {}

    static int errno() {
        return LAST_ERRNO.get()[0];
    }

    private static final class Libc implements C {
        private static final LibcCall MOUNT = LibcCall.of("mount");
        private static final LibcCall UMOUNT2 = LibcCall.of("umount2");

        @Override
        public int mount(String source, String target, String fstype, long flags, String data) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = LibcCall.errnoState(arena);
                int r = (int) MOUNT.call(errno, string(arena, source), string(arena, target), string(arena, fstype),
                        flags, string(arena, data));
                return remember(r, errno);
            }
        }

        @Override
        public int umount2(String target, int flags) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = LibcCall.errnoState(arena);
                return remember((int) UMOUNT2.call(errno, string(arena, target), flags), errno);
            }
        }

        /** A C string's address in {@code arena}, or NULL. */
        private static long string(Arena arena, String s) {
            return s == null ? 0 : arena.allocateFrom(s).address();
        }

        private static int remember(int result, MemorySegment errno) {
            LAST_ERRNO.get()[0] = result == 0 ? 0 : LibcCall.errno(errno);
            return result;
        }
    }
}
