package io.jshim.reaper;

import java.time.Instant;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One subscription: an unbounded queue the reaper appends to and a virtual thread that drains it
 * into the listener, so a slow listener only delays itself. The queue is unbounded on purpose:
 * the reaper must never block or drop; a listener that stays slower than the exit rate grows it.
 */
final class Subscriber implements Subscription {
    private static final Logger log = LoggerFactory.getLogger(Subscriber.class);
    /** Queued by close() to wake the delivery thread; compared by identity. */
    private static final Exit STOP = new Exit(-1, -1, Instant.EPOCH);

    private final String name;
    private final Consumer<Exit> listener;
    private final Runnable onClose;
    /** Thread-safe on its own. */
    private final LinkedBlockingQueue<Exit> queue = new LinkedBlockingQueue<>();
    private volatile boolean closed;
    /** Exits offered; written by the reaper thread under the reaper's delivery lock. Guarded by {@code this}. */
    private long offered;
    /** Exits the listener has returned from. Guarded by {@code this}. */
    private long delivered;
    /** The reaper's lock held across each reap and its offers (see {@link #awaitDelivered}). */
    private final Object reaping;

    Subscriber(String name, Consumer<Exit> listener, Runnable onClose, Object reaping) {
        this.reaping = reaping;
        this.name = name;
        this.listener = listener;
        this.onClose = onClose;
    }

    void start() {
        Thread.ofVirtual().name("jshim-exits-" + name).start(this::deliver);
    }

    /** Called by the reaper thread only: never blocks. */
    void offer(Exit exit) {
        if (!closed) {
            synchronized (this) {
                offered++;
            }
            queue.add(exit);
        }
    }

    @Override
    public boolean awaitDelivered(java.time.Duration limit) throws InterruptedException {
        long target;
        synchronized (reaping) { // no reap is between its waitpid and its offers now
            synchronized (this) {
                target = offered;
            }
        }
        long deadline = System.nanoTime() + limit.toNanos();
        synchronized (this) {
            while (delivered < target && !closed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
            }
            return true;
        }
    }

    private void deliver() {
        try {
            while (!closed) {
                Exit exit = queue.take();
                if (exit == STOP || closed) {
                    break;
                }
                try {
                    listener.accept(exit);
                } catch (RuntimeException | Error e) {
                    log.error("exit listener {} failed on {}", name, exit, e);
                } finally {
                    synchronized (this) {
                        delivered++;
                        notifyAll();
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        queue.clear();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (this) {
            notifyAll();
        }
        onClose.run();
        queue.add(STOP);
    }

    @Override
    public String toString() {
        return "Subscription[" + name + (closed ? ", closed" : ", " + queue.size() + " queued") + "]";
    }
}
