package io.jshim.ttrpc;

import io.jshim.proto.rpc.Status;

/**
 * A call that ended with a non-OK status. Handlers throw it to answer with that status; the
 * client throws it (or fails its future with it) when the server answered with one, or when
 * the call failed locally (deadline, closed connection).
 *
 * <p>Checked on purpose: every handler and every caller has to decide what a failed call means.
 * {@link #getMessage()} is the status message exactly as sent on the wire.
 */
public final class TtrpcException extends Exception {
    private static final long serialVersionUID = 1L;

    private final Code code;

    public TtrpcException(Code code, String message) {
        this(code, message, null);
    }

    public TtrpcException(Code code, String message, Throwable cause) {
        super(message == null ? "" : message, cause);
        if (code == null || code == Code.OK) {
            throw new IllegalArgumentException("a TtrpcException needs a non-OK code, got " + code);
        }
        this.code = code;
    }

    public Code code() {
        return code;
    }

    /** The status as it goes on the wire (details are not carried). */
    public Status toStatus() {
        return Status.newBuilder().setCode(code.value()).setMessage(getMessage()).build();
    }

    /** The exception for a non-OK wire status. */
    public static TtrpcException fromStatus(Status status) {
        return new TtrpcException(Code.of(status.getCode()), status.getMessage());
    }

    @Override
    public String toString() {
        return "TtrpcException: " + code + ": " + getMessage();
    }
}
