package io.jshim.test.standby;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.Posix;
import io.jshim.test.Busybox;
import io.jshim.test.CtrTasks;
import io.jshim.test.InstalledShim;
import io.jshim.test.PrivateContainerd;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm standby (issue 19) under a real containerd 1.6: a cold start hands its group to it, and the adopted
 * daemon is compared with a cold-booted one field by field; a stopped standby, a malformed or partial handover and
 * two starts racing for one standby all end in a running container; the standby goes with its containerd.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StandbyTest {
    private static final String GROUP = "io.containerd.runc.v2.group";
    @TempDir
    static Path dir;
    static PrivateContainerd containerd;
    static Path rootfs;
    static Path records;
    static int seq;

    @BeforeAll
    static void setUp() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        records = Files.createDirectories(dir.resolve("records"));
        // runc and a binary:// logger that write down the environment they were given, before doing their work
        Path wrap = Files.createDirectories(dir.resolve("wrap"));
        String realRunc = Standbys.which("runc");
        Files.writeString(wrap.resolve("runc"), "#!/bin/sh\nfor a; do last=$a; done\n"
                + "case \" $* \" in *' create '*) env | sort > " + records + "/runc-env.$last ;; esac\n"
                + "exec " + realRunc + " \"$@\"\n");
        Files.writeString(dir.resolve("logger"), "#!/bin/sh\nenv | sort > " + records + "/logger-env.$CONTAINER_ID\n"
                + "exec 5>&-\ncat <&3 >/dev/null & cat <&4 >/dev/null\nwait\n");
        for (Path p : List.of(wrap.resolve("runc"), dir.resolve("logger"))) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        containerd = PrivateContainerd.start(dir.resolve("cd"), true, wrap.toString(), bin.toString());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (containerd != null) {
            containerd.close();
        }
    }

    static synchronized String newId(String prefix) {
        return prefix + "-" + (++seq);
    }

    /** A detached {@code sleep} in a group of its own, logging through the recording binary:// logger. */
    static String runDetached(String prefix) throws Exception {
        String id = newId(prefix);
        containerd.ctrOk(CtrTasks.run(rootfs, id, "-d", "--annotation", GROUP + "=" + id,
                "--log-uri=binary://" + dir.resolve("logger"), "sleep", "100000"));
        return id;
    }

    /** Where serving daemons register for the exporter (DaemonRegistry). */
    static final Path REGISTRY = Path.of("/run/jshim/daemons");

    Path bundle(String id) {
        return containerd.state().resolve("io.containerd.runtime.v2.task").resolve(containerd.namespace()).resolve(id);
    }

    int shimPid(String id) throws IOException {
        return Integer.parseInt(Files.readString(bundle(id).resolve("shim.pid")).trim());
    }

    /** A standby that listens on its control socket, booting one with a cold run if none is there. */
    static Standbys.Standby readyStandby() throws Exception {
        if (Standbys.find(containerd.socket()).isEmpty()) {
            String id = newId("boot");
            containerd.ctrOk(CtrTasks.run(rootfs, id, "--rm", "--annotation", GROUP + "=" + id, "true"));
        }
        Standbys.await(() -> Standbys.find(containerd.socket()).filter(Standbys.Standby::ready).isPresent(),
                "a ready standby");
        return Standbys.find(containerd.socket()).orElseThrow();
    }

    @Test
    @Order(1)
    void anAdoptedStandbyIsAColdDaemonFieldByField() throws Exception {
        Standbys.Standby standby = readyStandby();
        String adoptedId = runDetached("adopted");
        int adopted = shimPid(adoptedId);
        assertEquals(standby.pid(), adopted, "the cold start handed its group to the standby");

        // the next standby: stopped, so the next cold start gets no answer, kills it and boots its own daemon
        Standbys.Standby next = readyStandby();
        assertTrue(!Files.exists(REGISTRY.resolve(Integer.toString(next.pid()))), "a standby is not registered");
        Posix.kill(next.pid(), 19);
        String coldId = runDetached("cold");
        int cold = shimPid(coldId);
        assertNotEquals(next.pid(), cold);
        Standbys.await(() -> !Files.exists(Path.of("/proc/" + next.pid())), "the silent standby killed");
        assertTrue(!Files.readString(Path.of("/proc/" + cold + "/cmdline")).contains("standby"), "a cold daemon");

        Thread.sleep(1_500); // both past the compiler's first second at nice 19 (CompilerPriority)
        DaemonView a = DaemonView.of(adopted, bundle(adoptedId));
        DaemonView c = DaemonView.of(cold, bundle(coldId));
        assertEquals(bundle(adoptedId), a.cwd());
        assertEquals(bundle(coldId), c.cwd());
        assertEquals(c.oomScoreAdj(), a.oomScoreAdj(), "oom_score_adj");
        assertEquals(c.cgroup(), a.cgroup(), "cgroup");
        assertEquals(c.status(), a.status(), "/proc/PID/status");
        assertEquals(c.session(), a.session(), "own session and process group");
        assertEquals(c.scheduling(), a.scheduling(), "policy and nice of every thread, by name");
        assertEquals(c.fds(), a.fds(), "open fds");
        assertEquals(c.socketModeAndOwner(), a.socketModeAndOwner(), "the group socket's mode and owner");
        assertEquals(Standbys.normalised(records.resolve("runc-env." + coldId), coldId, bundle(coldId)),
                Standbys.normalised(records.resolve("runc-env." + adoptedId), adoptedId, bundle(adoptedId)),
                "the environment runc was given");
        assertEquals(Standbys.normalised(records.resolve("logger-env." + coldId), coldId, bundle(coldId)),
                Standbys.normalised(records.resolve("logger-env." + adoptedId), adoptedId, bundle(adoptedId)),
                "the environment the binary:// logger was given");
        for (String id : List.of(adoptedId, coldId)) { // both serve: both registered for the exporter (after 1 s)
            Path file = REGISTRY.resolve(Integer.toString(shimPid(id)));
            Standbys.await(() -> Files.exists(file), id + " registered in " + file);
            String registration = Files.readString(file);
            assertTrue(registration.contains("\nsocket=" + Files.readString(bundle(id).resolve("address")).trim()
                    .replaceFirst("^unix://", "") + "\nnamespace=" + containerd.namespace() + "\ncontainerd_address="
                    + containerd.socket() + "\n"), id + ": " + registration);
        }
        String log = containerd.log();
        assertTrue(log.contains("(namespace " + containerd.namespace() + ", pid " + adopted + ")"),
                "the adopted daemon's first line reached containerd: " + log);
        assertTrue(log.contains("(namespace " + containerd.namespace() + ", pid " + cold + ")"));
        for (String id : List.of(adoptedId, coldId)) {
            containerd.ctrOk("task", "exec", "--exec-id", "x", id, "true");
            containerd.ctrOk("task", "kill", "-s", "9", id);
            CtrTasks.awaitStoppedAndDelete(containerd, id);
        }
    }

    @Test
    @Order(2)
    void aMalformedOrPartialHandoverLeavesTheStandbyWaiting() throws Exception {
        Standbys.Standby standby = readyStandby();
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(standby.control()))) {
            ch.write(ByteBuffer.wrap("jshim-handover 1\0fd=3\0nonsense\0end\0".getBytes(StandardCharsets.UTF_8)));
            ByteBuffer reply = ByteBuffer.allocate(256);
            while (ch.read(reply) > 0) {
                // until the standby closes
            }
            assertTrue(new String(reply.array(), 0, reply.position(), StandardCharsets.UTF_8)
                    .startsWith("refused malformed handover"));
        }
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(standby.control()))) {
            ch.write(ByteBuffer.wrap("jshim-handover 1\0fd=3\0namesp".getBytes(StandardCharsets.UTF_8)));
        }
        Standbys.await(() -> standby.log().contains("partial handover"), "the partial handover logged");
        assertTrue(standby.log().contains("malformed handover"), standby.log());
        assertTrue(standby.ready(), "still waiting");
        String id = runDetached("after-malformed");
        assertEquals(standby.pid(), shimPid(id), "and adopted by the next start");
        containerd.ctrOk("task", "kill", "-s", "9", id);
        CtrTasks.awaitStoppedAndDelete(containerd, id);
    }

    @Test
    @Order(3)
    void twoColdStartsRacingForOneStandbyBothRun() throws Exception {
        Standbys.Standby standby = readyStandby();
        CompletableFuture<String> one = CompletableFuture.supplyAsync(() -> runQuietly("race"));
        CompletableFuture<String> two = CompletableFuture.supplyAsync(() -> runQuietly("race"));
        List<String> ids = List.of(one.get(120, TimeUnit.SECONDS), two.get(120, TimeUnit.SECONDS));
        int adopted = 0;
        for (String id : ids) {
            adopted += shimPid(id) == standby.pid() ? 1 : 0;
        }
        assertEquals(1, adopted, "one start got the standby, the other booted its own daemon");
        for (String id : ids) {
            containerd.ctrOk("task", "kill", "-s", "9", id);
            CtrTasks.awaitStoppedAndDelete(containerd, id);
        }
    }

    @Test
    @Order(4)
    void theStandbyGoesWithItsContainerd() throws Exception {
        Standbys.Standby standby = readyStandby();
        containerd.stop();
        Standbys.await(() -> !Files.exists(Path.of("/proc/" + standby.pid())), "the standby gone");
        assertTrue(!Files.exists(standby.control()), "its control socket removed");
    }

    private static String runQuietly(String prefix) {
        try {
            return runDetached(prefix);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        Standbys.await(condition, what);
    }
}
