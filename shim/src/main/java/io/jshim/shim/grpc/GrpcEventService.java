package io.jshim.shim.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import io.jshim.events.Event;
import io.jshim.events.EventHub;
import io.jshim.events.EventSubscription;
import io.jshim.events.FellBehindException;
import io.jshim.events.ReplayUnavailableException;
import io.jshim.proto.stream.StreamedEvent;
import io.jshim.proto.stream.SubscribeRequest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code jshim.events.v1.Events/Subscribe}: every event the shim publishes, from the {@link EventHub}. One
 * dispatcher thread feeds all subscribers and respects gRPC flow control (it never queues more than a
 * subscriber's transport will take), so a slow subscriber only lags; past its buffer it is cut off with
 * RESOURCE_EXHAUSTED and the sequence to resume after.
 */
public final class GrpcEventService {
    private static final Logger log = LoggerFactory.getLogger(GrpcEventService.class);
    public static final String SERVICE = "jshim.events.v1.Events";
    public static final MethodDescriptor<SubscribeRequest, StreamedEvent> SUBSCRIBE =
            MethodDescriptor.<SubscribeRequest, StreamedEvent>newBuilder()
                    .setType(MethodDescriptor.MethodType.SERVER_STREAMING)
                    .setFullMethodName(MethodDescriptor.generateFullMethodName(SERVICE, "Subscribe"))
                    .setRequestMarshaller(ProtoMarshaller.of(SubscribeRequest.getDefaultInstance()))
                    .setResponseMarshaller(ProtoMarshaller.of(StreamedEvent.getDefaultInstance()))
                    .build();
    /** Trailer of a cut-off subscriber's status: the sequence to resubscribe after. */
    public static final Metadata.Key<String> LAST_SEQUENCE =
            Metadata.Key.of("jshim-last-sequence", Metadata.ASCII_STRING_MARSHALLER);
    private static final int BATCH = 256;
    private static final int CACHE = 1024;

    private final EventHub hub;
    /** Each event's message built once, whatever the number of subscribers; slot seq % CACHE. */
    private final AtomicReferenceArray<StreamedEvent> built = new AtomicReferenceArray<>(CACHE);
    private final List<Pump> pumps = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Started with the first subscriber. Guarded by {@link #pumps} for the start. */
    private volatile Thread dispatcher;

    public GrpcEventService(EventHub hub) {
        this.hub = hub;
    }

    public ServerServiceDefinition definition() {
        return ServerServiceDefinition.builder(SERVICE)
                .addMethod(SUBSCRIBE, ServerCalls.asyncServerStreamingCall(this::subscribe))
                .build();
    }

    private void subscribe(SubscribeRequest request, StreamObserver<StreamedEvent> observer) {
        ServerCallStreamObserver<StreamedEvent> out = (ServerCallStreamObserver<StreamedEvent>) observer;
        EventSubscription sub;
        try {
            sub = hub.subscribe(request.hasAfterSequence() ? OptionalLong.of(request.getAfterSequence())
                    : OptionalLong.empty());
        } catch (ReplayUnavailableException e) {
            out.onError(Status.OUT_OF_RANGE.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        Pump pump = new Pump(sub, out);
        out.setOnReadyHandler(this::wake);
        out.setOnCancelHandler(() -> {
            pump.cancelled = true;
            wake();
        });
        pumps.add(pump);
        startDispatcher();
        wake();
    }

    private void startDispatcher() {
        synchronized (pumps) {
            if (dispatcher == null) {
                dispatcher = Thread.ofPlatform().name("jshim-subscribers").daemon(true).start(this::dispatch);
                hub.onPublish(this::wake);
            }
        }
    }

    private void wake() {
        Thread t = dispatcher;
        if (t != null) {
            LockSupport.unpark(t);
        }
    }

    /**
     * The one thread that feeds every subscriber: a pass gives each ready subscriber up to a batch, then it
     * sleeps until an event, a subscriber's readiness or a cancellation wakes it. One thread whatever the number
     * of subscribers, so they share one core's slice rather than crowd the forwarder and the exit path.
     */
    private void dispatch() {
        while (true) {
            boolean progress = false;
            for (Pump p : pumps) {
                progress |= p.pump();
                if (p.done) {
                    pumps.remove(p);
                }
            }
            if (!progress) {
                LockSupport.parkNanos(this, TimeUnit.SECONDS.toNanos(1));
            }
        }
    }

    private StreamedEvent message(Event e) {
        int slot = (int) (e.sequence() % CACHE);
        StreamedEvent m = built.get(slot);
        if (m == null || m.getSequence() != e.sequence()) {
            m = StreamedEvent.newBuilder()
                    .setSequence(e.sequence())
                    .setTimestamp(Event.toTimestamp(e.timestamp()))
                    .setNamespace(e.namespace())
                    .setTopic(e.topic())
                    .setEvent(e.payload())
                    .build();
            built.set(slot, m);
        }
        return m;
    }

    /** One subscriber's stream; touched only by the dispatcher thread (but {@link #cancelled}). */
    private final class Pump {
        private final EventSubscription sub;
        private final ServerCallStreamObserver<StreamedEvent> out;
        volatile boolean cancelled;
        boolean done;
        /** Handed out by the subscription, not yet given to gRPC (it was not ready). */
        private final ArrayDeque<Event> pending = new ArrayDeque<>();
        /** Sequence of the last event given to gRPC: what the client resumes after if it got all it was sent. */
        private long lastSent;

        Pump(EventSubscription sub, ServerCallStreamObserver<StreamedEvent> out) {
            this.sub = sub;
            this.out = out;
            this.lastSent = sub.lastSequence();
        }

        /** Sends what it can without waiting; true if it sent anything. */
        boolean pump() {
            if (done) {
                return false;
            }
            if (cancelled) {
                finish();
                return false;
            }
            int sent = 0;
            try {
                while (sent < BATCH && out.isReady()) {
                    if (pending.isEmpty()) {
                        List<Event> more = sub.next(BATCH, Duration.ZERO);
                        if (more.isEmpty()) {
                            if (sub.isClosed()) {
                                out.onCompleted(); // the shim is shutting down
                                finish();
                            }
                            break;
                        }
                        pending.addAll(more);
                    }
                    Event e = pending.pollFirst();
                    out.onNext(message(e));
                    lastSent = e.sequence();
                    sent++;
                }
                if (!done && sub.isCutOff()) {
                    throw new FellBehindException(lastSent, hub.subscriberBuffer());
                }
            } catch (FellBehindException e) {
                String why = "subscriber fell more than " + hub.subscriberBuffer() + " events behind and was cut off;"
                        + " resubscribe with after_sequence=" + lastSent + " to resume from the replay buffer";
                log.info("event {}", why);
                Metadata trailers = new Metadata();
                trailers.put(LAST_SEQUENCE, Long.toString(lastSent));
                try {
                    out.onError(Status.RESOURCE_EXHAUSTED.withDescription(why).asRuntimeException(trailers));
                } catch (StatusRuntimeException | IllegalStateException gone) {
                    // cancelled meanwhile
                }
                finish();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (StatusRuntimeException | IllegalStateException gone) {
                finish(); // the call was cancelled between isReady and onNext
            }
            return sent > 0;
        }

        private void finish() {
            done = true;
            pending.clear();
            sub.close();
        }
    }
}
