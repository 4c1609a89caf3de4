package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Empty;
import io.jshim.events.Event;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.events.TaskExecStarted;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.events.TaskStart;
import io.jshim.proto.task.PidsRequest;
import io.jshim.proto.task.PidsResponse;
import io.jshim.proto.task.StateRequest;
import io.jshim.proto.types.ProcessInfo;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exit truth (issue 5) with real runc: order of TaskExits, stashed init exits, refused execs, kill-all,
 * early exits, and no lock held across runc. Repetition counts follow -Djshim.scale (small for make test,
 * full for make stress).
 */
class ExitTruthTest {
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

    static Path bundle(String id, OciBundle spec) throws Exception {
        return fixture.bundle(id, spec);
    }

    /** This container's events, in publish order. */
    static List<Event> eventsOf(String id) {
        List<Event> mine = new ArrayList<>();
        for (Event e : shim.events()) {
            String cid = switch (e.message()) {
                case TaskExit x -> x.getContainerId();
                case TaskCreate x -> x.getContainerId();
                case TaskStart x -> x.getContainerId();
                case TaskExecStarted x -> x.getContainerId();
                case io.jshim.proto.events.TaskExecAdded x -> x.getContainerId();
                case io.jshim.proto.events.TaskDelete x -> x.getContainerId();
                default -> "";
            };
            if (cid.equals(id)) {
                mine.add(e);
            }
        }
        return mine;
    }

    static Event initExit(String id) throws InterruptedException {
        return shim.awaitEvent(e -> e.message() instanceof TaskExit x && x.getContainerId().equals(id)
                && x.getId().equals(id), Duration.ofSeconds(30));
    }

    /** Checks the rules on one container's event history; returns the number of violations found. */
    static int violations(String id, List<Event> events, StringBuilder why) {
        int bad = 0;
        Map<String, Integer> exits = new HashMap<>();
        Map<String, Integer> startedAt = new HashMap<>();
        int initExitAt = -1;
        for (int i = 0; i < events.size(); i++) {
            switch (events.get(i).message()) {
                case TaskCreate x -> startedAt.put(id, i);
                case TaskExecStarted x -> startedAt.put(x.getExecId(), i);
                case TaskExit x -> {
                    exits.merge(x.getId(), 1, Integer::sum);
                    if (!startedAt.containsKey(x.getId())) {
                        bad++;
                        why.append(id).append(": exit of ").append(x.getId()).append(" before its start\n");
                    }
                    if (x.getId().equals(id)) {
                        initExitAt = i;
                    } else if (initExitAt >= 0) {
                        bad++;
                        why.append(id).append(": exec ").append(x.getId()).append(" exit after the init's\n");
                    }
                }
                default -> { }
            }
        }
        for (String p : startedAt.keySet()) {
            if (exits.getOrDefault(p, 0) != 1) {
                bad++;
                why.append(id).append(": ").append(p).append(" has ").append(exits.getOrDefault(p, 0)).append(" exits\n");
            }
        }
        return bad;
    }

    @Test
    void execExitsAlwaysPrecedeTheInitExit() throws Exception {
        int iterations = FULL ? 1000 : 15;
        int violations = 0;
        StringBuilder why = new StringBuilder();
        for (int i = 0; i < iterations; i++) {
            String id = newId("order");
            Path b = bundle(id, OciBundle.of("sleep", "1000"));
            tasks.create(tasks.createRequest(id, b).build());
            tasks.start(id);
            for (int e = 0; e < 3; e++) {
                tasks.exec(id, "e" + e, "sleep", "1000");
                tasks.start(id, "e" + e);
            }
            tasks.kill(id, "", 9, false);
            assertEquals(137, tasks.await(id, "").getExitStatus());
            initExit(id);
            violations += violations(id, eventsOf(id), why);
            tasks.delete(id, "");
        }
        System.out.printf("exit order: %d iterations, %d violations%n", iterations, violations);
        assertEquals(0, violations, why.toString());
    }

