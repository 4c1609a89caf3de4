package io.jshim.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Empty;
import io.jshim.proto.eventsvc.Envelope;
import io.jshim.proto.eventsvc.ForwardRequest;
import io.jshim.proto.events.TaskExit;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcException;
import io.jshim.ttrpc.TtrpcServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real unix sockets: a stand-in for containerd's ttrpc Events service goes away mid-stream and comes back on the
 * same path; every event still arrives once, in order.
 */
class TtrpcForwardingTest {

    private static TtrpcServer receiver(Path socket, List<Envelope> sink) throws Exception {
        return TtrpcServer.builder()
                .register(TtrpcEventTransport.SERVICE, "Forward", ForwardRequest.parser(), (ctx, req) -> {
                    if (!req.getEnvelope().getTopic().startsWith("/")) {
                        throw new TtrpcException(Code.INVALID_ARGUMENT, "bad topic");
                    }
                    sink.add(req.getEnvelope());
                    return Empty.getDefaultInstance();
                })
                .build()
                .bind(socket);
    }

    @Test
    void theForwardRequestAroundSerializedEnvelopesIsWhatProtobufWouldWrite() throws Exception {
        for (int size : new int[] {0, 10, 127, 128, 300, 20_000}) { // lengths of one, two and three varint bytes
            Envelope envelope = Envelope.newBuilder().setNamespace("default").setTopic("/tasks/exit")
                    .setEvent(io.jshim.proto.wkt.Any.newBuilder().setTypeUrl("containerd.events.TaskExit")
                            .setValue(io.jshim.proto.wire.Bytes.copyFrom(new byte[size])))
                    .build();
            assertEquals(ForwardRequest.newBuilder().setEnvelope(envelope).build().toByteString(),
                    TtrpcEventTransport.forwardRequest(envelope.toByteString()), "envelope of " + size + " bytes");
        }
    }

    @Test
    void deliversEverythingInOrderAcrossAReceiverRestart(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("containerd.sock.ttrpc");
        List<Envelope> got = new CopyOnWriteArrayList<>();
        TtrpcServer first = receiver(socket, got);
        EventQueue q = new EventQueue("default");
        ContainerdForwarder f = new ContainerdForwarder(q,
                new TtrpcEventTransport(socket)).start();
        int n = 300;
        for (int i = 0; i < n / 3; i++) {
            q.publish(TaskExit.newBuilder().setContainerId("c").setId("p" + i).build());
        }
        assertTrue(q.awaitDrained(Duration.ofSeconds(10)));
        first.close();
        java.nio.file.Files.deleteIfExists(socket);
        for (int i = n / 3; i < n; i++) { // published while the receiver is away
            q.publish(TaskExit.newBuilder().setContainerId("c").setId("p" + i).build());
        }
        TtrpcServer second = receiver(socket, got);
        try {
            assertTrue(f.drainAndStop(Duration.ofSeconds(30)));
        } finally {
            second.close();
        }
        List<String> ids = new ArrayList<>();
        for (Envelope e : got) {
            ids.add(TaskExit.parseFrom(e.getEvent().getValue()).getId());
            assertEquals("containerd.events.TaskExit", e.getEvent().getTypeUrl());
            assertEquals("default", e.getNamespace());
        }
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            expected.add("p" + i);
        }
        assertEquals(expected, ids);
    }
}
