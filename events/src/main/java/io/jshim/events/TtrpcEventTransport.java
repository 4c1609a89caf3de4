package io.jshim.events;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wire.ProtoWriter;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * Forwards envelopes to containerd's {@code containerd.services.events.ttrpc.v1.Events/Forward} on its
 * ttrpc socket ({@code $TTRPC_ADDRESS}). Connects lazily and again after the connection is lost, so a
 * restarted containerd is picked up by the next attempt. Only the forwarder thread calls it.
 */
public final class TtrpcEventTransport implements EventTransport {
    static final String SERVICE = "containerd.services.events.ttrpc.v1.Events";
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Answers that mean containerd looked at the event and will never take it. */
    private static final Set<Code> FINAL = Set.of(Code.INVALID_ARGUMENT, Code.NOT_FOUND, Code.ALREADY_EXISTS,
            Code.FAILED_PRECONDITION, Code.UNIMPLEMENTED, Code.PERMISSION_DENIED);

    private final Path socket;
    /** Confined to the forwarder thread. */
    private TtrpcClient client;

    public TtrpcEventTransport(Path socket) {
        this.socket = socket;
    }

    /** Accepts containerd's address forms: a path, or {@code unix://path}. */
    public static Path socketOf(String address) {
        return Path.of(address.startsWith("unix://") ? address.substring("unix://".length()) : address);
    }

    @Override
    public void forward(Bytes envelope, String namespace) throws Exception {
        if (client == null || !client.isOpen()) {
            closeClient();
            client = TtrpcClient.connect(socket, CONNECT_TIMEOUT);
        }
        try {
            client.call(SERVICE, "Forward", forwardRequest(envelope), CALL_TIMEOUT,
                    Map.of("containerd-namespace-ttrpc", namespace)); // the answer is an Empty: nothing to read
        } catch (TtrpcException e) {
            if (FINAL.contains(e.code())) {
                throw new Rejected(e.code() + ": " + e.getMessage(), e);
            }
            closeClient();
            throw e;
        }
    }

    /**
     * {@code ForwardRequest { Envelope envelope = 1; }} around an envelope already serialized: its field tag, its
     * length and its bytes, which is what the message's own serializer would write.
     */
    static Bytes forwardRequest(Bytes envelope) {
        byte[] request = new byte[ProtoWriter.sizeBytes(1, envelope)];
        new ProtoWriter(request, 0).bytes(1, envelope);
        return Bytes.wrap(request);
    }

    private void closeClient() {
        if (client != null) {
            client.close();
            client = null;
        }
    }

    @Override
    public void close() {
        closeClient();
    }
}
