package io.jshim.test.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Empty;
import io.jshim.events.Event;
import io.jshim.proto.events.TaskDelete;
import io.jshim.proto.task.CreateTaskResponse;
import io.jshim.proto.task.DeleteRequest;
import io.jshim.proto.task.DeleteResponse;
import io.jshim.proto.task.ShutdownRequest;
import io.jshim.proto.types.Mount;
import io.jshim.test.ShimDaemon;
import io.jshim.test.OciBundle;
import io.jshim.test.ShimFixture;
import io.jshim.test.ShimHarness;
import io.jshim.test.TaskClient;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults: Delete and Shutdown raced against each other and against callers that go away (issue 10). Containers
 * are real (runc) with a real bind mount as rootfs, so a leak shows as a live process, a mount or runc state.
 */
class DeleteShutdownRaceTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    @TempDir
    static Path dir;
    static ShimFixture fixture;
    static ShimHarness shim;
    static TaskClient tasks;
    static Path rootfs;

    @BeforeAll
    static void setUp() throws Exception {
        fixture = ShimFixture.start(dir, false);
        shim = fixture.shim();
        tasks = fixture.tasks();
        rootfs = fixture.rootfs();
    }

    @AfterAll
    static void tearDown() {
        fixture.close();
    }

    static String newId(String prefix) {
        return fixture.newId(prefix);
    }

    /** A container whose rootfs the shim bind-mounts into the bundle, as it mounts a snapshot. */
    static Path bundle(String id) throws Exception {
        Path b = dir.resolve("bundles").resolve(id);
        OciBundle.of("sleep", "1000").writeTo(b, b.resolve("rootfs"));
        return b;
    }

    static int createRunning(String id) throws Exception {
        Path b = bundle(id);
        int pid = tasks.create(tasks.createRequest(id, b).addRootfs(Mount.newBuilder().setType("bind")
                .setSource(rootfs.toString()).addOptions("rbind").addOptions("rw")).build());
        tasks.start(id);
        return pid;
    }

    static TtrpcClient newClient() throws Exception {
        return TtrpcClient.connect(shim.socket(), Duration.ofSeconds(5));
    }

    static <R extends io.jshim.proto.wire.ProtoMessage> R call(TtrpcClient c, String method,
            io.jshim.proto.wire.ProtoMessage req, io.jshim.proto.wire.ProtoParser<R> parser) throws TtrpcException {
        return c.call(ShimHarness.V2, method, req, parser, Duration.ofSeconds(60),
                Map.of("containerd-namespace-ttrpc", ShimHarness.NAMESPACE));
    }


    static boolean mounted(Path where) throws Exception {
        String target = " " + where + " ";
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().anyMatch(l -> l.contains(target));
    }

    static boolean runcKnows(String id) {
        return Files.exists(shim.dir().resolve("runc").resolve(ShimHarness.NAMESPACE).resolve(id));
    }

    static long deleteEvents(String id) {
        return shim.events().stream().map(Event::message)
                .filter(m -> m instanceof TaskDelete d && d.getContainerId().equals(id)).count();
    }

    /** What must hold once a container is deleted, however the delete went: nothing of it is left. */
    static void assertNothingLeft(String id, int pid) throws Exception {
        assertFalse(ShimDaemon.alive(pid), id + ": init " + pid + " still alive");
        assertFalse(mounted(dir.resolve("bundles").resolve(id).resolve("rootfs")), id + ": rootfs still mounted");
        assertFalse(runcKnows(id), id + ": runc state left");
        TtrpcException gone = org.junit.jupiter.api.Assertions.assertThrows(TtrpcException.class,
                () -> tasks.state(id, ""));
        assertEquals(Code.NOT_FOUND, gone.code());
        assertEquals(1, deleteEvents(id), id + ": one /tasks/delete");
    }

    @Test
    void twoDeletesOfTheSameTaskAtOnce() throws Exception {
        int iterations = FULL ? 200 : 10;
        int ok = 0;
        int notFound = 0;
        try (TtrpcClient a = newClient(); TtrpcClient b = newClient()) {
            for (int i = 0; i < iterations; i++) {
                String id = newId("double-delete");
                int pid = createRunning(id);
                tasks.kill(id, "", 9, false);
                assertEquals(137, tasks.await(id, "").getExitStatus());
                CountDownLatch go = new CountDownLatch(1);
                List<CompletableFuture<Object>> both = new ArrayList<>();
                for (TtrpcClient c : List.of(a, b)) {
                    both.add(CompletableFuture.supplyAsync(() -> {
                        try {
                            go.await();
                            return call(c, "Delete", DeleteRequest.newBuilder().setId(id).build(), DeleteResponse.parser());
                        } catch (TtrpcException e) {
                            return e;
                        } catch (InterruptedException e) {
                            throw new RuntimeException(e);
                        }
                    }));
                }
                go.countDown();
                for (CompletableFuture<Object> f : both) {
                    Object r = f.get(60, TimeUnit.SECONDS);
                    if (r instanceof DeleteResponse d) {
                        assertEquals(137, d.getExitStatus());
                        assertEquals(pid, d.getPid());
                        ok++;
                    } else {
                        TtrpcException e = (TtrpcException) r;
                        assertEquals(Code.NOT_FOUND, e.code(), "the loser of two Deletes: " + e.getMessage());
                        notFound++;
                    }
                }
                assertNothingLeft(id, pid);
            }
        }
        System.out.printf("double delete: %d iterations, %d answered with the exit, %d NotFound%n", iterations, ok,
                notFound);
        assertEquals(iterations, ok, "exactly one Delete of each pair succeeds");
        assertEquals(iterations, notFound);
    }

    @Test
    void aDeleteWhoseCallerDisconnectsMidCall() throws Exception {
        int iterations = FULL ? 200 : 10;
        int doneByTheLostCall = 0;
        for (int i = 0; i < iterations; i++) {
            String id = newId("lost-delete");
            int pid = createRunning(id);
            tasks.kill(id, "", 9, false);
            tasks.await(id, "");
            TtrpcClient lost = newClient();
            CompletableFuture<Object> call = CompletableFuture.supplyAsync(() -> {
                try {
                    return call(lost, "Delete", DeleteRequest.newBuilder().setId(id).build(), DeleteResponse.parser());
                } catch (TtrpcException e) {
                    return e;
                }
            });
            // runc delete takes tens of ms: closing after 0-20 ms lands before, during and after it
            Thread.sleep(i % 5 * 5);
            lost.close();
            call.handle((r, e) -> r).get(60, TimeUnit.SECONDS);
            // The caller retries, as containerd would after reconnecting: the answer is the exit or NotFound.
            try {
                DeleteResponse d = tasks.delete(id, "");
                assertEquals(137, d.getExitStatus());
            } catch (TtrpcException e) {
                assertEquals(Code.NOT_FOUND, e.code(), e.getMessage());
                doneByTheLostCall++;
            }
            assertNothingLeft(id, pid);
        }
        System.out.printf("disconnected delete: %d iterations, %d completed by the abandoned call%n", iterations,
                doneByTheLostCall);
    }

    @Test
    void deleteAndShutdownAreIdempotent() throws Exception {
        String id = newId("idem");
        int pid = createRunning(id);
        int before = shim.shutdowns.get();
        shim.call("Shutdown", ShutdownRequest.newBuilder().setId(id).build(), Empty.parser());
        assertEquals(before, shim.shutdowns.get(), "Shutdown with a live container does nothing");
        tasks.kill(id, "", 9, false);
        tasks.await(id, "");
        tasks.delete(id, "");
        for (int k = 0; k < 3; k++) {
            TtrpcException again = org.junit.jupiter.api.Assertions.assertThrows(TtrpcException.class,
                    () -> tasks.delete(id, ""));
            assertEquals(Code.NOT_FOUND, again.code());
        }
        assertNothingLeft(id, pid);
    }

    /**
     * Shutdown racing a Create: either the Create wins and the Shutdown does nothing (a container is left), or the
     * Shutdown wins and no container may come into being in the shim that is going away.
     */
    @Test
    void shutdownRacingACreateLeavesNoContainerInAShimThatExits() throws Exception {
        int iterations = FULL ? 300 : 30;
        int violations = 0;
        int createsWon = 0;
        int shutdownsWon = 0;
        StringBuilder why = new StringBuilder();
        for (int i = 0; i < iterations; i++) {
            String id = newId("shutdown-race");
            Path bundle = fixture.bundle(id, OciBundle.of("sleep", "1000"));
            // A shim that decided to exit takes no more containers: every round needs a shim of its own.
            try (ShimHarness own = new ShimHarness(dir.resolve("shim-" + id));
                 TtrpcClient a = TtrpcClient.connect(own.socket(), Duration.ofSeconds(5));
                 TtrpcClient b = TtrpcClient.connect(own.socket(), Duration.ofSeconds(5))) {
                TaskClient ownTasks = new TaskClient(own);
                CountDownLatch go = new CountDownLatch(1);
                CompletableFuture<Object> create = CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                        return call(a, "Create", ownTasks.createRequest(id, bundle).build(), CreateTaskResponse.parser());
                    } catch (TtrpcException e) {
                        return e;
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                });
                CompletableFuture<Object> shutdown = CompletableFuture.supplyAsync(() -> {
                    try {
                        go.await();
                        return call(b, "Shutdown", ShutdownRequest.newBuilder().setId(id).build(), Empty.parser());
                    } catch (TtrpcException e) {
                        return e;
                    } catch (InterruptedException e) {
                        throw new RuntimeException(e);
                    }
                });
                go.countDown();
                Object c = create.get(60, TimeUnit.SECONDS);
                Object s = shutdown.get(60, TimeUnit.SECONDS);
                boolean shutDown = own.shutdowns.get() > 0;
                boolean created = c instanceof CreateTaskResponse;
                if (shutDown) {
                    shutdownsWon++;
                    if (!(c instanceof TtrpcException e && e.code() == Code.FAILED_PRECONDITION)) {
                        violations++;
                        why.append(id).append(": the shim was told to exit and Create answered ").append(c).append('\n');
                    }
                } else {
                    createsWon++;
                    if (!created) {
                        violations++;
                        why.append(id).append(": Shutdown did nothing, yet Create failed: ").append(c).append('\n');
                    }
                }
                if (!(s instanceof Empty)) {
                    violations++;
                    why.append(id).append(": Shutdown answered ").append(s).append('\n');
                }
                if (created) {
                    ownTasks.forceRemove(id);
                }
            }
        }
        System.out.printf("shutdown vs create: %d iterations, create first %d, shutdown first %d, violations %d%n",
                iterations, createsWon, shutdownsWon, violations);
        assertEquals(0, violations, why.toString());
    }
}
