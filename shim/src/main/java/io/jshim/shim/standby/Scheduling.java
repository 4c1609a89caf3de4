package io.jshim.shim.standby;

import io.jshim.reaper.LibcCall;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPU policy of every thread, as a start's daemon has it. A standby boots at SCHED_IDLE (the launcher's
 * {@code chrt -i 0}) so that it never competes with the pod being started; the policy is per thread on Linux and
 * every thread inherits it from the one that made it, so each task in /proc/self/task is set back to SCHED_OTHER
 * (sched_setscheduler(2)); nice values are the JVM's own per thread and stay as a cold daemon has them.
 */
final class Scheduling {
    private static final int SCHED_OTHER = 0;
    private static final LibcCall SCHED_SETSCHEDULER = LibcCall.of("sched_setscheduler");

    private Scheduling() {}

    /** Sets every thread of this process to SCHED_OTHER; returns how many could not be set. */
    static int normal() throws IOException {
        int failed = 0;
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"));
                Arena arena = Arena.ofConfined()) {
            MemorySegment param = arena.allocate(ValueLayout.JAVA_INT); // struct sched_param { int priority = 0 }
            MemorySegment errno = LibcCall.errnoState(arena);
            for (Path task : tasks) {
                long tid = Long.parseLong(task.getFileName().toString());
                if (SCHED_SETSCHEDULER.call(errno, tid, SCHED_OTHER, param.address()) != 0) {
                    failed++; // a thread that ended meanwhile (ESRCH)
                }
            }
        }
        return failed;
    }
}
