package io.jshim.shim.face;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** The shim's server on its socket, whatever it speaks: what the daemon needs to listen and to stop. */
public interface TaskServer {
    /** Creates the socket at {@code socket} (0600) and serves it. */
    void bind(Path socket) throws IOException;

    /** Serves the already-listening socket {@code fd} (handed over by {@code start}); {@code socket} is its path. */
    void adopt(int fd, Path socket) throws IOException;

    /** Stops taking calls, lets those in flight finish for up to {@code grace}, then closes. */
    CompletableFuture<Void> shutdown(Duration grace);
}
