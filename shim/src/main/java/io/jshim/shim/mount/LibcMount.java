package io.jshim.shim.mount;

import jnr.ffi.LibraryLoader;
import jnr.ffi.Runtime;
import jnr.ffi.annotations.SaveError;

/** mount(2) and umount2(2), which jnr-posix does not expose. */
public final class LibcMount {
    public interface C {
        @SaveError
        int mount(String source, String target, String fstype, long flags, String data);

        @SaveError
        int umount2(String target, int flags);
    }

    static final C LIBC = LibraryLoader.create(C.class).load("c");
    static final Runtime RUNTIME = Runtime.getRuntime(LIBC);

    private LibcMount() {}

    static int errno() {
        return RUNTIME.getLastError();
    }
}
