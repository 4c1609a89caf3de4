package io.jshim.reaper;

/** A subscriber's registration with the {@link Reaper}; closing it stops deliveries. */
public interface Subscription extends AutoCloseable {
    /**
     * Waits (at most {@code limit}) until every exit reaped before this call has been handed to the listener and
     * the listener has returned: after it, a pid the listener has not been told of was not reaped before the
     * call, so a pidfd opened for it before the call names the process that had it. Not from the listener itself.
     * Whether it got there (true at once once closed).
     */
    boolean awaitDelivered(java.time.Duration limit) throws InterruptedException;

    /**
     * Stops deliveries: exits still queued are dropped and the listener is not called again, except
     * for a call already running on the delivery thread. Idempotent; may be called from the listener.
     */
    @Override
    void close();
}
