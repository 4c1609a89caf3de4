package io.jshim.cgroups;

import static io.jshim.cgroups.CgroupV1StatsTest.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.jshim.reaper.Child;
import io.jshim.reaper.Exit;

/** OOM kills in real cgroup v1 memory cgroups, seen through the eventfd watcher. */
class OomWatcherV1Test {

    private static final long MIB = 1024 * 1024;
    /** The watcher re-reads oom_kill for ~1.3 s after a notification; wait past that for extras. */
    private static final Duration SETTLE = Duration.ofMillis(1600);

    private static OomWatcher watcher;

    @BeforeAll
    static void start() {
        assumeTrue(ScratchCgroups.v1Available(), "needs cgroup v1 memory hierarchy");
        watcher = new OomWatcher();
    }

    @AfterAll
    static void stop() {
        if (watcher != null) {
            watcher.close();
        }
    }

    /** The scratch memory cgroup, limited to 8 MiB. */
    private static CgroupV1 limitedTo8MiB(ScratchCgroups cg) throws IOException {
        cg.write("memory", "memory.limit_in_bytes", Long.toString(8 * MIB));
        return new CgroupV1(Map.of("memory", cg.dir("memory")));
    }

    /** A process that allocates 64 MiB in a cgroup limited to 8 MiB. */
    private static Child allocate64MiB(ScratchCgroups cg) throws IOException {
        return cg.spawnShell(cg.enterAll() + "exec dd if=/dev/zero of=/dev/null bs=64M count=1");
    }

    @Test
    void oneOomKillCallsOnOomExactlyOnce() throws Exception {
        try (ScratchCgroups cg = new ScratchCgroups("memory")) {
            CgroupV1 cgroup = limitedTo8MiB(cg);
            AtomicInteger ooms = new AtomicInteger();
            AtomicReference<String> thread = new AtomicReference<>();
            long fdsBefore = Fds.watcherKind();
            OomWatcher.Handle handle = watcher.watch(cgroup, () -> {
                thread.set(Thread.currentThread().getName());
                ooms.incrementAndGet();
            });
            assertEquals(fdsBefore + 1, Fds.watcherKind(), "one eventfd per v1 watch");

            Exit exit = allocate64MiB(cg).onExit().get(30, TimeUnit.SECONDS);
            assertEquals(137, exit.status(), "killed by SIGKILL");
            waitFor(() -> ooms.get() >= 1, Duration.ofSeconds(10));
            Thread.sleep(SETTLE.toMillis());
            assertEquals(1, ooms.get());
            assertEquals("jshim-oom", thread.get());
            assertEquals(1, cgroup.metrics().getMemoryOomControl().getOomKill());

            handle.close();
            assertEquals(fdsBefore, Fds.watcherKind(), "close() frees the eventfd");
            handle.close(); // idempotent
        }
    }

    /**
     * What the exit path relies on: once the killed process is reaped, sync() returns only after its kill has been
     * reported, whether the watcher thread had seen the notification yet or not (sync answers from the counter when
     * nothing is new, and asks the watcher thread otherwise).
     */
    @Test
    void syncReportsACountedKillBeforeItReturns() throws Exception {
        int rounds = Scale.of(3, 20);
        try (ScratchCgroups cg = new ScratchCgroups("memory")) {
            CgroupV1 cgroup = limitedTo8MiB(cg);
            AtomicInteger ooms = new AtomicInteger();
            try (OomWatcher.Handle handle = watcher.watch(cgroup, ooms::incrementAndGet)) {
                handle.sync(Duration.ofSeconds(5));
                assertEquals(0, ooms.get(), "nothing counted, nothing reported");
                for (int i = 1; i <= rounds; i++) {
                    assertEquals(137, allocate64MiB(cg).onExit().get(30, TimeUnit.SECONDS).status());
                    handle.sync(Duration.ofSeconds(5));
                    assertEquals(i, ooms.get(), "the kill of round " + i + " reported when sync returned");
                    handle.sync(Duration.ofSeconds(5));
                    assertEquals(i, ooms.get(), "a second sync reports nothing twice");
                }
            }
        }
    }

