package io.jshim.reaper;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;

/** libc calls only the tests need: to give the JVM a blocked and an ignored signal. */
public interface SignalsForTest {
    SignalsForTest LIB = LibraryLoader.create(SignalsForTest.class).load("c");
    int SIGTTIN = 21;
    long SIG_IGN = 1;
    int SIG_BLOCK = 0;

    /** signal(2): installs {@code handler} (SIG_DFL 0, SIG_IGN 1) and returns the previous one. */
    long signal(int signal, long handler);

    int pthread_sigmask(int how, Pointer set, Pointer oldSet);

    int sigemptyset(Pointer set);

    int sigaddset(Pointer set, int signal);

    default void blockInThisThread(int signal) {
        Pointer set = Native.allocate(128);
        sigemptyset(set);
        sigaddset(set, signal);
        if (pthread_sigmask(SIG_BLOCK, set, null) != 0) {
            throw new IllegalStateException("pthread_sigmask failed");
        }
    }
}
