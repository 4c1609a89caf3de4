package io.jshim.reaper;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;

/** libc calls only the tests need: to give the JVM a blocked and an ignored signal. */
public final class SignalsForTest {
    public static final SignalsForTest LIB = new SignalsForTest();
    public static final int SIGTTIN = 21;
    public static final long SIG_IGN = 1;
    private static final int SIG_BLOCK = 0;
    private static final int SIGSET_SIZE = 128;

    private static final Native.Fn SIGNAL = new Native.Fn("signal", false,
            FunctionDescriptor.of(ADDRESS, JAVA_INT, ADDRESS));
    private static final Native.Fn PTHREAD_SIGMASK = new Native.Fn("pthread_sigmask", false,
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final Native.Fn SIGEMPTYSET = new Native.Fn("sigemptyset", false,
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final Native.Fn SIGADDSET = new Native.Fn("sigaddset", false,
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

    private SignalsForTest() {
    }

    /** signal(2): installs {@code handler} (SIG_DFL 0, SIG_IGN 1) and returns the previous one. */
    public long signal(int signal, long handler) {
        try {
            MemorySegment previous = (MemorySegment) SIGNAL.handle().invokeExact(signal, MemorySegment.ofAddress(handler));
            return previous.address();
        } catch (Throwable t) {
            throw Native.unexpected(t);
        }
    }

    public void blockInThisThread(int signal) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment set = arena.allocate(SIGSET_SIZE, 8);
            int r = (int) SIGEMPTYSET.handle().invokeExact(set);
            r |= (int) SIGADDSET.handle().invokeExact(set, signal);
            // pthread_sigmask returns its error number (it does not set errno)
            r |= (int) PTHREAD_SIGMASK.handle().invokeExact(SIG_BLOCK, set, MemorySegment.NULL);
            if (r != 0) {
                throw new IllegalStateException("pthread_sigmask failed");
            }
        } catch (Throwable t) {
            throw Native.unexpected(t);
        }
    }
}
