package io.jshim.events;

import io.jshim.proto.wire.ProtoMessage;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shim's one ordered stream of events. {@link #publish} stamps each event with the next sequence
 * number and appends it; the forwarder to containerd takes them from the head in that order and only
 * removes one once containerd has it, so nothing is lost while containerd is away.
 *
 * <p>The backlog is bounded ({@code maxEvents} and {@code maxBytes}). Past the bound the oldest
 * events other than TaskExit and TaskOOM are dropped, each drop counted (and the count logged, at most every
 * ten seconds, outside the lock): a manager can
 * rebuild any other state by asking, but an exit it never hears of is a lie. The backlog is kept serialized
 * off the heap ({@link OffHeapBacklog}), so its bound does not size the heap.
 */
public final class EventQueue {
    private static final Logger log = LoggerFactory.getLogger(EventQueue.class);

    public static final int DEFAULT_MAX_EVENTS = 100_000;
    public static final long DEFAULT_MAX_BYTES = 64L << 20;

    private final String namespace;
    private final int maxEvents;
    private final long maxBytes;
    private final Clock clock;
    /** Observers of every event in publish order (the local subscriber stream); called under {@link #lock}, must not block. */
    private final List<Consumer<Event>> observers = new CopyOnWriteArrayList<>();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Events not yet delivered to containerd, oldest first, serialized off the heap. Guarded by {@link #lock}. */
    private final OffHeapBacklog backlog = new OffHeapBacklog();
    /** Guarded by {@link #lock}. */
    private long lastSequence;
    /** Guarded by {@link #lock}. */
    private long dropped;
    /** Guarded by {@link #lock}. */
    private boolean closed;
    /** When the last drop was reported (System.nanoTime, 0 for never); a CAS lets one publisher report. */
    private final java.util.concurrent.atomic.AtomicLong lastDropReport = new java.util.concurrent.atomic.AtomicLong();
    private static final Duration DROP_REPORT_INTERVAL = Duration.ofSeconds(10);
    /** Events published and dropped, by topic, for the shim's metrics: counted under {@link #lock}, read without it. */
    private final ConcurrentHashMap<String, LongAdder> publishedByTopic = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, LongAdder> droppedByTopic = new ConcurrentHashMap<>();

    public EventQueue(String namespace) {
        this(namespace, DEFAULT_MAX_EVENTS, DEFAULT_MAX_BYTES, Clock.systemUTC());
    }

    public EventQueue(String namespace, int maxEvents, long maxBytes, Clock clock) {
        this.namespace = namespace;
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
        this.clock = clock;
    }

    public String namespace() {
        return namespace;
    }

    /**
     * Appends a task event at the end of the one order and returns it with its sequence number.
     *
     * @throws IllegalArgumentException if {@code message} is not one of containerd's task events
     */
    public Event publish(ProtoMessage message) {
        String topic = Topics.of(message);
        if (topic.equals(Topics.UNKNOWN)) {
            throw new IllegalArgumentException("not a task event: " + message.typeName());
        }
        Event event;
        int droppedNow = 0;
        long droppedTotal;
        lock.lock();
        try {
            event = new Event(++lastSequence, clock.instant(), namespace, topic, message);
            backlog.add(event);
            count(publishedByTopic, topic);
            while (backlog.size() > maxEvents || backlog.bytes() > maxBytes) {
                Queued oldest = backlog.removeOldestOrdinary();
                if (oldest == null) {
                    break; // only exits and OOMs left: they are kept whatever it costs
                }
                count(droppedByTopic, oldest.topic());
                droppedNow++;
            }
            dropped += droppedNow;
            droppedTotal = dropped;
            for (Consumer<Event> observer : observers) {
                observer.accept(event);
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        if (droppedNow > 0) {
            reportDrops(droppedTotal);
        }
        return event;
    }

    /**
     * Says that events were dropped: outside the lock, and at most once per {@link #DROP_REPORT_INTERVAL} (a full
     * queue drops one event per publish; a line for each would flood the log while containerd is away).
     */
    private void reportDrops(long droppedTotal) {
        long now = System.nanoTime();
        long last = lastDropReport.get();
        if ((last == 0 || now - last >= DROP_REPORT_INTERVAL.toNanos()) && lastDropReport.compareAndSet(last, now)) {
            log.warn("event queue full (bound {} events / {} bytes): dropping the oldest events other than "
                    + "TaskExit and TaskOOM; {} dropped so far", maxEvents, maxBytes, droppedTotal);
        }
    }

    /** Waits for the oldest undelivered event; null when the queue is closed and empty or the wait ran out. */
    public Queued peek(Duration wait) throws InterruptedException {
        long nanos = wait.toNanos();
        lock.lock();
        try {
            while (backlog.isEmpty()) {
                if (closed || nanos <= 0) {
                    return null;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return backlog.first();
        } finally {
            lock.unlock();
        }
    }

    /** Removes {@code delivered} from the head once containerd has it (it may have been dropped meanwhile). */
    public void remove(Queued delivered) {
        lock.lock();
        try {
            if (backlog.firstSequence() == delivered.sequence()) {
                backlog.removeFirst();
                changed.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Waits until every event published so far has been delivered; false if the time ran out. */
    public boolean awaitDrained(Duration timeout) throws InterruptedException {
        long nanos = timeout.toNanos();
        lock.lock();
        try {
            while (!backlog.isEmpty()) {
                if (nanos <= 0) {
                    return false;
                }
                nanos = changed.awaitNanos(nanos);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** No more events will be published; the forwarder stops once the backlog is empty. */
    public void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    public boolean isClosed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    public void addObserver(Consumer<Event> observer) {
        observers.add(observer);
    }

    public void removeObserver(Consumer<Event> observer) {
        observers.remove(observer);
    }

    public int backlogSize() {
        lock.lock();
        try {
            return backlog.size();
        } finally {
            lock.unlock();
        }
    }

    public long droppedCount() {
        lock.lock();
        try {
            return dropped;
        } finally {
            lock.unlock();
        }
    }

    /** The backlog's serialized size, bytes. */
    public long backlogBytes() {
        lock.lock();
        try {
            return backlog.bytes();
        } finally {
            lock.unlock();
        }
    }

    /** Events published so far, by topic. */
    public Map<String, Long> publishedByTopic() {
        return snapshot(publishedByTopic);
    }

    /** Events dropped from the full backlog so far, by topic. */
    public Map<String, Long> droppedByTopic() {
        return snapshot(droppedByTopic);
    }

    static void count(ConcurrentHashMap<String, LongAdder> counts, String topic) {
        LongAdder n = counts.get(topic);
        if (n == null) {
            n = counts.computeIfAbsent(topic, t -> new LongAdder());
        }
        n.increment();
    }

    static Map<String, Long> snapshot(ConcurrentHashMap<String, LongAdder> counts) {
        Map<String, Long> copy = new TreeMap<>();
        counts.forEach((topic, n) -> copy.put(topic, n.sum()));
        return copy;
    }

    public long lastSequence() {
        lock.lock();
        try {
            return lastSequence;
        } finally {
            lock.unlock();
        }
    }


}
