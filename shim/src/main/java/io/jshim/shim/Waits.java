package io.jshim.shim;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The daemon's waits that can hang on something outside it, while they last: runc calls (on runc), output drains at
 * an exit (on the copiers, i.e. on whoever holds the container's stdout), event forwards being retried (on
 * containerd). A wait older than the stuck threshold ({@code JSHIM_RUNC_STUCK_SECONDS}) is logged once with what it
 * waits for and counted by kind; the metrics list the open ones with their container id. Timed on the daemon's
 * event loop (no thread of its own); off until {@link #watch} is called, so that start and delete schedule nothing.
 * Thread-safe without locks.
 */
public final class Waits {
    private static final Logger log = LoggerFactory.getLogger(Waits.class);

    /** What a wait is: its metric label and what it waits for (for the stuck line). */
    public enum Kind {
        RUNC("runc", "the OCI runtime"),
        DRAIN("drain", "the output copiers to reach end-of-file (the container's stdout still held open?)"),
        FORWARD("forward", "containerd to accept the event");

        private final String label;
        private final String waitingFor;

        Kind(String label, String waitingFor) {
            this.label = label;
            this.waitingFor = waitingFor;
        }

        public String label() {
            return label;
        }
    }

    /** One open wait: {@code what} is the runc subcommand, the exec id ("" for the init) or the event topic. */
    public record Wait(Kind kind, String what, String containerId, long startNanos) {}

    private static final ConcurrentHashMap<Long, Wait> OPEN = new ConcurrentHashMap<>();
    private static final AtomicLong IDS = new AtomicLong();
    private static final AtomicLongArray STUCK = new AtomicLongArray(Kind.values().length);
    /** The stuck watch: its timer and threshold, set together; null when not watched. */
    private record Watch(ScheduledExecutorService timer, Duration after) {}

    private static volatile Watch watch;

    /** An open wait; {@link #close} ends it (once). */
    public static final class Open implements AutoCloseable {
        private final long id;
        private final ScheduledFuture<?> check;

        private Open(long id, ScheduledFuture<?> check) {
            this.id = id;
            this.check = check;
        }

        @Override
        public void close() {
            if (check != null) {
                check.cancel(false);
            }
            OPEN.remove(id);
        }
    }

    private Waits() {}

    /**
     * Has every wait that lasts longer than {@code after} logged once and counted, timed on {@code timer} (null: no
     * longer watched).
     */
    public static void watch(ScheduledExecutorService timer, Duration after) {
        watch = timer == null ? null : new Watch(timer, after);
    }

    public static Open begin(Kind kind, String what, String containerId) {
        long id = IDS.incrementAndGet();
        Wait w = new Wait(kind, what, containerId, System.nanoTime());
        OPEN.put(id, w);
        Watch now = watch;
        return new Open(id, now == null ? null
                : now.timer().schedule(() -> stuck(w), now.after().toNanos(), TimeUnit.NANOSECONDS));
    }

    private static void stuck(Wait w) {
        STUCK.incrementAndGet(w.kind().ordinal());
        // whole seconds, but a sub-second threshold (tests) does not read "after 0 s"
        String seconds = String.valueOf(Math.max(1, Math.round((System.nanoTime() - w.startNanos()) / 1e9)));
        switch (w.kind()) {
            case RUNC -> log.warn("{} runc {} still running after {} s: stuck? waiting for {}", w.containerId(),
                    w.what(), seconds, w.kind().waitingFor);
            case DRAIN -> log.warn("{} {} exit not reported after {} s: waiting for {}", w.containerId(),
                    w.what().isEmpty() ? "init" : "exec " + w.what(), seconds, w.kind().waitingFor);
            case FORWARD -> log.warn("{} event {} not delivered after {} s: waiting for {}", w.containerId(),
                    w.what(), seconds, w.kind().waitingFor);
        }
    }

    /** Waits of {@code kind} reported stuck so far. */
    public static long stuck(Kind kind) {
        return STUCK.get(kind.ordinal());
    }

    /** The stuck threshold, or null when not watched. */
    public static Duration stuckAfter() {
        Watch now = watch;
        return now == null ? null : now.after();
    }

    /** The waits open now (any order). */
    public static List<Wait> open() {
        return List.copyOf(OPEN.values());
    }
}
