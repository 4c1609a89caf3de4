package io.jshim.shim;

import io.jshim.ttrpc.Code;

/**
 * An error the Task API reports to its caller with a status code, whatever the protocol (ttrpc or
 * gRPC). The codes follow containerd's errdefs as the reference shim uses them.
 */
public final class ShimException extends RuntimeException {
    private final Code code;

    public ShimException(Code code, String message) {
        super(message);
        this.code = code;
    }

    public ShimException(Code code, String message, Throwable cause) {
        super(message, cause);
        this.code = code;
    }

    public Code code() {
        return code;
    }

    public static ShimException notFound(String message) {
        return new ShimException(Code.NOT_FOUND, message);
    }

    public static ShimException alreadyExists(String message) {
        return new ShimException(Code.ALREADY_EXISTS, message);
    }

    public static ShimException failedPrecondition(String message) {
        return new ShimException(Code.FAILED_PRECONDITION, message);
    }

    public static ShimException invalidArgument(String message) {
        return new ShimException(Code.INVALID_ARGUMENT, message);
    }

    /** A plain failure: containerd sees Unknown, as for the reference's unwrapped Go errors. */
    public static ShimException unknown(String message) {
        return new ShimException(Code.UNKNOWN, message);
    }

    public static ShimException unknown(String message, Throwable cause) {
        return new ShimException(Code.UNKNOWN, message, cause);
    }
}
