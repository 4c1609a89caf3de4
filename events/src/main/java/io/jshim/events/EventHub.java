package io.jshim.events;

import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * Fans the shim's one event order out to local subscribers, with a replay buffer for those that reconnect.
 *
 * <p>Attached as an {@link EventQueue} observer, it is called under the queue's lock for every event, in exactly
 * the order the forwarder sends them to containerd. It only stores a reference in a ring and wakes subscribers
 * that sleep: publishing never waits for a subscriber, however slow. Each subscriber reads the ring at its own
 * cursor; one that falls further behind than its buffer is cut off ({@link FellBehindException}) and may
 * resubscribe after the last sequence it received, which the ring still holds as it is larger than a
 * subscriber's buffer.
 */
public final class EventHub implements Consumer<Event> {
    public static final int DEFAULT_REPLAY_CAPACITY = 16_384;
    public static final int DEFAULT_SUBSCRIBER_BUFFER = 4_096;

    private final int capacity;
    private final int subscriberBuffer;
    /** Event with sequence s at index s % capacity. Written only by {@link #accept} (one writer: under the queue lock). */
    private final AtomicReferenceArray<Event> ring;
    /** Newest sequence in the ring, 0 before the first. Written after the ring slot, so readers see the event. */
    private volatile long newest;
    /** Sequence of the first event this hub saw, 0 before the first. */
    private volatile long first;
    private volatile boolean closed;
    private final Set<EventSubscription> subscriptions = ConcurrentHashMap.newKeySet();
    /** Called after each event, under the queue lock: must be as cheap as an unpark. */
    private final java.util.List<Runnable> wakers = new java.util.concurrent.CopyOnWriteArrayList<>();

    private final java.util.concurrent.atomic.AtomicLong cutOffs = new java.util.concurrent.atomic.AtomicLong();

    public EventHub() {
        this(DEFAULT_REPLAY_CAPACITY, DEFAULT_SUBSCRIBER_BUFFER);
    }

    public EventHub(int replayCapacity, int subscriberBuffer) {
        if (subscriberBuffer < 1 || replayCapacity <= subscriberBuffer) {
            throw new IllegalArgumentException("replay capacity must exceed the subscriber buffer, so a subscriber"
                    + " cut off can always resume: " + replayCapacity + " <= " + subscriberBuffer);
        }
        this.capacity = replayCapacity;
        this.subscriberBuffer = subscriberBuffer;
        this.ring = new AtomicReferenceArray<>(replayCapacity);
    }

    /** A hub observing {@code queue} from now on. */
    public static EventHub attachTo(EventQueue queue) {
        EventHub hub = new EventHub();
        queue.addObserver(hub);
        return hub;
    }

    /** Called by the queue under its lock, once per event, in publish order. Never blocks. */
    @Override
    public void accept(Event event) {
        long seq = event.sequence();
        ring.set(index(seq), event);
        if (first == 0) {
            first = seq;
        }
        newest = seq;
        for (EventSubscription s : subscriptions) {
            s.published(seq);
        }
        for (Runnable w : wakers) {
            w.run();
        }
    }

    /**
     * Runs {@code waker} after every event (under the queue's lock: it must only wake someone, e.g. unpark a
     * thread), for a consumer that serves many subscriptions from one thread with {@code next(max, Duration.ZERO)}.
     */
    public void onPublish(Runnable waker) {
        wakers.add(waker);
    }

    /**
     * A new subscriber: with {@code after} empty it gets events published from now on; otherwise every event
     * after that sequence (0 = the first) from the replay buffer, then live ones.
     *
     * @throws ReplayUnavailableException if {@code after} reaches back before the oldest kept event or is newer
     *     than the newest (e.g. a sequence from an earlier shim process)
     */
    public EventSubscription subscribe(OptionalLong after) throws ReplayUnavailableException {
        EventSubscription s = new EventSubscription(this, subscriberBuffer);
        subscriptions.add(s); // before choosing the cursor: no event can slip between the two
        long cursor;
        long last = newest;
        if (after.isEmpty()) {
            cursor = last;
        } else {
            cursor = after.getAsLong();
            long oldest = oldestKept();
            if (cursor > last) {
                subscriptions.remove(s);
                throw new ReplayUnavailableException("after_sequence " + cursor + " is newer than the newest event ("
                        + last + "): it is from another shim process", oldest, last);
            }
            if (cursor + 1 < oldest) {
                subscriptions.remove(s);
                throw new ReplayUnavailableException("after_sequence " + cursor + " is no longer kept: the replay"
                        + " buffer holds sequences " + oldest + ".." + last, oldest, last);
            }
        }
        s.startAt(cursor, last);
        if (closed) {
            s.close();
        }
        return s;
    }

    /** The oldest sequence a subscriber can still resume from (after {@code oldestKept() - 1}); 1 before any event. */
    public long oldestKept() {
        long last = newest;
        long firstSeen = first;
        if (last == 0) {
            return 1;
        }
        return Math.max(firstSeen, last - capacity + 1);
    }

    public long newestSequence() {
        return newest;
    }

    /** Subscribers cut off for falling behind, so far (for the shim's metrics). */
    public long cutOffs() {
        return cutOffs.get();
    }

    /** A subscriber fell further behind than its buffer (called once per subscription, under the queue's lock). */
    void cutOff() {
        cutOffs.incrementAndGet();
    }

    public int subscriberCount() {
        return subscriptions.size();
    }

    public int replayCapacity() {
        return capacity;
    }

    public int subscriberBuffer() {
        return subscriberBuffer;
    }

    /** No more events: each subscriber gets what is left in the ring up to now, then sees the end. */
    public void close() {
        closed = true;
        for (EventSubscription s : subscriptions) {
            s.close();
        }
        for (Runnable w : wakers) {
            w.run();
        }
    }

    /** The event with sequence {@code seq}, or null if the ring no longer (or not yet) holds it. */
    Event get(long seq) {
        Event e = ring.get(index(seq));
        return e != null && e.sequence() == seq ? e : null;
    }

    void remove(EventSubscription s) {
        subscriptions.remove(s);
    }

    private int index(long seq) {
        return (int) (seq % capacity);
    }
}