    @Test
    void execsStartedWhileTheInitIsKilledRunOrAreRefused() throws Exception {
        int iterations = FULL ? 200 : 8;
        int violations = 0;
        int refused = 0;
        int ran = 0;
        StringBuilder why = new StringBuilder();
        for (int i = 0; i < iterations; i++) {
            String id = newId("race");
            Path b = bundle(id, OciBundle.of("sleep", "1000"));
            tasks.create(tasks.createRequest(id, b).build());
            tasks.start(id);
            CompletableFuture<int[]> starter = CompletableFuture.supplyAsync(() -> {
                int ok = 0;
                int no = 0;
                for (int e = 0; e < 10; e++) {
                    try {
                        tasks.exec(id, "x" + e, "sleep", "1000");
                    } catch (TtrpcException ex) {
                        no++; // the init is stopped: exec creation refused by the state machine
                        continue;
                    }
                    try {
                        tasks.start(id, "x" + e);
                        ok++;
                    } catch (TtrpcException ex) {
                        if (ex.code() != Code.FAILED_PRECONDITION) {
                            throw new AssertionError("exec start failed with " + ex.code() + ": " + ex.getMessage());
                        }
                        no++;
                    }
                }
                return new int[] {ok, no};
            });
            Thread.sleep(i % 4 * 10);
            tasks.kill(id, "", 9, false);
            int[] r = starter.get(60, TimeUnit.SECONDS);
            ran += r[0];
            refused += r[1];
            initExit(id);
            violations += violations(id, eventsOf(id), why);
            tasks.delete(id, "");
        }
        System.out.printf("exec race: %d iterations, %d execs ran, %d refused, %d violations%n", iterations, ran,
                refused, violations);
        assertEquals(0, violations, why.toString());
    }

    @Test
    void processesThatExitAtOnceStillStartBeforeTheyExit() throws Exception {
        int iterations = FULL ? 300 : 10;
        int violations = 0;
        StringBuilder why = new StringBuilder();
        for (int i = 0; i < iterations; i++) {
            String quick = newId("quick-init");
            tasks.create(tasks.createRequest(quick, bundle(quick, OciBundle.of("true"))).build());
            tasks.start(quick);
            assertEquals(0, tasks.await(quick, "").getExitStatus());
            initExit(quick);
            violations += violations(quick, eventsOf(quick), why);
            tasks.delete(quick, "");

            String host = newId("quick-exec");
            tasks.create(tasks.createRequest(host, bundle(host, OciBundle.of("sleep", "1000"))).build());
            tasks.start(host);
            tasks.exec(host, "t", "true");
            tasks.start(host, "t");
            assertEquals(0, tasks.await(host, "t").getExitStatus());
            tasks.kill(host, "", 9, false);
            initExit(host);
            violations += violations(host, eventsOf(host), why);
            tasks.delete(host, "");
        }
        System.out.printf("early exits: %d iterations, %d violations%n", iterations, violations);
        assertEquals(0, violations, why.toString());
    }

    private static List<Integer> pidsOf(String id) throws TtrpcException {
        PidsResponse r = shim.call("Pids", PidsRequest.newBuilder().setId(id).build(), PidsResponse.parser());
        return r.getProcessesList().stream().map(ProcessInfo::getPid).toList();
    }


    @Test
    void withTheHostPidNamespaceNothingOutlivesTheInit() throws Exception {
        int rounds = FULL ? 100 : 3;
        for (int i = 0; i < rounds; i++) {
            hostPidRound();
        }
        System.out.printf("host pid namespace: %d rounds, nothing outlived the init%n", rounds);
    }

    private void hostPidRound() throws Exception {
        String id = newId("hostpid");
        Path b = bundle(id, OciBundle.of("sh", "-c", "sleep 1000 & sleep 1000 & sleep 1000").hostPid());
        tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        try {
            tasks.exec(id, "e", "sleep", "1000");
            tasks.start(id, "e");
            // sh, its two background sleeps, the last sleep (sh execs it) and the exec
            List<Integer> pids = waitForPids(id, 4);
            tasks.kill(id, "", 9, false);
            initExit(id);
            for (int pid : pids) {
                assertFalse(ShimDaemon.alive(pid), "pid " + pid + " outlived the init's TaskExit");
            }
            StringBuilder why = new StringBuilder();
            assertEquals(0, violations(id, eventsOf(id), why), why.toString());
        } finally {
            tasks.forceRemove(id);
        }
    }

