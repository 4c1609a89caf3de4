package io.jshim.test.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.cli.LogSetup;
import io.jshim.test.Busybox;
import io.jshim.test.Fifos;
import io.jshim.test.OciBundle;
import io.jshim.test.ShimHarness;
import io.jshim.test.TaskClient;
import java.io.FileInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Fault: the container's stdout sink fails (the fifo's reader goes away, the file is made immutable, the file
 * system is full). The shim must log it once, keep draining the pipe, and the container must run to its own exit;
 * its stderr, to a healthy file, arrives complete.
 */
class FailingSinkTest {
    /** {@code seq 1 200000}: 1,288,895 bytes, twenty times a pipe's buffer. */
    static final long SEQ_BYTES = 1_288_895;
    static final String SCRIPT = "seq 1 200000; seq 1 200000 >&2; exit 3";
    @TempDir
    static Path dir;
    static ShimHarness shim;
    static TaskClient tasks;
    static Path rootfs;
    static ListAppender<ILoggingEvent> logs;

    @BeforeAll
    static void setUp() throws Exception {
        LogSetup.toStderr(false);
        logs = new ListAppender<>();
        logs.start();
        Logger sinkLog = (Logger) LoggerFactory.getLogger("io.jshim.stdio.Sink");
        sinkLog.addAppender(logs);
        rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        shim = new ShimHarness(dir.resolve("shim"));
        tasks = new TaskClient(shim);
    }

    @AfterAll
    static void tearDown() {
        ((Logger) LoggerFactory.getLogger("io.jshim.stdio.Sink")).detachAppender(logs);
        shim.close();
    }

    static long warningsAbout(String path) {
        synchronized (logs.list) {
            return logs.list.stream().filter(e -> e.getLevel() == Level.WARN)
                    .filter(e -> e.getFormattedMessage().contains(path)).count();
        }
    }

    /** Starts the container, waits for its exit, checks status and stderr; returns the ms from Start to exit. */
    static long runToExit(String id, Path stdout) throws Exception {
        Path stderr = dir.resolve(id + "-stderr.txt");
        long t0 = System.nanoTime();
        tasks.start(id);
        assertEquals(3, tasks.await(id, "").getExitStatus(), id + " ran to its own exit");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        tasks.delete(id, "");
        assertEquals(SEQ_BYTES, Files.size(stderr), "stderr, a healthy file, is complete");
        assertEquals(1, warningsAbout(stdout.toString()), "the failing sink is logged once: " + logs.list);
        return ms;
    }

    static void create(String id, Path stdout) throws Exception {
        Path b = OciBundle.of("sh", "-c", SCRIPT).writeTo(dir.resolve("bundles").resolve(id), rootfs);
        // A plain path is opened, not created, by the shim (the client makes its files, as containerd makes fifos)
        Files.createFile(dir.resolve(id + "-stderr.txt"));
        if (!Files.exists(stdout)) {
            Files.createFile(stdout);
        }
        tasks.create(tasks.createRequest(id, b).setStdout(stdout.toString())
                .setStderr(dir.resolve(id + "-stderr.txt").toString()).build());
    }

    static void run(String... argv) throws Exception {
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(argv), null, Duration.ofSeconds(30));
        assertEquals(0, r.status(), String.join(" ", argv) + ": " + r.stderrText());
    }

    @Test
    void theFifoReaderGoesAway() throws Exception {
        String id = "reader-gone";
        Path fifo = Fifos.make(dir.resolve(id + "-stdout"));
        create(id, fifo);
        byte[] head = new byte[100];
        int got;
        try (InputStream in = new FileInputStream(fifo.toFile())) {
            tasks.start(id);
            got = in.readNBytes(head, 0, head.length);
        } // the reader closes after 100 bytes, as a client that died would
        assertEquals(100, got);
        long t0 = System.nanoTime();
        assertEquals(3, tasks.await(id, "").getExitStatus(), "the container ran to its own exit");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        tasks.delete(id, "");
        assertEquals(SEQ_BYTES, Files.size(dir.resolve(id + "-stderr.txt")), "stderr is complete");
        assertEquals(1, warningsAbout(fifo.toString()), "logged once: " + logs.list);
        System.out.printf("failing sink, fifo reader gone: exit 3 %d ms after the reader left, 1 warning%n", ms);
    }

    @Test
    void theFileIsMadeImmutable() throws Exception {
        String id = "immutable";
        Path stdout = dir.resolve(id + "-stdout.txt");
        create(id, stdout); // the shim holds the file open from here
        run("chattr", "+i", stdout.toString());
        try {
            long ms = runToExit(id, stdout);
            assertEquals(0, Files.size(stdout), "nothing could be written");
            System.out.printf("failing sink, chattr +i: exit 3 after %d ms, 1 warning%n", ms);
        } finally {
            run("chattr", "-i", stdout.toString());
        }
    }

    @Test
    void theFileSystemIsFull() throws Exception {
        String id = "full";
        Path mnt = Files.createDirectories(dir.resolve("tiny"));
        run("mount", "-t", "tmpfs", "-o", "size=64k", "jshim-fault-tiny", mnt.toString());
        try {
            Path stdout = mnt.resolve("stdout.txt");
            create(id, stdout);
            long ms = runToExit(id, stdout);
            long size = Files.size(stdout);
            assertTrue(size > 0 && size <= 64 * 1024, "the file filled the 64 KiB tmpfs: " + size);
            System.out.printf("failing sink, full tmpfs: %d bytes written, exit 3 after %d ms, 1 warning%n", size, ms);
        } finally {
            run("umount", mnt.toString());
        }
    }
}
