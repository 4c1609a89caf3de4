package io.jshim.stdio;

import static io.jshim.stdio.Harness.await;
import static io.jshim.stdio.Harness.awaitDrained;
import static io.jshim.stdio.Harness.context;
import static io.jshim.stdio.Harness.fifo;
import static io.jshim.stdio.Harness.runContainer;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jshim.reaper.Child;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** No fd, pty or thread survives close(), whatever state the IO was in. */
class StdioLeakTest {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private int cycle = 0;

    private void fifoCycle(boolean start) throws Exception {
        int i = cycle++;
        String in = fifo(dir, "in" + i);
        String out = fifo(dir, "out" + i);
        String err = fifo(dir, "err" + i);
        try (Harness.FifoReader r = new Harness.FifoReader(out);
             ProcessIO io = ProcessIO.prepare(new StdioSpec(in, out, err, false), context(dir))) {
            if (start) {
                Child child = runContainer(io, "sh", "-c", "echo hi; cat >/dev/null");
                r.awaitText("hi", T);
                if (i % 2 == 0) {
                    io.closeStdin();
                    await(child, T);
                    awaitDrained(io, T);
                } else {
                    // closed while the process still runs and holds its pipes: copiers are stopped
                    io.close();
                    child.kill(9);
                    await(child, T);
                }
            }
        }
        Files.delete(Path.of(in));
        Files.delete(Path.of(out));
        Files.delete(Path.of(err));
    }

    private void terminalCycle() throws Exception {
        String in = fifo(dir, "tin");
        String out = fifo(dir, "tout");
        try (Harness.FifoReader r = new Harness.FifoReader(out);
             ProcessIO io = ProcessIO.prepare(new StdioSpec(in, out, "", true), context(dir))) {
            int[] pty = TerminalIoTest.openPty();
            TerminalIoTest.sendMaster(io.consoleSocket().orElseThrow(), pty[0]);
            Child child = TerminalIoTest.runOnSlave(pty[1], "sh", "-c", "echo hi; sleep 60");
            StdioNative.close(pty[1]);
            io.start(Duration.ofSeconds(5));
            r.awaitText("hi", T);
            io.close();
            child.kill(9);
            await(child, T);
        }
        Files.delete(Path.of(in));
        Files.delete(Path.of(out));
    }

    private static long ioThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("io-c1-")).count();
    }

    @Test
    void manyCyclesLeaveTheFdTableAsItWas() throws Exception {
        int rounds = Harness.FULL ? 200 : 20;
        // Warm up: class loading, logback, the console event loop and the reaper open their fds once.
        fifoCycle(true);
        terminalCycle();
        Map<String, Integer> before = Harness.openFds();
        long ptmxBefore = Harness.ptmxCount();
        for (int i = 0; i < rounds; i++) {
            fifoCycle(i % 3 != 0); // every third is prepared and closed without ever starting
            if (i % 4 == 0) {
                terminalCycle();
            }
        }
        Harness.assertFdsReturnTo(before);
        assertEquals(ptmxBefore, Harness.ptmxCount());
        assertEquals(0, ioThreads(), "copier threads left running");
        System.out.printf("leak test: %d cycles, %d fds before and after%n", rounds, Harness.fdCount());
    }
}
