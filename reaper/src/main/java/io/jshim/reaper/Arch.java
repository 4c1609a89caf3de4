package io.jshim.reaper;

import java.util.Optional;

/**
 * The one place that knows jshim's native code is x86-64's: the struct sizes and offsets the FFM and JNI calls
 * lay out by hand (glibc's headers on x86-64 Linux), and the guard that refuses to run anywhere else, where those
 * layouts would silently read the wrong bytes. Flag and errno values used elsewhere ({@link Posix},
 * stdio's and cgroups' native classes) are Linux's generic ones, which x86-64 uses; an architecture added here
 * must check them too (aarch64's {@code O_DIRECTORY}, for one, differs).
 */
public final class Arch {
    /** What {@link #refusal} accepts, as {@code os.arch} spells it on Linux (and as {@code uname -m} does). */
    private static final String AMD64 = "amd64";
    private static final String X86_64 = "x86_64";

    /** {@code siginfo_t}: 128 bytes; {@code si_pid} at 16 (after si_signo, si_errno, si_code and padding). */
    public static final int SIGINFO_SIZE = 128;
    public static final int SI_PID_OFFSET = 16;
    /** {@code sigset_t}: 1024 bits. */
    public static final int SIGSET_SIZE = 128;
    /** glibc's {@code posix_spawn_file_actions_t} and {@code posix_spawnattr_t}, embedded in callers. */
    public static final int POSIX_SPAWN_FILE_ACTIONS_SIZE = 80;
    public static final int POSIX_SPAWNATTR_SIZE = 336;
    /**
     * {@code struct epoll_event} is {uint32 events; uint64 data} and declared packed on x86-64 only: 12 bytes, data
     * at 4 (other architectures align data to 8).
     */
    public static final int EPOLL_EVENT_SIZE = 12;
    public static final int EPOLL_DATA_OFFSET = 4;
    /** open(2)'s O_DIRECTORY, x86-64's (and the generic) value. */
    public static final int O_DIRECTORY = 0200000;

    private Arch() {}

    /**
     * Why jshim will not run on {@code arch} ({@code os.arch} or {@code uname -m}), or empty when it will.
     */
    public static Optional<String> refusal(String arch) {
        if (AMD64.equals(arch) || X86_64.equals(arch)) {
            return Optional.empty();
        }
        String name = arch == null || arch.isEmpty() ? "an unknown architecture" : arch;
        return Optional.of("jshim runs on x86-64 only, not on " + name + ": its native struct layouts and constants are x86-64's (io.jshim.reaper.Arch)");
    }

    /** Throws {@link UnsupportedOperationException} naming the architecture unless this JVM runs on x86-64. */
    public static void require() {
        Optional<String> refusal = refusal(System.getProperty("os.arch"));
        if (refusal.isPresent()) {
            throw new UnsupportedOperationException(refusal.get());
        }
    }
}
