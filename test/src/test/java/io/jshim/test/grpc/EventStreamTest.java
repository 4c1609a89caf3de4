package io.jshim.test.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.jshim.events.EventHub;
import io.jshim.events.EventQueue;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.stream.StreamedEvent;
import io.jshim.proto.stream.SubscribeRequest;
import io.jshim.shim.grpc.GrpcEventService;
import io.jshim.shim.grpc.GrpcShimServer;
import io.jshim.ttrpc.TtrpcServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The event stream's bounds: a stalled subscriber is cut off without slowing the publisher, and resumes. */
class EventStreamTest {

    @Test
    void aStalledSubscriberIsCutOffThenResumesWithoutLossAndOldReplaysAreOutOfRange(@TempDir Path dir) throws Exception {
        EventQueue queue = new EventQueue("ns", 1_000_000, 1L << 30, java.time.Clock.systemUTC());
        EventHub hub = EventHub.attachTo(queue);
        GrpcShimServer server = new GrpcShimServer(null, hub, TtrpcServer.sameUserAs(TtrpcServer.effectiveUid()));
        Path socket = dir.resolve("events.sock");
        server.bind(socket);
        ManagedChannel channel = GrpcRig.channel(socket);
        try {
            List<StreamedEvent> got = new ArrayList<>();
            CompletableFuture<Status> end = new CompletableFuture<>();
            CompletableFuture<Metadata> trailers = new CompletableFuture<>();
            ClientCall<SubscribeRequest, StreamedEvent> stalled = channel.newCall(GrpcEventService.SUBSCRIBE,
                    io.grpc.CallOptions.DEFAULT);
            stalled.start(new ClientCall.Listener<>() {
                @Override
                public void onMessage(StreamedEvent m) {
                    synchronized (got) {
                        got.add(m);
                    }
                }

                @Override
                public void onClose(Status status, Metadata t) {
                    trailers.complete(t);
                    end.complete(status);
                }
            }, new Metadata());
            stalled.sendMessage(SubscribeRequest.newBuilder().setAfterSequence(0).build());
            stalled.halfClose();
            stalled.request(1); // and then reads nothing more
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (hub.subscriberCount() < 1 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }

            int n = 12_000; // past a subscriber's buffer (4,096), within the replay buffer (16,384)
            long t0 = System.nanoTime();
            for (int i = 1; i <= n; i++) {
                queue.publish(TaskExit.newBuilder().setContainerId("c" + i).setPid(i).build());
            }
            long publishMicros = (System.nanoTime() - t0) / 1000;
            System.out.printf("published %d events with a stalled subscriber in %d ms (%.1f us each)%n", n,
                    publishMicros / 1000, publishMicros / (double) n);

            stalled.request(Integer.MAX_VALUE); // it wakes up: gets what was in flight, then the cut-off
            Status status = end.get(20, TimeUnit.SECONDS);
            assertEquals(Status.Code.RESOURCE_EXHAUSTED, status.getCode(), status.toString());
            assertTrue(status.getDescription().contains("resubscribe with after_sequence="), status.getDescription());
            long last;
            synchronized (got) {
                last = got.getLast().getSequence();
                for (int i = 0; i < got.size(); i++) {
                    assertEquals(i + 1, got.get(i).getSequence());
                }
            }
            assertEquals(Long.toString(last), trailers.get().get(GrpcEventService.LAST_SEQUENCE));
            assertTrue(last < n, "cut off before the end: " + last);
            assertEquals(1, hub.cutOffs(), "the cut-off counted once (jshim_event_subscribers_cut_off_total)");

            try (StreamClient resumed = StreamClient.subscribe(socket, last)) {
                resumed.awaitSequence(n, Duration.ofSeconds(20));
                List<StreamedEvent> rest = resumed.received();
                for (int i = 0; i < rest.size(); i++) {
                    assertEquals(last + i + 1, rest.get(i).getSequence(), "no gap, no duplicate");
                }
                assertEquals(n - last, rest.size());
            }

            for (int i = n + 1; i <= 20_000; i++) { // now past the replay buffer
                queue.publish(TaskExit.newBuilder().setContainerId("c" + i).setPid(i).build());
            }
            n = 20_000;
            try (StreamClient tooOld = StreamClient.subscribe(socket, 0L)) {
                Status s = tooOld.end.get(10, TimeUnit.SECONDS);
                assertEquals(Status.Code.OUT_OF_RANGE, s.getCode(), s.toString());
                System.out.println("after_sequence=0 with " + n + " published: " + s.getDescription());
            }
            try (StreamClient future = StreamClient.subscribe(socket, (long) n + 5)) {
                assertEquals(Status.Code.OUT_OF_RANGE, future.end.get(10, TimeUnit.SECONDS).getCode());
            }
            long oldest = hub.oldestKept();
            assertTrue(n - oldest + 1 >= 10_000, "replay keeps at least 10,000 events: " + (n - oldest + 1));
            try (StreamClient oldestOk = StreamClient.subscribe(socket, oldest - 1)) {
                oldestOk.awaitSequence(n, Duration.ofSeconds(20));
                assertEquals(oldest, oldestOk.received().getFirst().getSequence());
            }
        } finally {
            channel.shutdownNow();
            server.shutdown(Duration.ofSeconds(1)).get();
        }
    }

    @Test
    void aPeerThePolicyRefusesGetsNoAnswer(@TempDir Path dir) throws Exception {
        EventHub hub = new EventHub();
        GrpcShimServer server = new GrpcShimServer(null, hub, peer -> false);
        Path socket = dir.resolve("refusing.sock");
        server.bind(socket);
        try (StreamClient c = StreamClient.subscribe(socket, null)) {
            assertEquals(Status.Code.UNAVAILABLE, c.end.get(10, TimeUnit.SECONDS).getCode());
            assertEquals(0, hub.subscriberCount());
        } finally {
            server.shutdown(Duration.ofSeconds(1)).get();
        }
    }
}
