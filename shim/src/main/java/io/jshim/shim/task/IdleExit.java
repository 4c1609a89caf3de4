package io.jshim.shim.task;

import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The timer that ends a daemon holding no container: after a grace period with no container and no Create, the
 * daemon shuts down as if containerd had sent Shutdown, so containerd's clean-up of a dead shim (it runs the
 * shim's {@code delete} and publishes the recorded exit of a task it still lists) removes what an interrupted
 * {@code ctr task delete} left (containerd#11392), and a daemon containerd gave up on after {@code start} does not
 * live on.
 *
 * <p>The timer runs only while the task service holds no container and has no Create in flight: it is armed when
 * the daemon starts serving and when its last container goes (Delete, a failed Create), and any Create disarms
 * it. A CRI pod always holds its sandbox container, so its daemon never counts down while the pod lives; a
 * {@code JSHIM_GROUP} daemon between containers has {@link #grace} to get its next Create, and a Create that comes
 * after the expiry is refused as after a Shutdown (FailedPrecondition).
 *
 * <p>Locks: this object's monitor guards {@link #pending} and {@link #generation} and is never held across
 * anything but the scheduler's enqueue. {@link ContainerTable} arms and disarms under its admission lock and checks a
 * {@link Ticket} under it too, so the lock order is always admission, then this.
 */
public final class IdleExit {
    private static final Logger log = LoggerFactory.getLogger(IdleExit.class);
    /** The daemon's grace period: seconds, or a number with ms, s or m; 0 or "off" for never. */
    public static final String ENV = "JSHIM_IDLE_EXIT";
    public static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);

    private final Duration grace;
    private final ScheduledExecutorService scheduler;
    /** The expiry counting down, or null while a container is held. Guarded by this. */
    private ScheduledFuture<?> pending;
    /** Bumped by every arm and disarm: an expiry that lost a race with either is stale. Guarded by this. */
    private long generation;

    public IdleExit(Duration grace, ScheduledExecutorService scheduler) {
        if (grace.isZero() || grace.isNegative()) {
            throw new IllegalArgumentException("grace period must be positive: " + grace);
        }
        this.grace = grace;
        this.scheduler = scheduler;
    }

    /**
     * The idle exit {@code value} (the {@value #ENV} variable) asks for: the default for none, empty for "0" or
     * "off". A value it cannot read is logged and the default used: a typo must not keep daemons for good.
     */
    public static Optional<IdleExit> fromEnvironment(String value, ScheduledExecutorService scheduler) {
        Optional<Duration> grace;
        try {
            grace = parse(value);
        } catch (IllegalArgumentException e) {
            log.warn("{}: {}; using {} s", ENV, e.getMessage(), DEFAULT_GRACE.toSeconds());
            grace = Optional.of(DEFAULT_GRACE);
        }
        return grace.map(g -> new IdleExit(g, scheduler));
    }

    /** The grace period {@code value} names: empty for never ("0", "off"), the default for null or blank. */
    static Optional<Duration> parse(String value) {
        if (value == null || value.isBlank()) {
            return Optional.of(DEFAULT_GRACE);
        }
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("off") || v.equals("never")) {
            return Optional.empty();
        }
        // 1 to 9 ASCII digits, then ms, s, m or nothing (seconds); by hand: a regex here would load java.util.regex
        // into every daemon (its AOT cache holds what the training loads)
        int digits = 0;
        while (digits < v.length() && v.charAt(digits) >= '0' && v.charAt(digits) <= '9') {
            digits++;
        }
        String unit = v.substring(digits);
        if (digits == 0 || digits > 9 || !(unit.isEmpty() || unit.equals("ms") || unit.equals("s") || unit.equals("m"))) {
            throw new IllegalArgumentException("not a duration: '" + value
                    + "' (seconds, or 500ms, 30s, 2m; 0 or off for never)");
        }
        long n = Long.parseLong(v.substring(0, digits));
        Duration d = switch (unit) {
            case "ms" -> Duration.ofMillis(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofSeconds(n);
        };
        return d.isZero() ? Optional.empty() : Optional.of(d);
    }

    public Duration grace() {
        return grace;
    }

    /** One countdown: its expiry acts only if no arm or disarm came after it ({@link #current}). */
    public record Ticket(IdleExit owner, long generation) {
        public boolean current() {
            return owner.isCurrent(generation);
        }
    }

    /** Starts counting down unless already counting; {@code onExpiry} gets the countdown's ticket. */
    synchronized void arm(Consumer<Ticket> onExpiry) {
        if (pending != null) {
            return;
        }
        Ticket ticket = new Ticket(this, ++generation);
        pending = scheduler.schedule(() -> onExpiry.accept(ticket), grace.toNanos(), TimeUnit.NANOSECONDS);
        log.info("no container: the shim exits in {} ms unless one is created", grace.toMillis());
    }

    /** Stops the countdown, if one runs: a container is arriving. */
    synchronized void disarm() {
        if (pending == null) {
            return;
        }
        pending.cancel(false);
        pending = null;
        generation++;
    }

    synchronized boolean isCurrent(long ticketGeneration) {
        return pending != null && generation == ticketGeneration;
    }

    /** Whether a countdown runs. */
    public synchronized boolean counting() {
        return pending != null;
    }
}
