package io.jshim.shim.face;

import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.TtrpcServer;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** The Task API over ttrpc as a {@link TaskServer}. */
public final class TtrpcTaskServer implements TaskServer {
    private final TtrpcServer server;

    public TtrpcTaskServer(EventLoopGroup loop, TaskService tasks) {
        this.server = TtrpcTaskFace.register(TtrpcServer.builder().eventLoopGroup(loop), tasks).build();
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
