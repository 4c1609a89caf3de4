package io.jshim.reaper;

import jnr.ffi.LastError;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.Runtime;

/** The one loaded libc binding, its jnr-ffi runtime, and errno helpers. */
final class Native {
    static final LibC C = LibraryLoader.create(LibC.class).load("c");
    static final Runtime RUNTIME = Runtime.getRuntime(C);

    // errno values (Linux, all architectures this runs on)
    static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EBADF = 9, ECHILD = 10,
            EAGAIN = 11, ENOTTY = 25, EPIPE = 32;

    private Native() {
    }

    /** errno of the last libc call made through {@link #C} on this thread. */
    static int errno() {
        return LastError.getLastError(RUNTIME);
    }

    /** Zero-filled native memory, freed when the returned pointer becomes unreachable. */
    static Pointer allocate(int bytes) {
        return Memory.allocateDirect(RUNTIME, bytes, true);
    }

    /** The exception for a failed call: ESRCH becomes {@link NoSuchProcessException}. */
    static PosixException failure(String operation, int errno) {
        return errno == ESRCH ? new NoSuchProcessException(operation) : new PosixException(operation, errno);
    }

    static PosixException lastFailure(String operation) {
        return failure(operation, errno());
    }
}