    @Test
    void inASharedPidNamespaceNothingOutlivesTheInit() throws Exception {
        int rounds = FULL ? 100 : 3;
        for (int i = 0; i < rounds; i++) {
            sharedPidRound();
        }
        System.out.printf("shared pid namespace: %d rounds, nothing outlived the init%n", rounds);
    }

    private void sharedPidRound() throws Exception {
        String owner = newId("pidns-owner");
        int ownerPid = tasks.create(tasks.createRequest(owner, bundle(owner, OciBundle.of("sleep", "1000"))).build());
        tasks.start(owner);
        try {
            String id = newId("pidns-joiner");
            Path b = bundle(id, OciBundle.of("sh", "-c", "sleep 1000 & sleep 1000 & sleep 1000")
                    .joinPid("/proc/" + ownerPid + "/ns/pid"));
            tasks.create(tasks.createRequest(id, b).build());
            tasks.start(id);
            try {
                List<Integer> pids = waitForPids(id, 3);
                tasks.kill(id, "", 9, false);
                initExit(id);
                for (int pid : pids) {
                    assertFalse(ShimDaemon.alive(pid), "pid " + pid + " outlived the init's TaskExit");
                }
            } finally {
                tasks.forceRemove(id);
            }
        } finally {
            tasks.forceRemove(owner);
        }
    }

    private static List<Integer> waitForPids(String id, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<Integer> pids = pidsOf(id);
        while (pids.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(20);
            pids = pidsOf(id);
        }
        assertEquals(n, pids.size(), "processes in the container: " + pids);
        return pids;
    }

    @Test
    void stateAndPidsAnswerWhileASlowKillIsInFlight() throws Exception {
        // A runc that takes 3 s over kill and delete, as a loaded node's runc may.
        Path slowRunc = dir.resolve("slow-runc");
        Files.writeString(slowRunc, """
                #!/bin/sh
                for a in "$@"; do
                  case "$a" in kill|delete) sleep 3; break;; create|start|exec|ps|state) break;; esac
                done
                exec runc "$@"
                """);
        Files.setPosixFilePermissions(slowRunc, PosixFilePermissions.fromString("rwxr-xr-x"));
        String id = newId("slow");
        Path b = bundle(id, OciBundle.of("sleep", "1000"));
        var options = io.jshim.proto.wkt.Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                .setValue(io.jshim.proto.runc.Options.newBuilder().setRoot(shim.dir().resolve("runc").toString())
                        .setBinaryName(slowRunc.toString()).build().toByteString()).build();
        tasks.create(tasks.createRequest(id, b).setOptions(options).build());
        tasks.start(id);
        String other = newId("other");
        tasks.create(tasks.createRequest(other, bundle(other, OciBundle.of("sleep", "1000"))).build());
        tasks.start(other);
        try {
            CompletableFuture<Void> slowKill = CompletableFuture.runAsync(() -> {
                try {
                    tasks.kill(id, "", 9, true); // all: through runc (a single process's kill uses its pidfd)
                } catch (TtrpcException e) {
                    throw new RuntimeException(e);
                }
            });
            Thread.sleep(300); // let the Kill reach runc
            assertFalse(slowKill.isDone());
            shim.call("State", StateRequest.newBuilder().setId(id).build(), io.jshim.proto.task.StateResponse.parser());
            assertEquals(1, pidsOf(id).size());
            // another container's lifecycle is not held up either
            tasks.exec(other, "e", "true");
            tasks.start(other, "e");
            assertEquals(0, tasks.await(other, "e").getExitStatus());
            assertFalse(slowKill.isDone(), "State, Pids and the other container answered while Kill was in runc");
            slowKill.get(30, TimeUnit.SECONDS);
            assertEquals(137, tasks.await(id, "").getExitStatus());
        } finally {
            tasks.forceRemove(other);
            tasks.forceRemove(id);
        }
    }
}
