package io.jshim.events;

import io.jshim.proto.wire.Bytes;

/** Where the forwarder delivers events: containerd's Events/Forward, or a test's stand-in. */
public interface EventTransport extends AutoCloseable {

    /**
     * Delivers one envelope, serialized ({@code containerd.services.events.v1.Envelope}), of {@code namespace}.
     * Throws {@link Rejected} when the receiver answered and refused it (retrying cannot help), any other exception
     * when it could not be reached (retrying will).
     */
    void forward(Bytes envelope, String namespace) throws Exception;

    @Override
    void close();

    /** The receiver got the event and refused it for good (e.g. InvalidArgument for a bad topic). */
    final class Rejected extends Exception {
        public Rejected(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
