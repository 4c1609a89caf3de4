package io.jshim.events;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.LockSupport;

/**
 * One subscriber's place in the {@link EventHub}: a cursor into the hub's ring, read by one consumer thread.
 * Its buffer is the distance it may lag behind the newest event; past that it is cut off, and the next
 * {@link #next} throws {@link FellBehindException} with the last sequence it was given.
 */
public final class EventSubscription implements AutoCloseable {
    private final EventHub hub;
    private final int buffer;
    /** Sequence of the last event handed out by {@link #next}. Written by the consumer, read by the publisher. */
    private volatile long delivered;
    /**
     * The newest sequence when the subscription began: a replay up to there does not count against the buffer,
     * only live events beyond it do. Long.MAX_VALUE until {@link #startAt}, so nothing is judged before.
     */
    private volatile long replayEnd = Long.MAX_VALUE;
    /** Set by the publisher when the lag exceeded the buffer; final once set. */
    private volatile boolean overrun;
    private volatile boolean closed;
    /** The consumer thread while it sleeps in {@link #next}, for the publisher to wake. */
    private volatile Thread sleeper;

    EventSubscription(EventHub hub, int buffer) {
        this.hub = hub;
        this.buffer = buffer;
    }

    void startAt(long cursor, long newest) {
        delivered = cursor;
        replayEnd = newest;
    }

    /** Publisher side, under the queue lock: never blocks. */
    void published(long seq) {
        if (seq - Math.max(delivered, replayEnd) > buffer && !overrun) {
            overrun = true;
            hub.cutOff();
        }
        Thread t = sleeper;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * Up to {@code max} events after the last one handed out, in order, waiting up to {@code wait} for one. Empty
     * when the wait ran out, or (see {@link #isClosed}) when the subscription or hub was closed and everything
     * published before was handed out.
     *
     * @throws FellBehindException if this subscriber lagged further behind than its buffer
     */
    public List<Event> next(int max, Duration wait) throws InterruptedException, FellBehindException {
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            if (overrun) {
                hub.remove(this);
                throw new FellBehindException(delivered, buffer);
            }
            long from = delivered;
            long newest = hub.newestSequence();
            if (newest > from) {
                long to = Math.min(newest, from + max);
                List<Event> out = new ArrayList<>((int) (to - from));
                for (long s = from + 1; s <= to; s++) {
                    Event e = hub.get(s);
                    if (e == null) { // overwritten: only possible past the buffer, so treat as cut off
                        overrun = true;
                        hub.remove(this);
                        throw new FellBehindException(from + out.size(), buffer);
                    }
                    out.add(e);
                }
                delivered = to;
                return out;
            }
            if (closed) {
                return List.of();
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return List.of();
            }
            sleeper = Thread.currentThread();
            if (hub.newestSequence() == from && !overrun && !closed) {
                LockSupport.parkNanos(this, left);
            }
            sleeper = null;
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    /** Sequence of the last event handed out (the one to resume after). */
    public long lastSequence() {
        return delivered;
    }

    /** True once this subscriber lagged past its buffer; {@link #next} then throws. */
    public boolean isCutOff() {
        return overrun;
    }

    public boolean isClosed() {
        return closed;
    }

    /** Ends the subscription: a sleeping {@link #next} returns what is left, then empty. */
    @Override
    public void close() {
        closed = true;
        hub.remove(this);
        Thread t = sleeper;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }
}
