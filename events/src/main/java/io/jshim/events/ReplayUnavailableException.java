package io.jshim.events;

/** A subscriber asked to resume from a sequence the replay buffer does not hold (too old, or from the future). */
public final class ReplayUnavailableException extends Exception {
    private final long oldestKept;
    private final long newest;

    public ReplayUnavailableException(String message, long oldestKept, long newest) {
        super(message);
        this.oldestKept = oldestKept;
        this.newest = newest;
    }

    public long oldestKept() {
        return oldestKept;
    }

    public long newest() {
        return newest;
    }
}
