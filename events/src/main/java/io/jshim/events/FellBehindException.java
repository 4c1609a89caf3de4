package io.jshim.events;

/** A subscriber lagged further behind than its buffer and was cut off; it may resume after {@link #lastSequence}. */
public final class FellBehindException extends Exception {
    private final long lastSequence;

    public FellBehindException(long lastSequence, int buffer) {
        super("subscriber fell more than " + buffer + " events behind and was cut off; resubscribe with"
                + " after_sequence=" + lastSequence + " to resume from the replay buffer");
        this.lastSequence = lastSequence;
    }

    public long lastSequence() {
        return lastSequence;
    }
}
