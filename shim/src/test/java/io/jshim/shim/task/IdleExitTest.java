package io.jshim.shim.task;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The idle-exit timer's edge cases; the daemon that exits by it is proven end to end in IdleDaemonExitTest. */
class IdleExitTest {
    static final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterAll
    static void tearDown() {
        scheduler.shutdownNow();
    }

    @Test
    void readsTheGracePeriodFromTheEnvironmentValue() {
        assertEquals(Optional.of(Duration.ofSeconds(30)), IdleExit.parse(null));
        assertEquals(Optional.of(Duration.ofSeconds(30)), IdleExit.parse(" "));
        assertEquals(Optional.of(Duration.ofSeconds(45)), IdleExit.parse("45"));
        assertEquals(Optional.of(Duration.ofSeconds(2)), IdleExit.parse("2s"));
        assertEquals(Optional.of(Duration.ofMillis(1500)), IdleExit.parse("1500ms"));
        assertEquals(Optional.of(Duration.ofMinutes(5)), IdleExit.parse("5m"));
        assertEquals(Optional.empty(), IdleExit.parse("0"));
        assertEquals(Optional.empty(), IdleExit.parse("off"));
        assertEquals(Optional.of(Duration.ofSeconds(30)), IdleExit.parse(" 30S "));
        assertEquals(Optional.of(Duration.ofSeconds(5)), IdleExit.parse("05"));
        assertEquals(Optional.of(Duration.ofSeconds(999_999_999)), IdleExit.parse("999999999"));
        assertEquals(Optional.empty(), IdleExit.parse("0ms"));
        assertEquals(Optional.empty(), IdleExit.parse("NEVER"));
        for (String bad : new String[] {"-1", "1h", "ten", "1.5s", "99999999999", "1234567890", "ms", "s", "5 s",
                "+5", "5mss", "\u0663", "5sm"}) {
            assertThrows(IllegalArgumentException.class, () -> IdleExit.parse(bad), bad);
        }
        // a value it cannot read falls back to the default rather than keeping daemons for good
        assertEquals(Duration.ofSeconds(30), IdleExit.fromEnvironment("soon", scheduler).orElseThrow().grace());
        assertTrue(IdleExit.fromEnvironment("off", scheduler).isEmpty());
    }

    @Test
    void anArmedTimerExpiresWithACurrentTicket() throws Exception {
        IdleExit idle = new IdleExit(Duration.ofMillis(50), scheduler);
        CompletableFuture<IdleExit.Ticket> expired = new CompletableFuture<>();
        idle.arm(expired::complete);
        assertTrue(idle.counting());
        IdleExit.Ticket t = expired.get(10, TimeUnit.SECONDS);
        assertTrue(t.current(), "nothing came between the arm and the expiry");
    }

    @Test
    void aDisarmedTimerNeverExpiresAndItsTicketIsStale() throws Exception {
        IdleExit idle = new IdleExit(Duration.ofMillis(200), scheduler);
        CompletableFuture<IdleExit.Ticket> first = new CompletableFuture<>();
        idle.arm(first::complete);
        idle.disarm(); // a Create arrived
        assertFalse(idle.counting());
        // the second countdown's expiry also says the first is over: one timer at a time, the newest wins
        CompletableFuture<IdleExit.Ticket> second = new CompletableFuture<>();
        idle.arm(second::complete);
        IdleExit.Ticket t = second.get(10, TimeUnit.SECONDS);
        assertTrue(t.current());
        assertFalse(first.isDone(), "a disarmed countdown never fires");
        assertFalse(new IdleExit.Ticket(idle, t.generation() - 1).current(), "an older countdown is stale");
    }

    @Test
    void armingTwiceKeepsTheFirstCountdown() throws Exception {
        IdleExit idle = new IdleExit(Duration.ofMillis(100), scheduler);
        CompletableFuture<IdleExit.Ticket> first = new CompletableFuture<>();
        CompletableFuture<IdleExit.Ticket> second = new CompletableFuture<>();
        idle.arm(first::complete);
        idle.arm(second::complete);
        assertTrue(first.get(10, TimeUnit.SECONDS).current());
        assertFalse(second.isDone());
    }

    @Test
    void aTicketTakenBeforeADisarmIsStaleEvenIfItsExpiryAlreadyRan() {
        IdleExit idle = new IdleExit(Duration.ofHours(1), scheduler);
        CompletableFuture<IdleExit.Ticket> never = new CompletableFuture<>();
        idle.arm(never::complete);
        IdleExit.Ticket t = new IdleExit.Ticket(idle, 1);
        assertTrue(t.current());
        idle.disarm();
        assertFalse(t.current(), "an expiry racing a Create must not shut the shim down");
        idle.arm(never::complete);
        assertFalse(t.current(), "nor one racing a Create that failed and re-armed");
    }
}
