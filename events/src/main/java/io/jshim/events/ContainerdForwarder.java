package io.jshim.events;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one consumer of the {@link EventQueue} that delivers to containerd: a single thread takes the
 * oldest event, forwards it, and removes it only once delivered. While containerd is away it retries
 * the same event with capped exponential backoff, so order holds and nothing is dropped (the reference
 * shim gives up after five tries and reorders retried events; jshim does neither).
 */
public final class ContainerdForwarder implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ContainerdForwarder.class);
    static final Duration MIN_BACKOFF = Duration.ofMillis(50);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(2);

    private final EventQueue queue;
    private final EventTransport transport;
    private final Thread thread;
    private volatile boolean stopping;
    /** For the shim's metrics; written by the forwarding thread only. */
    private final ConcurrentHashMap<String, LongAdder> deliveredByTopic = new ConcurrentHashMap<>();
    private final AtomicLong failedAttempts = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private volatile boolean reachable = true;
    /** Wall-clock milliseconds since which {@link #reachable} has held (the forwarder's creation at first). */
    private volatile long reachableSinceMillis = System.currentTimeMillis();

    /** Told of an event whose forward failed, until it is delivered or skipped (the shim's stuck watch). */
    public interface RetryWatch {
        /** @return closed once {@code event} is delivered or skipped */
        AutoCloseable retrying(Queued event);
    }

    private volatile RetryWatch retryWatch;

    /** From now on, events being retried are reported to {@code watch}. */
    public ContainerdForwarder watchRetries(RetryWatch watch) {
        this.retryWatch = watch;
        return this;
    }

    public ContainerdForwarder(EventQueue queue, EventTransport transport) {
        this.queue = queue;
        this.transport = transport;
        this.thread = Thread.ofPlatform().name("jshim-events").daemon(true).unstarted(this::run);
    }

    public ContainerdForwarder start() {
        thread.start();
        return this;
    }

    private void run() {
        Duration backoff = MIN_BACKOFF;
        int failures = 0;
        AutoCloseable retrying = null; // the watch's entry for the event being retried
        try {
            while (!stopping) {
                Queued event = queue.peek(Duration.ofSeconds(1));
                if (event == null) {
                    if (queue.isClosed() && queue.backlogSize() == 0) {
                        return;
                    }
                    continue;
                }
                try {
                    transport.forward(event.envelope(), queue.namespace());
                    retrying = done(retrying);
                    queue.remove(event);
                    EventQueue.count(deliveredByTopic, event.topic());
                    if (!reachable) {
                        reachable(true);
                    }
                    if (failures > 0) {
                        log.info("containerd reachable again after {} failed attempts; delivering backlog of {}",
                                failures, queue.backlogSize());
                    }
                    failures = 0;
                    backoff = MIN_BACKOFF;
                } catch (EventTransport.Rejected rejected) {
                    log.error("containerd refused event {} seq={}: {}; skipping it", event.topic(), event.sequence(),
                            rejected.getMessage());
                    retrying = done(retrying);
                    queue.remove(event);
                    this.rejected.incrementAndGet();
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception unreachable) {
                    failures++;
                    failedAttempts.incrementAndGet();
                    RetryWatch watch = retryWatch;
                    if (retrying == null && watch != null) {
                        retrying = watch.retrying(event);
                    }
                    if (reachable) {
                        reachable(false);
                    }
                    if (failures == 1 || failures % 50 == 0) {
                        log.warn("cannot forward {} seq={} to containerd (attempt {}, {} queued): {}", event.topic(),
                                event.sequence(), failures, queue.backlogSize(), unreachable.toString());
                    }
                    Thread.sleep(backoff);
                    backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            done(retrying);
            transport.close();
        }
    }

    private static AutoCloseable done(AutoCloseable retrying) {
        if (retrying != null) {
            try {
                retrying.close();
            } catch (Exception e) {
                log.debug("retry watch: {}", e.toString());
            }
        }
        return null;
    }

    private void reachable(boolean now) {
        reachableSinceMillis = System.currentTimeMillis();
        reachable = now;
    }

    /** Whether the last attempt to forward reached containerd (true before any attempt). */
    public boolean reachable() {
        return reachable;
    }

    /** When {@link #reachable()} last changed (or the forwarder was made), wall-clock milliseconds. */
    public long reachableSinceMillis() {
        return reachableSinceMillis;
    }

    /** Events containerd accepted, by topic. */
    public Map<String, Long> deliveredByTopic() {
        return EventQueue.snapshot(deliveredByTopic);
    }

    /** Attempts to forward that did not reach containerd (each retried). */
    public long failedAttempts() {
        return failedAttempts.get();
    }

    /** Events containerd refused (skipped). */
    public long rejected() {
        return rejected.get();
    }

    /**
     * Stops accepting new events, waits up to {@code grace} for the backlog to reach containerd, then
     * stops. Returns false (and logs what was left) if the time ran out.
     */
    public boolean drainAndStop(Duration grace) throws InterruptedException {
        queue.close();
        boolean drained = queue.awaitDrained(grace);
        if (!drained) {
            log.warn("shutdown: {} events not delivered to containerd within {}", queue.backlogSize(), grace);
        }
        stopping = true;
        thread.interrupt();
        thread.join(1000);
        return drained;
    }

    @Override
    public void close() {
        stopping = true;
        thread.interrupt();
    }
}
