package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

class ReaperTest {
    private final Reaper reaper = Reaper.get();

    /** The status sh reports for child number i: mixes exit codes, SIGKILL and SIGTERM. */
    private static String[] command(int i) {
        return switch (i % 7) {
            case 0 -> new String[] {"sh", "-c", "kill -9 $$"};
            case 1 -> new String[] {"sh", "-c", "kill -TERM $$"};
            default -> new String[] {"sh", "-c", "exit " + (i % 256)};
        };
    }

    private static int expectedStatus(int i) {
        return switch (i % 7) {
            case 0 -> 137;
            case 1 -> 143;
            default -> i % 256;
        };
    }

    @Test
    void manyChildrenFromManyThreadsEachGetTheirExactStatus() throws Exception {
        int total = Procs.scaled(100, 1000);
        int threads = 8;
        Map<Integer, Integer> seenBySubscriber = new ConcurrentHashMap<>();
        List<String> failures = new CopyOnWriteArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        try (Subscription sub = reaper.subscribe("stress", e -> seenBySubscriber.put(e.pid(), e.status()))) {
            List<Map.Entry<Child, Integer>> spawned = new CopyOnWriteArrayList<>();
            for (int t = 0; t < threads; t++) {
                int first = t;
                workers.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        List<Map.Entry<Child, Integer>> mine = new ArrayList<>();
                        for (int i = first; i < total; i += threads) {
                            mine.add(Map.entry(reaper.spawn(SpawnSpec.of(command(i))), i));
                        }
                        for (var e : mine) {
                            int status = e.getKey().onExit().get(30, TimeUnit.SECONDS).status();
                            if (status != expectedStatus(e.getValue())) {
                                failures.add("child " + e.getValue() + " pid " + e.getKey().pid()
                                        + ": status " + status + ", expected " + expectedStatus(e.getValue()));
                            }
                        }
                        spawned.addAll(mine);
                    } catch (Exception e) {
                        failures.add(e.toString());
                    }
                }));
            }
            start.countDown();
            for (Thread w : workers) {
                w.join();
            }
            assertEquals(List.of(), failures);
            assertEquals(total, spawned.size());
            // Every exit also reached the subscriber, with the same status.
            for (var e : spawned) {
                int pid = e.getKey().pid();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!seenBySubscriber.containsKey(pid) && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertEquals(expectedStatus(e.getValue()), seenBySubscriber.get(pid), "subscriber, pid " + pid);
            }
        }
        assertEquals(List.of(), Procs.lingeringZombies(2000), "zombie children of the JVM");
    }

    @Test
    void childThatExitsBeforeSpawnReturnsIsStillReported() throws Exception {
        int rounds = Procs.scaled(200, 1000);
        for (int i = 0; i < rounds; i++) {
            Child child = reaper.spawn(SpawnSpec.of(i % 2 == 0 ? "true" : "false"));
            Exit exit = child.onExit().get(10, TimeUnit.SECONDS);
            assertEquals(child.pid(), exit.pid());
            assertEquals(i % 2 == 0 ? 0 : 1, exit.status());
        }
    }

    @Test
    void orphanedGrandchildIsReapedAndReachesSubscribers() throws Exception {
        BlockingQueue<Exit> exits = new LinkedBlockingQueue<>();
        try (Subscription sub = reaper.subscribe("orphans", exits::add)) {
            CommandResult r = new Monitor(reaper).run(
                    SpawnSpec.of("sh", "-c", "sleep 0.5 >/dev/null 2>&1 & echo $!; exit 0"), null, Duration.ofSeconds(10));
            assertEquals(0, r.status());
            int grandchild = Integer.parseInt(r.stdoutText().trim());
            // sh has exited and been reaped; its child now belongs to us, the subreaper.
            Procs.stat(grandchild).ifPresent(f -> assertEquals(String.valueOf(Posix.getpid()), f[1],
                    "parent of the orphan"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            Exit found = null;
            while (found == null && System.nanoTime() < deadline) {
                Exit e = exits.poll(100, TimeUnit.MILLISECONDS);
                if (e != null && e.pid() == grandchild) {
                    found = e;
                }
            }
            assertTrue(found != null, "exit of orphan " + grandchild + " delivered");
            assertEquals(0, found.status());
        }
    }

    @Test
    void slowSubscriberDelaysNeitherOtherSubscribersNorReaping() throws Exception {
        int n = 5;
        AtomicInteger slowCalls = new AtomicInteger();
        List<Integer> fastSeen = new CopyOnWriteArrayList<>();
        List<Child> children = new ArrayList<>();
        List<Integer> pids = new CopyOnWriteArrayList<>();
        try (Subscription slow = reaper.subscribe("slow", e -> {
                 slowCalls.incrementAndGet();
                 try {
                     Thread.sleep(1000);
                 } catch (InterruptedException ie) {
                     Thread.currentThread().interrupt();
                 }
             });
             Subscription fast = reaper.subscribe("fast", e -> fastSeen.add(e.pid()))) {
            for (int i = 0; i < n; i++) {
                Child c = reaper.spawn(SpawnSpec.of("sh", "-c", "exit " + i));
                pids.add(c.pid());
                children.add(c);
            }
            for (int i = 0; i < n; i++) {
                assertEquals(i, children.get(i).onExit().get(10, TimeUnit.SECONDS).status());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!fastSeen.containsAll(pids) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(fastSeen.containsAll(pids), "fast subscriber got every exit");
            // The slow one sleeps 1 s per exit: by now it cannot be past its second exit.
            assertTrue(slowCalls.get() <= 2, "slow subscriber calls so far: " + slowCalls.get());
        }
    }

    @Test
    void exitsReachSubscribersInReapingOrder() throws Exception {
        List<Exit> a = new CopyOnWriteArrayList<>();
        List<Exit> b = new CopyOnWriteArrayList<>();
        int n = 50;
        List<Child> children = new ArrayList<>();
        try (Subscription sa = reaper.subscribe("order-a", a::add); Subscription sb = reaper.subscribe("order-b", b::add)) {
            for (int i = 0; i < n; i++) {
                children.add(reaper.spawn(SpawnSpec.of("true")));
            }
            for (Child c : children) {
                c.onExit().get(10, TimeUnit.SECONDS);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while ((a.size() < n || b.size() < n) && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
        }
        assertTrue(a.size() >= n);
        List<Exit> common = new ArrayList<>(a.subList(0, Math.min(a.size(), b.size())));
        assertEquals(common, b.subList(0, common.size()));
        for (int i = 1; i < a.size(); i++) {
            assertFalse(a.get(i).at().isBefore(a.get(i - 1).at()), "reaping order");
        }
    }

    @Test
    void closedSubscriptionGetsNothingMore() throws Exception {
        List<Exit> got = new CopyOnWriteArrayList<>();
        Subscription sub = reaper.subscribe("closed", got::add);
        sub.close();
        sub.close();
        Child c = reaper.spawn(SpawnSpec.of("true"));
        c.onExit().get(10, TimeUnit.SECONDS);
        try (Subscription marker = reaper.subscribe("marker", e -> { })) {
            Child d = reaper.spawn(SpawnSpec.of("true"));
            d.onExit().get(10, TimeUnit.SECONDS);
        }
        assertTrue(got.stream().noneMatch(e -> e.pid() == c.pid()));
    }

    @Test
    void missingProgramFailsWithEnoent() {
        PosixException e = assertThrows(PosixException.class,
                () -> reaper.spawn(SpawnSpec.of("no-such-program-jshim")));
        assertEquals("ENOENT", e.errnoName());
        assertTrue(e.getMessage().contains("no-such-program-jshim"), e.getMessage());
        assertTrue(e.getMessage().contains("No such file or directory"), e.getMessage());
        PosixException e2 = assertThrows(PosixException.class,
                () -> reaper.spawn(SpawnSpec.of("/nonexistent/prog")));
        assertEquals("ENOENT", e2.errnoName());
        PosixException e3 = assertThrows(PosixException.class,
                () -> reaper.spawn(SpawnSpec.of("no-such-program-jshim").withKillOnParentDeath()));
        assertEquals("ENOENT", e3.errnoName());
    }

    @Test
    void killSignalsALiveChildAndRefusesAReapedOne() throws Exception {
        Child c = reaper.spawn(SpawnSpec.of("sleep", "30"));
        assertTrue(c.kill(Posix.SIGTERM));
        assertEquals(143, c.onExit().get(10, TimeUnit.SECONDS).status());
        assertFalse(c.kill(Posix.SIGKILL), "already reaped");
        assertThrows(NoSuchProcessException.class, () -> Posix.kill(c.pid(), 0));
    }

    @Test
    void childStartsWithNoBlockedOrIgnoredSignals() throws Exception {
        SignalsForTest sig = SignalsForTest.LIB;
        long previous = sig.signal(SignalsForTest.SIGTTIN, SignalsForTest.SIG_IGN);
        try {
            CommandResult[] result = new CommandResult[1];
            Exception[] failure = new Exception[1];
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    sig.blockInThisThread(Posix.SIGUSR1);
                    result[0] = new Monitor(reaper).run(SpawnSpec.of("cat", "/proc/self/status"), null, Duration.ofSeconds(10));
                } catch (Exception e) {
                    failure[0] = e;
                }
            });
            t.join();
            if (failure[0] != null) {
                throw failure[0];
            }
            String status = result[0].stdoutText();
            assertTrue(status.contains("SigBlk:\t0000000000000000"), status);
            assertTrue(status.contains("SigIgn:\t0000000000000000"), status);
        } finally {
            sig.signal(SignalsForTest.SIGTTIN, previous);
        }
    }

    @Test
    void killOnParentDeathChildOutlivesTheThreadThatAskedForIt() throws Exception {
        Child[] child = new Child[1];
        Exception[] failure = new Exception[1];
        int[] ready = Posix.pipe();
        Thread shortLived = Thread.ofPlatform().start(() -> {
            try {
                child[0] = reaper.spawn(SpawnSpec.of("sh", "-c", "echo armed >&3; exec sleep 30")
                        .withFd(3, ready[1]).withKillOnParentDeath());
                Posix.close(ready[1]);
                // setpriv has armed the signal once sh runs: only then may this thread end
                byte[] buf = new byte[6];
                if (Posix.read(ready[0], buf, 0, 6) != 6) {
                    throw new IOException("child did not start");
                }
            } catch (IOException e) {
                failure[0] = e;
            }
        });
        shortLived.join();
        Posix.close(ready[0]);
        if (failure[0] != null) {
            throw failure[0];
        }
        // Had the spawn been made on the short-lived thread, its exit would have SIGKILLed the child.
        assertThrows(TimeoutException.class, () -> child[0].onExit().get(700, TimeUnit.MILLISECONDS));
        String cmdline = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + child[0].pid() + "/cmdline"));
        assertEquals("sleep\u000030\u0000", cmdline);
        assertTrue(child[0].kill(Posix.SIGTERM));
        assertEquals(143, child[0].onExit().get(10, TimeUnit.SECONDS).status());
    }

    @Test
    void killOnParentDeathArmsTheSignalInTheChild() throws Exception {
        // The child reads its own parent-death signal back: prctl(PR_GET_PDEATHSIG = 2, &sig), syscall 157 on x86-64.
        String script = "my $s = pack('i', 0); syscall(157, 2, $s) == 0 or die $!; print unpack('i', $s)";
        SpawnSpec spec = SpawnSpec.of("perl", "-e", script);
        CommandResult plain = new Monitor(reaper).run(spec, null, Duration.ofSeconds(20));
        CommandResult armed = new Monitor(reaper).run(spec.withKillOnParentDeath(), null, Duration.ofSeconds(20));
        assertEquals("0", plain.stdoutText().trim(), plain.stderrText());
        assertEquals("9", armed.stdoutText().trim(), armed.stderrText());
    }

    @Test
    void reaperParksWhenItHasNoChildrenAndWakesOnSpawn() throws Exception {
        Thread reaperThread = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("jshim-reaper")).findFirst().orElseThrow();
        assertTrue(reaperThread.isDaemon());
        // Blocked in waitid it is RUNNABLE (native); parked on ECHILD it is WAITING. Other tests'
        // children may still be running: give them time to end.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (reaperThread.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(Thread.State.WAITING, reaperThread.getState(), "parked without children");
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpuBefore = threads.getThreadCpuTime(reaperThread.threadId());
        Thread.sleep(300);
        long cpuSpent = threads.getThreadCpuTime(reaperThread.threadId()) - cpuBefore;
        assertTrue(cpuSpent < 20_000_000L, "no busy loop while parked: " + cpuSpent / 1000 + " us of CPU in 300 ms");
        Child c = reaper.spawn(SpawnSpec.of("sh", "-c", "exit 7"));
        assertEquals(7, c.onExit().get(10, TimeUnit.SECONDS).status());
    }
}
