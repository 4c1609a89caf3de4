package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/**
 * Figures, printed (no timing assertions): spawn+reap throughput, and the latency from kill(2)
 * to a subscriber's listener. Output goes to target/surefire-reports/*-output.txt.
 */
class ReaperMeasurementTest {
    private final Reaper reaper = Reaper.get();

    @Test
    void spawnAndReapThroughput() throws Exception {
        int total = Procs.scaled(400, 2000);
        int threads = 8;
        // warm-up: FFM downcall stubs, JIT
        for (int i = 0; i < 20; i++) {
            reaper.spawn(SpawnSpec.of("true")).onExit().get(10, TimeUnit.SECONDS);
        }
        CountDownLatch start = new CountDownLatch(1);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    start.await();
                    List<Child> mine = new ArrayList<>();
                    for (int i = 0; i < total / threads; i++) {
                        mine.add(reaper.spawn(SpawnSpec.of("/bin/true")));
                    }
                    for (Child c : mine) {
                        assertEquals(0, c.onExit().get(30, TimeUnit.SECONDS).status());
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            }));
        }
        long t0 = System.nanoTime();
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        int done = total / threads * threads;
        System.out.printf("MEASURE spawn+reap: %d children of /bin/true from %d threads in %.2f s = %.0f exits/s%n",
                done, threads, seconds, done / seconds);
    }

    @Test
    void latencyFromKillToSubscriber() throws Exception {
        int kills = Procs.scaled(200, 500);
        Map<Integer, Long> deliveredAt = new ConcurrentHashMap<>();
        SynchronousQueue<Integer> handoff = new SynchronousQueue<>();
        List<Child> sleepers = new ArrayList<>();
        for (int i = 0; i < kills; i++) {
            sleepers.add(reaper.spawn(SpawnSpec.of("sleep", "60")));
        }
        long[] latencies = new long[kills];
        try (Subscription sub = reaper.subscribe("latency", e -> {
            deliveredAt.put(e.pid(), System.nanoTime());
            try {
                handoff.put(e.pid());
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        })) {
            for (int i = 0; i < kills; i++) {
                Child c = sleepers.get(i);
                long t0 = System.nanoTime();
                Posix.kill(c.pid(), Posix.SIGKILL);
                Integer pid;
                do {
                    pid = handoff.poll(10, TimeUnit.SECONDS);
                    assertNotNull(pid, "exit delivered");
                } while (pid != c.pid());
                latencies[i] = deliveredAt.get(c.pid()) - t0;
                assertEquals(137, c.onExit().get(10, TimeUnit.SECONDS).status());
            }
        } finally {
            for (Child c : sleepers) {
                c.kill(Posix.SIGKILL);
            }
        }
        Arrays.sort(latencies);
        System.out.printf("MEASURE kill->subscriber latency over %d kills: median %.0f us, p99 %.0f us, max %.0f us%n",
                kills, latencies[kills / 2] / 1e3, latencies[(int) Math.ceil(kills * 0.99) - 1] / 1e3,
                latencies[kills - 1] / 1e3);
    }
}
