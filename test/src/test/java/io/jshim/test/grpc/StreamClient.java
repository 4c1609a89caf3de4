package io.jshim.test.grpc;

import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ClientResponseObserver;
import io.jshim.proto.stream.StreamedEvent;
import io.jshim.proto.stream.SubscribeRequest;
import io.jshim.shim.grpc.GrpcEventService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** A test subscriber to {@code jshim.events.v1.Events/Subscribe} that records what it receives. */
final class StreamClient implements AutoCloseable {
    private final ManagedChannel channel;
    /** Guarded by itself. */
    private final List<StreamedEvent> received = new ArrayList<>();
    final CompletableFuture<Status> end = new CompletableFuture<>();
    private volatile ClientCallStreamObserver<SubscribeRequest> call;

    private StreamClient(ManagedChannel channel) {
        this.channel = channel;
    }

    /** Subscribes after {@code after} (null: live only), reading as fast as events come. */
    static StreamClient subscribe(java.nio.file.Path socket, Long after) {
        StreamClient c = new StreamClient(GrpcRig.channel(socket));
        SubscribeRequest.Builder r = SubscribeRequest.newBuilder();
        if (after != null) {
            r.setAfterSequence(after);
        }
        ClientCall<SubscribeRequest, StreamedEvent> call = c.channel.newCall(GrpcEventService.SUBSCRIBE,
                io.grpc.CallOptions.DEFAULT);
        ClientCalls.asyncServerStreamingCall(call, r.build(), new ClientResponseObserver<SubscribeRequest, StreamedEvent>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<SubscribeRequest> requestStream) {
                c.call = requestStream;
            }

            @Override
            public void onNext(StreamedEvent e) {
                synchronized (c.received) {
                    c.received.add(e);
                    c.received.notifyAll();
                }
            }

            @Override
            public void onError(Throwable t) {
                c.end.complete(Status.fromThrowable(t));
                synchronized (c.received) {
                    c.received.notifyAll();
                }
            }

            @Override
            public void onCompleted() {
                c.end.complete(Status.OK);
                synchronized (c.received) {
                    c.received.notifyAll();
                }
            }
        });
        return c;
    }

    List<StreamedEvent> received() {
        synchronized (received) {
            return new ArrayList<>(received);
        }
    }

    long lastSequence() {
        synchronized (received) {
            return received.isEmpty() ? -1 : received.getLast().getSequence();
        }
    }

    /** Waits until an event with sequence >= {@code seq} arrived. */
    void awaitSequence(long seq, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (received) {
            while (received.isEmpty() || received.getLast().getSequence() < seq) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || end.isDone()) {
                    throw new AssertionError("subscriber got up to " + (received.isEmpty() ? "nothing"
                            : received.getLast().getSequence()) + ", wanted " + seq + "; end " + end.getNow(null));
                }
                received.wait(Math.max(1, Math.min(100, left / 1_000_000)));
            }
        }
    }

    /** Waits until at least {@code n} events arrived. */
    void awaitCount(int n, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (received) {
            while (received.size() < n) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || end.isDone()) {
                    throw new AssertionError("subscriber got " + received.size() + " of " + n + "; end "
                            + end.getNow(null));
                }
                received.wait(Math.max(1, Math.min(100, left / 1_000_000)));
            }
        }
    }

    /** Disconnects, as a subscriber process that goes away would. */
    void disconnect() {
        ClientCallStreamObserver<SubscribeRequest> c = call;
        if (c != null) {
            c.cancel("test disconnects", null);
        }
    }

    @Override
    public void close() {
        disconnect();
        channel.shutdownNow();
    }
}
