package io.jshim.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wire.Bytes;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.SpawnFileAction;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The same-user check on accepted connections, tested with a real process of another uid: the
 * socket is opened up (0666) and {@link OtherUserProbe} connects from a child spawned as uid
 * 65534 through setpriv (posix_spawnp + waitpid on that pid, no ProcessBuilder).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SameUserCheckTest {
    private static final int NOBODY = 65534;
    private static final int O_WRONLY = 01;
    private static final int O_CREAT = 0100;
    private static final int O_TRUNC = 01000;

    @TempDir
    Path dir;
    Path classpath;
    final AtomicInteger handled = new AtomicInteger();

    private record Exit(long pid, int code, String output) {
    }

    @BeforeEach
    void probeClasspath() throws IOException {
        // The child may be another user: give it a world-readable copy of just the probe class.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        classpath = dir.resolve("cp");
        Path target = classpath.resolve("io/jshim/ttrpc/OtherUserProbe.class");
        Files.createDirectories(target.getParent());
        try (InputStream in = OtherUserProbe.class.getResourceAsStream("OtherUserProbe.class")) {
            Files.copy(in, target);
        }
        for (Path p = target; p.startsWith(dir) && !p.equals(dir); p = p.getParent()) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
        }
    }

    private TtrpcServer.Builder echoServer() {
        return TtrpcServer.builder().register("test.Echo", "Echo", (ctx, p) -> {
            handled.incrementAndGet();
            return p;
        });
    }

    private Path openSocket(TtrpcServer server, String name) throws IOException {
        Path socket = dir.resolve(name);
        server.bind(socket);
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        return socket;
    }

    private Exit runProbe(Path socket, boolean asNobody) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> argv = new ArrayList<>();
        if (asNobody) {
            argv.addAll(List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups", "--"));
        }
        argv.addAll(List.of(java, "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-Xmx32m",
                "-cp", classpath.toString(), OtherUserProbe.class.getName(), socket.toString()));
        Path log = dir.resolve("probe-" + System.nanoTime() + ".log");
        POSIX posix = POSIXFactory.getNativePOSIX();
        long pid = posix.posix_spawnp(argv.getFirst(),
                List.of(SpawnFileAction.open(log.toString(), 1, O_WRONLY | O_CREAT | O_TRUNC, 0644), SpawnFileAction.dup(1, 2)),
                argv, List.of("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/"));
        assertTrue(pid > 0, "spawned " + argv);
        int[] status = new int[1];
        assertEquals(pid, posix.waitpid(pid, status, 0));
        int code = (status[0] & 0x7f) == 0 ? (status[0] >> 8) & 0xff : 128 + (status[0] & 0x7f);
        return new Exit(pid, code, Files.readString(log));
    }

    @Test
    void ownEffectiveUidIsReadFromProc() {
        assertEquals(POSIXFactory.getNativePOSIX().geteuid(), TtrpcServer.effectiveUid());
    }

    @Test
    void otherUidIsClosedBeforeAnyRequestIsReadWhileSameUidIsServed() throws Exception {
        try (TtrpcServer server = echoServer().build()) { // default policy: same user
            Path socket = openSocket(server, "default.sock");

            Exit nobody = runProbe(socket, true);
            assertEquals(OtherUserProbe.CLOSED_WITHOUT_ANSWER, nobody.code(), nobody.output());
            assertEquals(0, handled.get(), "no request from the other uid reached a handler");

            // Control: the very same probe as our own uid is answered, so the check is what closed it.
            Exit self = runProbe(socket, false);
            assertEquals(OtherUserProbe.ANSWERED, self.code(), self.output());
            assertEquals(1, handled.get());
        }
    }

    @Test
    void policySeesTheConnectingProcessCredentials() throws Exception {
        ConcurrentLinkedQueue<PeerCredentials> seen = new ConcurrentLinkedQueue<>();
        var sameUser = TtrpcServer.sameUserAs(TtrpcServer.effectiveUid());
        try (TtrpcServer server = echoServer().peerPolicy(peer -> {
            seen.add(peer);
            return sameUser.test(peer);
        }).build()) {
            Path socket = openSocket(server, "policy.sock");
            Exit nobody = runProbe(socket, true);
            assertEquals(OtherUserProbe.CLOSED_WITHOUT_ANSWER, nobody.code(), nobody.output());
            PeerCredentials peer = seen.peek();
            assertEquals(new PeerCredentials((int) nobody.pid(), NOBODY, NOBODY), peer,
                    "setpriv execs java in place, so the peer is the spawned pid");
            assertEquals(0, handled.get());
        }
    }

    @Test
    void rejectingPolicyClosesTheConnectionAndTheClientSeesUnavailable() throws Exception {
        try (TtrpcServer server = echoServer().peerPolicy(peer -> false).build()) {
            Path socket = dir.resolve("reject.sock");
            server.bind(socket);
            try (TtrpcClient client = TtrpcClient.connect(socket, Duration.ofSeconds(5))) {
                var f = client.call("test.Echo", "Echo", Bytes.copyFromUtf8("x"), CallOptions.DEFAULT);
                ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
                TtrpcException te = assertInstanceOf(TtrpcException.class, e.getCause());
                assertEquals(Code.UNAVAILABLE, te.code());
                ServerProtocolTest.awaitTrue(() -> !client.isOpen(), "client notices the close");
            }
            assertEquals(0, handled.get());
            assertEquals(0, server.connectionCount());
        }
    }

    @Test
    void requireSameUserOffAcceptsEveryone() throws Exception {
        try (TtrpcServer server = echoServer().requireSameUser(false).build()) {
            Path socket = openSocket(server, "open.sock");
            Exit nobody = runProbe(socket, true);
            assertEquals(OtherUserProbe.ANSWERED, nobody.code(), nobody.output());
            assertEquals(1, handled.get());
        }
    }

    @Test
    void effectiveUidParsesTheSecondUidField() throws IOException {
        Path status = dir.resolve("status");
        Files.writeString(status, "Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
        assertEquals(0, ProcessIdentity.readEffectiveUid(status));
        assertFalse(ProcessIdentity.readEffectiveUid(status) == 1000);
    }
}
