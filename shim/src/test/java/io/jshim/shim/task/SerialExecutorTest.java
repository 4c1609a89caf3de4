package io.jshim.shim.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** An exit lane goes on after anything a task throws; an OutOfMemoryError halts the daemon. */
class SerialExecutorTest {

    @Test
    void aLaneGoesOnAfterAnExceptionAnErrorAndAnOutOfMemoryError() throws Exception {
        List<String> ran = new CopyOnWriteArrayList<>();
        List<OutOfMemoryError> ooms = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            SerialExecutor lane = new SerialExecutor(pool, ooms::add);
            lane.execute(() -> ran.add("1"));
            lane.execute(() -> {
                throw new IllegalStateException("a bug");
            });
            lane.execute(() -> ran.add("2"));
            lane.execute(() -> {
                throw new AssertionError("an Error");
            });
            lane.execute(() -> ran.add("3"));
            lane.execute(() -> {
                throw new OutOfMemoryError("Java heap space");
            });
            lane.execute(() -> ran.add("4"));
            lane.execute(done::countDown);
            assertTrue(done.await(30, TimeUnit.SECONDS), "the lane stopped: " + ran);
            // and after going idle, it takes work again
            CountDownLatch again = new CountDownLatch(1);
            lane.execute(again::countDown);
            assertTrue(again.await(30, TimeUnit.SECONDS), "the lane did not restart");
        }
        assertEquals(List.of("1", "2", "3", "4"), ran);
        assertEquals(1, ooms.size(), "the OutOfMemoryError reaches the policy");
    }

    @Test
    void theDaemonPolicyHaltsTheJvmWithItsStatus() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of(java, "-cp", System.getProperty("java.class.path"),
                OomLane.class.getName()), new byte[0], Duration.ofSeconds(120));
        assertEquals(OutOfMemory.STATUS, r.status(), "status of a JVM whose lane ran out of memory: " + r);
    }

    /** A JVM whose only exit lane runs out of memory; without the halt it would print "survived" and exit 0. */
    public static final class OomLane {
        public static void main(String[] args) throws Exception {
            CountDownLatch never = new CountDownLatch(1);
            try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
                new SerialExecutor(pool).execute(() -> {
                    throw new OutOfMemoryError("simulated: Java heap space");
                });
                never.await(20, TimeUnit.SECONDS);
            }
            System.out.println("survived");
        }
    }
}
