package io.jshim.stdio;

import static io.jshim.stdio.Harness.await;
import static io.jshim.stdio.Harness.awaitDrained;
import static io.jshim.stdio.Harness.context;
import static io.jshim.stdio.Harness.runContainer;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jshim.reaper.Child;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.SpawnSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** file:// targets. */
class FileIoTest {
    private static final Duration T = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void fileUriCreatesParentsAndAppendsBothStreams() throws Exception {
        Path log = dir.resolve("a/b/c.log");
        String uri = "file://" + log;
        StdioTally tally = new StdioTally(); // a container's, over its processes
        for (int i = 0; i < 2; i++) {
            try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", uri, uri, false), context(dir).withTally(tally))) {
                Child child = runContainer(io, "sh", "-c", "echo out" + " ; echo err >&2");
                await(child, T);
                awaitDrained(io, T);
            }
        }
        String text = Files.readString(log);
        assertEquals(4, text.lines().count(), text);
        assertEquals(2, text.lines().filter("out"::equals).count(), text);
        assertEquals(2, text.lines().filter("err"::equals).count(), text);
        assertEquals(8, tally.bytes(StdioTally.STREAMS.indexOf("stdout")), "the metrics' bytes copied");
        assertEquals(8, tally.bytes(StdioTally.STREAMS.indexOf("stderr")));
        assertEquals(0, tally.errors());
    }

    @Test
    void aFullFileSystemIsLoggedOnceAndTheProcessStillFinishes() throws Exception {
        Path small = Files.createDirectory(dir.resolve("small"));
        Monitor monitor = new Monitor(Harness.REAPER);
        CommandResult mount = monitor.run(
                SpawnSpec.of("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", small.toString()), new byte[0], T);
        assertEquals(0, mount.status(), mount.stderrText());
        ListAppender<ILoggingEvent> logs = FifoIoTest.capture(Sink.class);
        try {
            String uri = "file://" + small.resolve("log");
            StdioTally tally = new StdioTally();
            try (ProcessIO io = ProcessIO.prepare(new StdioSpec("", uri, uri, false),
                    context(dir).withTally(tally))) {
                Child child = runContainer(io, "sh", "-c", "head -c 2000000 /dev/zero; head -c 2000000 /dev/zero >&2");
                assertEquals(0, await(child, T).status(), "the process ran to its end on a full disk");
                awaitDrained(io, T);
            }
            long size = Files.size(small.resolve("log"));
            assertTrue(size > 0 && size <= 64 * 1024, "size " + size);
            assertEquals(2, tally.errors(), "both copiers met the full disk (jshim_stdio_copy_errors_total)");
            long copied = tally.bytes(1) + tally.bytes(2);
            assertTrue(copied <= size, "only what reached the file is counted: " + copied + " of " + size);
            var warnings = logs.list.stream().filter(e -> e.getLevel() == Level.WARN).toList();
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.getFirst().getFormattedMessage().contains("No space left on device"));
            assertTrue(warnings.getFirst().getFormattedMessage().contains("container c1"));
        } finally {
            FifoIoTest.release(Sink.class, logs);
            monitor.run(SpawnSpec.of("umount", small.toString()), new byte[0], T);
        }
    }
}
