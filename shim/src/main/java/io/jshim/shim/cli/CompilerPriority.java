package io.jshim.shim.cli;

import io.jshim.reaper.LibcCall;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gives the JIT compiler thread its normal priority back once the daemon's boot is over.
 *
 * <p>The launcher starts the JVM with its compiler thread at nice 19 ({@code -XX:CompilerThreadPriority=19},
 * scripts/install.sh): on two busy cores the compiler's backlog from the boot otherwise competes with runc while the
 * first container is created (a slower cold {@code ctr run}). Left at 19, it never gets the CPU while
 * containerd, ctr and runc are busy, so the code of later requests stays interpreted (a warm {@code ctr task exec}
 * slower; docs/performance.md). The JVM has no way to change it after start, so this finds the thread by name in /proc and sets
 * it with setpriority(2); where that fails (a JVM started otherwise, no permission) nothing changes.
 */
public final class CompilerPriority {
    private static final Logger log = LoggerFactory.getLogger(CompilerPriority.class);
    private static final int PRIO_PROCESS = 0;
    private static final LibcCall SETPRIORITY = LibcCall.of("setpriority");

    private CompilerPriority() {}

    /** Sets every JIT compiler thread of this JVM to nice 0. */
    public static void restore() {
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc/self/task"));
                Arena arena = Arena.ofConfined()) {
            for (Path task : tasks) {
                String name = Files.readString(task.resolve("comm")).strip();
                if (name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre")) {
                    int tid = Integer.parseInt(task.getFileName().toString());
                    if ((int) SETPRIORITY.call(LibcCall.errnoState(arena), PRIO_PROCESS, tid, 0) != 0) {
                        log.debug("compiler thread {}: priority left as it is", tid);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("compiler thread priority left as it is: {}", e.toString());
        }
    }
}
