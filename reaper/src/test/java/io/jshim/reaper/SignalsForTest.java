package io.jshim.reaper;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** libc calls only the tests need: to give the JVM a blocked and an ignored signal. */
public final class SignalsForTest {
    public static final SignalsForTest LIB = new SignalsForTest();
    public static final int SIGTTIN = 21;
    public static final long SIG_IGN = 1;
    private static final int SIG_BLOCK = 0;
    private static final int SIGSET_SIZE = Arch.SIGSET_SIZE;

    private static final LibcCall SIGNAL = LibcCall.of("signal");
    private static final LibcCall PTHREAD_SIGMASK = LibcCall.of("pthread_sigmask");
    private static final LibcCall SIGEMPTYSET = LibcCall.of("sigemptyset");
    private static final LibcCall SIGADDSET = LibcCall.of("sigaddset");

    private SignalsForTest() {
    }

    /** signal(2): installs {@code handler} (SIG_DFL 0, SIG_IGN 1) and returns the previous one. */
    public long signal(int signal, long handler) {
        try (Arena arena = Arena.ofConfined()) {
            return SIGNAL.call(LibcCall.errnoState(arena), signal, handler);
        }
    }

    public void blockInThisThread(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = LibcCall.errnoState(arena);
            MemorySegment set = arena.allocate(SIGSET_SIZE, 8);
            int r = (int) SIGEMPTYSET.call(state, set.address());
            r |= (int) SIGADDSET.call(state, set.address(), signal);
            // pthread_sigmask returns its error number (it does not set errno)
            r |= (int) PTHREAD_SIGMASK.call(state, SIG_BLOCK, set.address(), 0);
            if (r != 0) {
                throw new IllegalStateException("pthread_sigmask failed");
            }
        }
    }
}
