package io.jshim.test.cgroup2;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.jshim.test.CtrEvents;
import io.jshim.test.CtrTasks;
import io.jshim.test.PrivateContainerd;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** What the guest's checks share: the private containerd, the busybox rootfs, ctr and cgroup file helpers. */
class GuestBase {
    static final long MIB = 1024 * 1024;
    static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");

    final PrivateContainerd containerd;
    final Path rootfs;
    final Path work;

    GuestBase(PrivateContainerd containerd, Path rootfs, Path work) {
        this.containerd = containerd;
        this.rootfs = rootfs;
        this.work = work;
    }

    void run(String id, String... rest) throws Exception {
        containerd.ctrOk(CtrTasks.run(rootfs, id, withDetach(rest)));
    }

    static String[] withDetach(String[] rest) {
        String[] a = new String[rest.length + 1];
        a[0] = "-d";
        System.arraycopy(rest, 0, a, 1, rest.length);
        return a;
    }

    void kill(String id) {
        try {
            if (containerd.ctr("task", "kill", "-s", "KILL", id).status() == 0) {
                CtrTasks.awaitStoppedAndDelete(containerd, id);
            } else {
                containerd.ctr("task", "delete", id);
            }
            containerd.ctr("container", "rm", id);
        } catch (Exception e) {
            System.err.println("cleanup of " + id + ": " + e);
        }
    }

    Path bundle(String id) {
        return containerd.state().resolve("io.containerd.runtime.v2.task").resolve(containerd.namespace()).resolve(id);
    }

    int daemonPid(String id) throws IOException {
        Path pidFile = bundle(id).resolve("shim.pid");
        return Integer.parseInt(read(pidFile));
    }

    void assertDaemonOutsideContainer(String id) throws Exception {
        assertDaemonOutsideContainer(id, daemonPid(id));
    }

    void assertDaemonOutsideContainer(String id, int daemonPid) throws Exception {
        String daemon = unifiedPath(daemonPid);
        String container = "/" + CGROUP_ROOT.relativize(cgroupOf(id));
        require(!daemon.equals(container) && !daemon.startsWith(container + "/"),
                "daemon of " + id + " in " + daemon + ", not in the container's " + container);
    }

    int taskPid(String id) throws Exception {
        for (String l : containerd.ctrOk("task", "ls").lines().toList()) {
            String[] f = l.trim().split("\\s+");
            if (f.length >= 2 && f[0].equals(id)) {
                return Integer.parseInt(f[1]);
            }
        }
        throw new AssertionError("no task " + id);
    }

    Path cgroupOf(String id) throws Exception {
        String path = unifiedPath(taskPid(id));
        return CGROUP_ROOT.resolve(path.substring(1));
    }

    static String unifiedPath(int pid) throws IOException {
        return Files.readAllLines(Path.of("/proc/" + pid + "/cgroup")).stream().filter(l -> l.startsWith("0::"))
                .map(l -> l.substring(3)).findFirst().orElseThrow(() -> new AssertionError("no 0:: line for " + pid));
    }

    JsonObject metrics(String id) throws Exception {
        JsonElement e = JsonParser.parseString(containerd.ctrOk("task", "metrics", "--format", "json", id));
        return e.getAsJsonObject();
    }

    JsonObject metricsUnchecked(String id) {
        try {
            return metrics(id);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A u64 of the decoded Metrics; 0 when omitted (Go's omitempty drops zeros). */
    static BigInteger u64(JsonObject m, String section, String field) {
        if (!m.has(section) || !m.getAsJsonObject(section).has(field)) {
            return BigInteger.ZERO;
        }
        return m.getAsJsonObject(section).get(field).getAsBigInteger();
    }

    static int hugePageSizes() throws IOException {
        Path dir = Path.of("/sys/kernel/mm/hugepages");
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var s = Files.list(dir)) {
            return (int) s.count();
        }
    }

    List<String> awaitTopics(CtrEvents events, String id, String last) throws Exception {
        await(last + " for " + id, 60, () -> topics(events, id).contains(last));
        return topics(events, id);
    }

    static List<String> topics(CtrEvents events, String id) {
        try {
            return events.of(id).stream().map(CtrEvents.Line::topic).toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    static Map<String, Long> keyValues(Path file) throws IOException {
        Map<String, Long> m = new java.util.TreeMap<>();
        for (String l : Files.readAllLines(file)) {
            String[] f = l.trim().split("\\s+");
            if (f.length == 2) {
                m.put(f[0], Long.parseLong(f[1]));
            }
        }
        return m;
    }

    static String read(Path file) throws IOException {
        return Files.readString(file).trim();
    }

    static void require(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    /** Polls {@code done} every 50 ms (each poll asks ctr or reads a file) until true or {@code seconds} pass. */
    static void await(String what, int seconds, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within " + seconds + " s: " + what);
            }
            Thread.sleep(50);
        }
    }

    static String which(String command) {
        for (String d : System.getenv("PATH").split(":")) {
            if (Files.isExecutable(Path.of(d, command))) {
                return Path.of(d, command).toString();
            }
        }
        throw new AssertionError("no " + command + " on PATH");
    }

    static void rmdirQuietly(Path cgroup) {
        try {
            Files.deleteIfExists(cgroup);
        } catch (IOException e) {
            System.err.println("rmdir " + cgroup + ": " + e);
        }
    }
}
