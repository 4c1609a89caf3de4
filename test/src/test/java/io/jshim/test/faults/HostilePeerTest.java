package io.jshim.test.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.task.ConnectRequest;
import io.jshim.proto.task.ConnectResponse;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.cli.LogSetup;
import io.jshim.test.RawTtrpc;
import io.jshim.test.ShimHarness;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fault: hostile peers on the shim's socket (issue 10). Another uid that can reach the socket is closed at the
 * handshake before a byte is read; clients that connect and never send, or send half a frame, hold no worker, so
 * a well-formed client keeps its latency.
 */
class HostilePeerTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    @TempDir
    static Path dir;
    static ShimHarness shim;

    @BeforeAll
    static void setUp() throws Exception {
        LogSetup.toStderr(false);
        // uid 65534 must be able to reach the socket for the server's own check to be what stops it
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        shim = new ShimHarness(dir.resolve("shim"));
        Files.setPosixFilePermissions(dir.resolve("shim"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(shim.socket(), PosixFilePermissions.fromString("rw-rw-rw-"));
    }

    @AfterAll
    static void tearDown() {
        shim.close();
    }

    @Test
    void anotherUidIsClosedAtTheHandshakeBeforeAnyRequestIsRead() throws Exception {
        Path client = dir.resolve("HostileClient.java");
        try (InputStream in = HostilePeerTest.class.getResourceAsStream("/faults/HostileClient.java")) {
            Files.write(client, in.readAllBytes());
        }
        Files.setPosixFilePermissions(client, PosixFilePermissions.fromString("rw-r--r--"));
        // Shutdown with no container makes the shim exit: the one request whose effect is visible if it ran.
        byte[] shutdown = RawTtrpc.frame(1, 1, 0, RawTtrpc.request(ShimHarness.V2, "Shutdown",
                ShutdownRequest.newBuilder().setId("x").build(), ShimHarness.NAMESPACE));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of("setpriv", "--reuid", "65534", "--regid", "65534",
                "--clear-groups", java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", client.toString(),
                shim.socket().toString(), HexFormat.of().formatHex(shutdown)).withWorkDir(dir), null,
                Duration.ofSeconds(60));
        assertEquals(0, r.status(), r.stdoutText() + r.stderrText());
        String seen = r.stdoutText().trim();
        System.out.printf("hostile uid 65534: the client saw \"%s\"; Shutdowns run: %d%n", seen, shim.shutdowns.get());
        assertTrue(seen.startsWith("closed"), "the server closed the connection: " + seen);
        assertEquals(0, shim.shutdowns.get(), "the request of a foreign uid was never read");
        // and the owner is still served
        assertTrue(shim.call("Connect", ConnectRequest.newBuilder().setId("x").build(), ConnectResponse.parser())
                .getShimPid() > 0);
    }

    /** Latencies of {@code n} Connect calls by a well-formed client, in microseconds, sorted. */
    static long[] latencies(int n) throws Exception {
        long[] us = new long[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            shim.call("Connect", ConnectRequest.newBuilder().setId("x").build(), ConnectResponse.parser());
            us[i] = (System.nanoTime() - t0) / 1000;
        }
        Arrays.sort(us);
        return us;
    }

    static String summary(long[] us) {
        return "p50 " + us[us.length / 2] + " us, p99 " + us[us.length * 99 / 100] + " us, max " + us[us.length - 1]
                + " us";
    }

    @Test
    void silentAndHalfFrameClientsTieUpNoWorker() throws Exception {
        int hostile = FULL ? 500 : 100;
        int calls = FULL ? 2000 : 300;
        latencies(100); // warm up
        long[] before = latencies(calls);
        int threadsBefore = ManagementThreads.count();
        List<RawTtrpc> peers = new ArrayList<>();
        try {
            byte[] connect = RawTtrpc.frame(1, 1, 0, RawTtrpc.request(ShimHarness.V2, "Connect",
                    ConnectRequest.newBuilder().setId("x").build(), ShimHarness.NAMESPACE));
            for (int i = 0; i < hostile; i++) {
                RawTtrpc p = RawTtrpc.connect(shim.socket());
                peers.add(p);
                switch (i % 3) {
                    case 0 -> { } // connects and never sends
                    case 1 -> p.write(Arrays.copyOf(connect, 5)); // half a header
                    default -> p.write(Arrays.copyOf(connect, connect.length / 2)); // a header and half a body
                }
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (shim.server().connectionCount() < hostile + 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(hostile + 1, shim.server().connectionCount(), "every hostile peer is connected");
            long[] during = latencies(calls);
            int threadsDuring = ManagementThreads.count();
            System.out.printf("hostile idle/half-frame peers: %d; well-formed client before: %s; during: %s;"
                            + " calls in flight %d; threads %d -> %d%n", hostile, summary(before), summary(during),
                    shim.server().activeCalls(), threadsBefore, threadsDuring);
            // The well-formed client's last answer can reach it a moment before the server's call thread counts
            // that call done; a half frame turned into a call would hold its worker for good.
            long settle = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (shim.server().activeCalls() > 0 && System.nanoTime() < settle) {
                Thread.sleep(1);
            }
            assertEquals(0, shim.server().activeCalls(), "no half frame became a call holding a worker");
            assertTrue(threadsDuring - threadsBefore < 5, "no thread per hostile peer: " + threadsBefore + " -> "
                    + threadsDuring);
            long p50Before = before[calls / 2];
            long p50During = during[calls / 2];
            assertTrue(p50During <= 3 * p50Before + 2000, "p50 latency held: " + summary(before) + " vs "
                    + summary(during));
            assertTrue(during[calls * 99 / 100] < 100_000, "p99 under 100 ms: " + summary(during));
        } finally {
            for (RawTtrpc p : peers) {
                p.close();
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (shim.server().connectionCount() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertEquals(1, shim.server().connectionCount(), "the hostile connections are gone once their peers close");
    }

    /** Live threads of this JVM. */
    static final class ManagementThreads {
        static int count() {
            return java.lang.management.ManagementFactory.getThreadMXBean().getThreadCount();
        }
    }
}
