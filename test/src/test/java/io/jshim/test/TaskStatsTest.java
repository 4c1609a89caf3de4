package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wkt.Empty;
import io.jshim.proto.cgroups.v1.Metrics;
import io.jshim.proto.task.UpdateTaskRequest;
import io.jshim.proto.task.StatsRequest;
import io.jshim.proto.task.StatsResponse;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stats over the Task API with real runc: the metrics, their end with the task, and no fd per call (issue 7). */
class TaskStatsTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    @TempDir
    static Path dir;
    static ShimFixture fixture;
    static ShimHarness shim;
    static TaskClient tasks;
    static Path rootfs;

    @BeforeAll
    static void setUp() throws Exception {
        fixture = ShimFixture.start(dir, true);
        shim = fixture.shim();
        tasks = fixture.tasks();
        rootfs = fixture.rootfs();
    }

    @AfterAll
    static void tearDown() {
        fixture.close();
    }

    private static StatsResponse stats(String id) throws TtrpcException {
        return shim.call("Stats", StatsRequest.newBuilder().setId(id).build(), StatsResponse.parser());
    }

    @Test
    void statsDescribeTheRunningContainerAndLeakNoFd() throws Exception {
        String id = "stats-1";
        Path b = OciBundle.of("sh", "-c", "sleep 1000 & exec sleep 1001").writeTo(dir.resolve("bundles").resolve(id), rootfs);
        tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        try {
            StatsResponse first = stats(id);
            assertEquals("io.containerd.cgroups.v1.Metrics", first.getStats().getTypeUrl());
            // containerd's type URLs carry no "type.googleapis.com/" prefix, which Any.unpack insists on
            Metrics m = Metrics.parseFrom(first.getStats().getValue());
            assertEquals(2, m.getPids().getCurrent(), "two sleeps: " + m.getPids());
            assertTrue(m.getMemory().getUsage().getUsage() > 0, m.getMemory().toString());
            assertTrue(m.getMemory().getUsage().getLimit() > 0, m.getMemory().toString());

            int calls = FULL ? 1000 : 200;
            long before = openFds();
            for (int i = 0; i < calls; i++) {
                stats(id);
            }
            long after = openFds();
            System.out.printf("stats: %d calls, fds before %d after %d%n", calls, before, after);
            assertTrue(after <= before, calls + " Stats calls left " + (after - before) + " more fds open");
        } finally {
            tasks.kill(id, "", 9, false);
            tasks.await(id, "");
            // Update goes to runc only in created, running or paused state; like the reference, an Unknown here
            TtrpcException stopped = assertThrows(TtrpcException.class, () -> shim.call("Update",
                    UpdateTaskRequest.newBuilder().setId(id).setResources(Any.newBuilder().setTypeUrl("x")
                            .setValue(Bytes.copyFromUtf8("{}"))).build(), Empty.parser()));
            assertEquals(Code.UNKNOWN, stopped.code(), stopped.getMessage());
            assertTrue(stopped.getMessage().contains("cannot update a stopped container"), stopped.getMessage());
            tasks.delete(id, "");
        }
        TtrpcException e = assertThrows(TtrpcException.class, () -> stats(id));
        assertEquals(Code.NOT_FOUND, e.code(), e.getMessage());
    }

    private static long openFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.count();
        }
    }
}
