package io.jshim.events;

import java.time.Duration;
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
                    queue.remove(event);
                    if (failures > 0) {
                        log.info("containerd reachable again after {} failed attempts; delivering backlog of {}",
                                failures, queue.backlogSize());
                    }
                    failures = 0;
                    backoff = MIN_BACKOFF;
                } catch (EventTransport.Rejected rejected) {
                    log.error("containerd refused event {} seq={}: {}; skipping it", event.topic(), event.sequence(),
                            rejected.getMessage());
                    queue.remove(event);
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception unreachable) {
                    failures++;
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
            transport.close();
        }
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
