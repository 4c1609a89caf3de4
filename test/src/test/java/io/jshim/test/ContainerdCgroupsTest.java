package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wkt.Empty;
import io.jshim.proto.task.UpdateTaskRequest;
import io.jshim.reaper.Child;
import io.jshim.reaper.Posix;
import io.jshim.ttrpc.TtrpcClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stats, OOM events and Update as a containerd user sees them through ctr (issue 7). */
class ContainerdCgroupsTest {
    static final long MIB = 1024 * 1024;
    @TempDir
    static Path dir;
    static PrivateContainerd containerd;
    static Path rootfs;

    @BeforeAll
    static void setUp() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        containerd = PrivateContainerd.start(dir.resolve("cd"), bin.toString());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (containerd != null) {
            containerd.close();
        }
    }

    private static String[] run(String id, String... rest) {
        return CtrTasks.run(rootfs, id, rest);
    }

    @Test
    void anOomKillIsReportedBeforeTheExitItCaused() throws Exception {
        String id = "oom-1";
        Path events = dir.resolve("oom-events.txt");
        Child watcher = containerd.ctrBackground(events, "events");
        try {
            Thread.sleep(300); // ctr events subscribes asynchronously
            // dd's one 256 MiB block is touched page by page: the 32 MiB limit ends it with an OOM kill
            containerd.ctrOk(run(id, "-d", "--memory-limit", Long.toString(32 * MIB),
                    "dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1"));
            assertEquals(137, CtrTasks.awaitStoppedAndDelete(containerd, id));
            containerd.ctrOk("container", "rm", id);
            List<String> topics = awaitTopics(events, id, "/tasks/delete");
            assertEquals(List.of("/tasks/create", "/tasks/start", "/tasks/oom", "/tasks/exit", "/tasks/delete"),
                    topics, "one /tasks/oom, ahead of the exit it caused");
        } finally {
            Posix.kill(watcher.pid(), 9);
        }
    }

    @Test
    void metricsShowTheMemoryLimitAndAnUpdateRaisesIt() throws Exception {
        String id = "metrics-1";
        containerd.ctrOk(run(id, "-d", "--memory-limit", Long.toString(64 * MIB), "sleep", "1000"));
        try {
            assertEquals(64 * MIB, memoryLimit(id));
            String table = containerd.ctrOk("task", "metrics", id);
            assertTrue(table.contains("memory.limit_in_bytes") || table.contains("memory.max"), table);

            // ctr 1.6 has no "task update": call Update on the shim as containerd's client library does
            String address = Files.readString(containerd.state().resolve("io.containerd.runtime.v2.task")
                    .resolve(containerd.namespace()).resolve(id).resolve("address"));
            byte[] resources = ("{\"memory\":{\"limit\":" + (128 * MIB) + "}}").getBytes(StandardCharsets.UTF_8);
            try (TtrpcClient shim = TtrpcClient.connect(Path.of(address.substring("unix://".length())),
                    Duration.ofSeconds(5))) {
                shim.call(ShimHarness.V2, "Update", UpdateTaskRequest.newBuilder().setId(id)
                                .setResources(Any.newBuilder()
                                        .setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/LinuxResources")
                                        .setValue(Bytes.copyFrom(resources)))
                                .build(),
                        Empty.parser(), Duration.ofSeconds(30), Map.of("containerd-namespace-ttrpc", containerd.namespace()));
            }
            assertEquals(128 * MIB, memoryLimit(id));
        } finally {
            containerd.ctr("task", "kill", "-s", "KILL", id);
            CtrTasks.awaitStoppedAndDelete(containerd, id);
            containerd.ctr("container", "rm", id);
        }
    }

    @Test
    void metricsOfADeletedTaskFail() throws Exception {
        String id = "gone-1";
        containerd.ctrOk(run(id, "-d", "sleep", "1000"));
        containerd.ctrOk("task", "kill", "-s", "KILL", id);
        CtrTasks.awaitStoppedAndDelete(containerd, id);
        var r = containerd.ctr("task", "metrics", id);
        containerd.ctr("container", "rm", id);
        assertTrue(r.status() != 0, "metrics of a deleted task: " + r.stdoutText());
        assertTrue(r.stderrText().contains("not found"), r.stderrText());
    }

    /** {@code ctr task metrics --format json}: the memory limit in the decoded v1 (or v2) Metrics. */
    private static long memoryLimit(String id) throws Exception {
        JsonObject m = JsonParser.parseString(containerd.ctrOk("task", "metrics", "--format", "json", id))
                .getAsJsonObject();
        JsonObject data = m.has("Data") ? m.getAsJsonObject("Data") : m;
        JsonObject memory = data.getAsJsonObject(data.has("memory") ? "memory" : "Memory");
        if (memory.has("usage")) { // v1: memory.usage.limit
            return memory.getAsJsonObject("usage").get("limit").getAsLong();
        }
        return memory.get("usage_limit").getAsLong(); // v2
    }

    private static List<String> awaitTopics(Path events, String id, String last) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> topics = List.of();
        while (System.nanoTime() < deadline) {
            topics = Files.readAllLines(events).stream().filter(l -> l.contains(id))
                    .map(l -> Stream.of(l.split(" ")).filter(w -> w.startsWith("/tasks/")).findFirst().orElse(""))
                    .filter(t -> !t.isEmpty()).toList();
            if (topics.contains(last)) {
                break;
            }
            Thread.sleep(100);
        }
        return topics;
    }
}
