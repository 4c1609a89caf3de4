package io.jshim.reaper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** pidfds name a process, not a number; the reaper's delivery barrier tells when a pid's exit has been seen. */
class PidfdTest {
    private final Reaper reaper = Reaper.get();

    @Test
    void signalsGoToTheProcessAndSayWhenItIsGone() throws Exception {
        Child child = reaper.spawn(SpawnSpec.of("sleep", "1000"));
        Pidfd fd = Pidfd.open(child.pid());
        assertNotNull(fd, "this kernel has pidfds (Linux >= 5.3)");
        try {
            assertTrue(fd.signal(0), "alive");
            assertTrue(fd.signal(Posix.SIGKILL));
            Exit exit = child.onExit().get(60, TimeUnit.SECONDS);
            assertEquals(137, exit.status());
            assertFalse(fd.signal(Posix.SIGKILL), "reaped: the pidfd must say gone, whoever has the pid now");
        } finally {
            fd.close();
        }
        assertFalse(fd.signal(0), "closed");
        fd.close(); // idempotent
    }

    @Test
    void awaitDeliveredReturnsOnlyOnceTheListenerHasTheExitsReapedBefore() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch inListener = new CountDownLatch(1);
        try (Subscription slow = reaper.subscribe("slow", e -> {
            inListener.countDown();
            try {
                release.await();
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
        })) {
            Child child = reaper.spawn(SpawnSpec.of("true"));
            child.onExit().get(60, TimeUnit.SECONDS); // reaped, so offered to the slow subscriber
            assertTrue(inListener.await(60, TimeUnit.SECONDS));
            assertFalse(slow.awaitDelivered(Duration.ofMillis(200)), "the listener has not returned");
            release.countDown();
            assertTrue(slow.awaitDelivered(Duration.ofSeconds(60)));
        }
    }
}
