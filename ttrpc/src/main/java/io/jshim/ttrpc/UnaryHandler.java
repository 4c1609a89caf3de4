package io.jshim.ttrpc;

import io.jshim.proto.wire.Bytes;

/**
 * Serves one unary method on raw bytes. Runs on its own virtual thread, so it may block, unless it was registered
 * with {@link Execution#EVENT_LOOP}, when it must not.
 * Throw {@link TtrpcException} to answer with a status; any other exception becomes UNKNOWN
 * with its message. Returning null is answered with UNKNOWN "ttrpc: marshal called with nil",
 * as Go does.
 */
@FunctionalInterface
public interface UnaryHandler {
    Bytes handle(CallContext ctx, Bytes payload) throws TtrpcException;
}
