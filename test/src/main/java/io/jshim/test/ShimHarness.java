package io.jshim.test;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.wire.ProtoParser;
import io.jshim.cgroups.OomWatcher;
import io.jshim.events.Event;
import io.jshim.events.EventQueue;
import io.jshim.reaper.Reaper;
import io.jshim.shim.face.TtrpcTaskFace;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcException;
import io.jshim.ttrpc.TtrpcServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.function.Predicate;

/**
 * The shim's Task service in the test JVM, served over real ttrpc on a unix socket, with a client that calls it
 * as containerd does. Every published event is recorded in order. Containers run under a runc root of the
 * harness's own, so cleanup never touches anyone else's.
 */
public final class ShimHarness implements AutoCloseable {
    public static final String NAMESPACE = "jshim-test";
    public static final String V2 = "containerd.task.v2.Task";

    private final Path dir;
    private final EventQueue queue = new EventQueue(NAMESPACE);
    /** Every event in publish order. Guarded by itself. */
    private final List<Event> events = new ArrayList<>();
    private final TaskService tasks;
    private final TtrpcServer server;
    private final TtrpcClient client;
    public final CountDownLatch shutdownRequested = new CountDownLatch(1);
    /** How many Shutdown calls found no container and asked the shim to exit. */
    public final java.util.concurrent.atomic.AtomicInteger shutdowns = new java.util.concurrent.atomic.AtomicInteger();

    public ShimHarness(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir.resolve("sockets"));
        queue.addObserver(e -> {
            synchronized (events) {
                events.add(e);
                events.notifyAll();
            }
        });
        tasks = new TaskService(NAMESPACE, Reaper.get(), queue::publish, new OomWatcher(), dir.resolve("sockets"),
                () -> {
                    shutdowns.incrementAndGet();
                    shutdownRequested.countDown();
                });
        Path socket = dir.resolve("shim.sock");
        server = TtrpcTaskFace.register(TtrpcServer.builder(), tasks).build()
                .bind(socket);
        client = TtrpcClient.connect(socket, Duration.ofSeconds(5));
    }

    /** The socket the Task service is served on. */
    public Path socket() {
        return dir.resolve("shim.sock");
    }

    /** The ttrpc server (connection and call counts). */
    public TtrpcServer server() {
        return server;
    }

    public TaskService tasks() {
        return tasks;
    }

    public Path dir() {
        return dir;
    }

    /** A unary Task call as containerd makes it (namespace in the ttrpc metadata). */
    public <R extends ProtoMessage> R call(String method, ProtoMessage request, ProtoParser<R> parser) throws TtrpcException {
        return client.call(V2, method, request, parser, Duration.ofSeconds(60),
                Map.of("containerd-namespace-ttrpc", NAMESPACE));
    }

    public List<Event> events() {
        synchronized (events) {
            return new ArrayList<>(events);
        }
    }

    /** Waits until an event matching {@code p} has been published, and returns it. */
    public Event awaitEvent(Predicate<Event> p, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (events) {
            while (true) {
                for (Event e : events) {
                    if (p.test(e)) {
                        return e;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("no matching event within " + timeout + "; events: " + topics());
                }
                events.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    public List<String> topics() {
        return events().stream().map(Event::topic).toList();
    }

    @Override
    public void close() {
        client.close();
        server.close();
        tasks.close();
    }
}