    /**
     * A kill the kernel has counted and the watcher has not reported yet (here: the watcher thread is held up in
     * another cgroup's callback) makes sync() wait for that report instead of answering from the counter.
     */
    @Test
    void syncWaitsForTheReportOfACountedKill() throws Exception {
        try (ScratchCgroups busy = new ScratchCgroups("memory"); ScratchCgroups cg = new ScratchCgroups("memory")) {
            java.util.concurrent.CountDownLatch inCallback = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            AtomicInteger ooms = new AtomicInteger();
            try (OomWatcher.Handle held = watcher.watch(limitedTo8MiB(busy), () -> {
                        inCallback.countDown();
                        awaitQuietly(release);
                    });
                    OomWatcher.Handle handle = watcher.watch(limitedTo8MiB(cg), ooms::incrementAndGet)) {
                assertEquals(137, allocate64MiB(busy).onExit().get(30, TimeUnit.SECONDS).status());
                assertTrue(inCallback.await(10, TimeUnit.SECONDS), "the watcher thread is held in a callback");
                assertEquals(137, allocate64MiB(cg).onExit().get(30, TimeUnit.SECONDS).status());
                var sync = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    handle.sync(Duration.ofSeconds(20));
                    return ooms.get();
                });
                // held by the watcher: sync cannot return before the release, however long one waits
                assertThrows(java.util.concurrent.TimeoutException.class, () -> sync.get(300, TimeUnit.MILLISECONDS),
                        "sync returned while the counted kill was unreported");
                release.countDown();
                assertEquals(1, sync.get(20, TimeUnit.SECONDS), "the kill reported by the time sync returned");
            } finally {
                release.countDown();
            }
        }
    }

    private static void awaitQuietly(java.util.concurrent.CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void everyKillIsCountedOnce() throws Exception {
        int kills = Scale.of(3, 10);
        try (ScratchCgroups cg = new ScratchCgroups("memory")) {
            CgroupV1 cgroup = limitedTo8MiB(cg);
            AtomicInteger ooms = new AtomicInteger();
            try (OomWatcher.Handle handle = watcher.watch(cgroup, ooms::incrementAndGet)) {
                for (int i = 1; i <= kills; i++) {
                    assertEquals(137, allocate64MiB(cg).onExit().get(30, TimeUnit.SECONDS).status());
                    int expected = i;
                    waitFor(() -> ooms.get() >= expected, Duration.ofSeconds(10));
                }
                Thread.sleep(SETTLE.toMillis());
                assertEquals(kills, ooms.get());
                assertEquals(kills, cgroup.metrics().getMemoryOomControl().getOomKill());
            }
        }
    }

    /** The kernel also signals the eventfd when the cgroup is removed: that is no OOM. */
    @Test
    void removingTheCgroupIsNotAnOomAndEndsTheWatch() throws Exception {
        long fdsBefore = Fds.watcherKind();
        AtomicInteger ooms = new AtomicInteger();
        OomWatcher.Handle handle;
        int watchesBefore;
        try (ScratchCgroups cg = new ScratchCgroups("memory")) {
            CgroupV1 cgroup = new CgroupV1(Map.of("memory", cg.dir("memory")));
            watchesBefore = watcher.size();
            handle = watcher.watch(cgroup, ooms::incrementAndGet);
            assertEquals(watchesBefore + 1, watcher.size());
        }
        waitFor(() -> watcher.size() == watchesBefore, Duration.ofSeconds(10));
        assertEquals(fdsBefore, Fds.watcherKind(), "the watcher closed the eventfd itself");
        Thread.sleep(SETTLE.toMillis());
        assertEquals(0, ooms.get());
        handle.close(); // harmless after the watcher dropped it
    }

    @Test
    void watchingWithoutAMemoryControllerFails() {
        CgroupV1 noMemory = new CgroupV1(Map.of("pids", ScratchCgroups.ROOT.resolve("pids")));
        assertThrows(IOException.class, () -> watcher.watch(noMemory, () -> { }));
    }

    @Test
    void manyWatchesOpenAndCloseLeakNothing() throws Exception {
        int rounds = Scale.of(50, 500);
        try (ScratchCgroups cg = new ScratchCgroups("memory")) {
            CgroupV1 cgroup = new CgroupV1(Map.of("memory", cg.dir("memory")));
            long before = Fds.watcherKind();
            for (int i = 0; i < rounds; i++) {
                watcher.watch(cgroup, () -> { }).close();
            }
            assertEquals(before, Fds.watcherKind());
        }
    }

    @Test
    void simultaneousKillsInSeveralCgroupsAreEachReportedOnce() throws Exception {
        int groups = Scale.of(3, 8);
        List<ScratchCgroups> scratch = new ArrayList<>();
        List<AtomicInteger> counts = new ArrayList<>();
        List<OomWatcher.Handle> handles = new ArrayList<>();
        try {
            for (int i = 0; i < groups; i++) {
                ScratchCgroups cg = new ScratchCgroups("memory");
                scratch.add(cg);
                AtomicInteger count = new AtomicInteger();
                counts.add(count);
                handles.add(watcher.watch(limitedTo8MiB(cg), count::incrementAndGet));
            }
            List<Child> children = new ArrayList<>();
            for (ScratchCgroups cg : scratch) {
                children.add(allocate64MiB(cg));
            }
            for (Child c : children) {
                assertEquals(137, c.onExit().get(30, TimeUnit.SECONDS).status());
            }
            waitFor(() -> counts.stream().allMatch(c -> c.get() >= 1), Duration.ofSeconds(10));
            Thread.sleep(SETTLE.toMillis());
            for (AtomicInteger c : counts) {
                assertEquals(1, c.get(), counts.toString());
            }
        } finally {
            handles.forEach(OomWatcher.Handle::close);
            for (ScratchCgroups cg : scratch) {
                cg.close();
            }
        }
    }

    @Test
    void watchAndCloseRaceFromManyThreads() throws Exception {
        int perThread = Scale.of(25, 250);
        try (ScratchCgroups cg = new ScratchCgroups("memory")) {
            CgroupV1 cgroup = new CgroupV1(Map.of("memory", cg.dir("memory")));
            long before = Fds.watcherKind();
            int watchesBefore = watcher.size();
            try (var pool = Executors.newFixedThreadPool(4)) {
                List<Future<?>> jobs = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    jobs.add(pool.submit(() -> {
                        for (int i = 0; i < perThread; i++) {
                            watcher.watch(cgroup, () -> { }).close();
                        }
                        return null;
                    }));
                }
                for (Future<?> f : jobs) {
                    f.get(60, TimeUnit.SECONDS);
                }
            }
            assertEquals(watchesBefore, watcher.size());
            assertEquals(before, Fds.watcherKind());
        }
    }

    @Test
    void closingTheWatcherFreesEverything() throws Exception {
        long before = Fds.watcherKind();
        try (ScratchCgroups cg = new ScratchCgroups("memory")) {
            CgroupV1 cgroup = new CgroupV1(Map.of("memory", cg.dir("memory")));
            OomWatcher own = new OomWatcher();
            OomWatcher.Handle first = own.watch(cgroup, () -> { });
            own.watch(cgroup, () -> { });
            assertEquals(before + 2 + 2, Fds.watcherKind(), "epoll + control eventfd + 2 watch eventfds");
            own.close();
            assertEquals(before, Fds.watcherKind());
            first.close(); // after the watcher: returns at once, nothing left to free
            assertEquals(0, own.size());
            assertThrows(IOException.class, () -> own.watch(cgroup, () -> { }));
        }
    }
}
