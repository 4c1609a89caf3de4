package io.jshim.shim.face;

import io.jshim.events.ContainerdForwarder;
import io.jshim.events.EventHub;
import io.jshim.events.EventQueue;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.TtrpcServer;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The Task API over ttrpc as a {@link TaskServer}, and beside it {@code jshim.metrics.v1.Metrics/Get} when given
 * the event queue (the same-user peer check covers both).
 */
public final class TtrpcTaskServer implements TaskServer {
    private final TtrpcServer server;

    public TtrpcTaskServer(TaskService tasks) {
        this(tasks, null, null, null);
    }

    /**
     * With the metrics service, read from {@code queue}, {@code forwarder} (null: none in this process) and the
     * event stream's hub ({@code hub} supplies null when none is served).
     */
    public TtrpcTaskServer(TaskService tasks, EventQueue queue, ContainerdForwarder forwarder,
            Supplier<EventHub> hub) {
        TtrpcServer.Builder b = TtrpcTaskFace.register(TtrpcServer.builder(), tasks);
        if (queue != null) {
            // Raw bytes and names spelled out: the metrics classes and messages load on the first Get, not at boot.
            b.register("jshim.metrics.v1.Metrics", "Get", (ctx, payload) -> io.jshim.shim.metrics.MetricsRpc.get(
                    new io.jshim.shim.metrics.DaemonMetrics(queue.namespace(), queue, forwarder, tasks::containers, hub),
                    payload));
        }
        this.server = b.build();
    }

    @Override
    public void bind(Path socket) throws IOException {
        server.bind(socket);
    }

    @Override
    public void adopt(int fd, Path socket) throws IOException {
        server.adopt(fd);
    }

    @Override
    public CompletableFuture<Void> shutdown(Duration grace) {
        return server.shutdown(grace);
    }
}
