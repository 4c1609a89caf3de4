package io.jshim.ttrpc;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a handler knows about its call besides the payload.
 *
 * <p>Cancellation means the client's connection closed (or the server was closed): nobody will
 * read the answer. The deadline is separate: it comes from the request's timeout_nano and the
 * server never enforces it itself (as in Go); a handler that may outlive it should check
 * {@link #isDeadlineExceeded()} and throw DEADLINE_EXCEEDED.
 */
public final class CallContext {
    private final String service;
    private final String method;
    private final Map<String, List<String>> metadata;
    private final Instant deadline;
    /** System.nanoTime() value of the deadline; meaningful only when deadline != null. */
    private final long deadlineNanos;
    private final PeerCredentials peer;
    private final Cancellation cancellation;

    CallContext(String service, String method, Map<String, List<String>> metadata, Instant deadline,
            long deadlineNanos, PeerCredentials peer, Cancellation cancellation) {
        this.service = service;
        this.method = method;
        this.metadata = metadata;
        this.deadline = deadline;
        this.deadlineNanos = deadlineNanos;
        this.peer = peer;
        this.cancellation = cancellation;
    }

    /** Fully qualified service name, e.g. {@code containerd.task.v3.Task}. */
    public String service() {
        return service;
    }

    /** Bare method name, e.g. {@code Create}. */
    public String method() {
        return method;
    }

    /** Request metadata grouped by key, values in arrival order; keys as sent (not lowercased). Unmodifiable. */
    public Map<String, List<String>> metadata() {
        return metadata;
    }

    /** The first value sent for {@code key}, if any. */
    public Optional<String> metadataValue(String key) {
        List<String> values = metadata.get(key);
        return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.getFirst());
    }

    /** When the client gives up: arrival time plus timeout_nano; empty when timeout_nano was 0. */
    public Optional<Instant> deadline() {
        return Optional.ofNullable(deadline);
    }

    /** Time left until the deadline (negative once past); empty without a deadline. */
    public Optional<Duration> remaining() {
        return deadline == null ? Optional.empty() : Optional.of(Duration.ofNanos(deadlineNanos - System.nanoTime()));
    }

    public boolean isDeadlineExceeded() {
        return deadline != null && deadlineNanos - System.nanoTime() <= 0;
    }

    /** True once the client's connection closed or the server was closed. */
    public boolean isCancelled() {
        return cancellation.isCancelled();
    }

    /**
     * Runs {@code callback} when the call is cancelled, or at once if it already is. Callbacks
     * run on the I/O thread: they must be quick and must not block (complete a future, count
     * down a latch, interrupt a thread).
     */
    public void onCancel(Runnable callback) {
        cancellation.onCancel(callback);
    }

    /** SO_PEERCRED of the connection the call came on. */
    public PeerCredentials peer() {
        return peer;
    }

    @Override
    public String toString() {
        return "CallContext[/" + service + "/" + method + ", peer pid " + peer.pid() + "]";
    }
}
