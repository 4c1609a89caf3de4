package io.jshim.reaper;

/** A subscriber's registration with the {@link Reaper}; closing it stops deliveries. */
public interface Subscription extends AutoCloseable {
    /**
     * Stops deliveries: exits still queued are dropped and the listener is not called again, except
     * for a call already running on the delivery thread. Idempotent; may be called from the listener.
     */
    @Override
    void close();
}
