package io.jshim.shim.cli;

import io.jshim.cgroups.OomWatcher;
import io.jshim.events.ContainerdForwarder;
import io.jshim.events.EventQueue;
import io.jshim.events.TtrpcEventTransport;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.shim.face.TtrpcTaskFace;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.EventLoops;
import io.jshim.ttrpc.TtrpcServer;
import io.netty.channel.EventLoopGroup;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * The long-lived shim process: child subreaper with its reaper thread, the Task API over ttrpc on the socket
 * {@code start} handed over as fd 3, and the event forwarder to containerd. Runs until a Shutdown finds no
 * container left, or SIGTERM/SIGINT.
 */
final class Daemon {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    static final Path CONSOLE_SOCKET_DIR = Path.of("/run/jshim");
    static final int LISTENER_FD = 3;

    private final Flags flags;
    private final Path bundle;

    Daemon(Flags flags, Path bundle) {
        this.flags = flags;
        this.bundle = bundle;
    }

    int run() throws Exception {
        long t0 = System.nanoTime();
        logToFifo();
        String namespace = flags.get("namespace");
        if (namespace.isEmpty()) {
            throw new IllegalArgumentException("shim namespace cannot be empty");
        }
        Reaper reaper = Reaper.get();
        EventLoopGroup loop = EventLoops.shared();
        EventQueue queue = new EventQueue(namespace);
        String ttrpcAddress = System.getenv("TTRPC_ADDRESS");
        if (ttrpcAddress == null || ttrpcAddress.isEmpty()) {
            ttrpcAddress = flags.get("address") + ".ttrpc";
        }
        ContainerdForwarder forwarder = new ContainerdForwarder(queue,
                new TtrpcEventTransport(TtrpcEventTransport.socketOf(ttrpcAddress), loop)).start();
        Files.createDirectories(CONSOLE_SOCKET_DIR);
        CountDownLatch shutdown = new CountDownLatch(1);
        TaskService tasks = new TaskService(namespace, reaper, queue::publish, new OomWatcher(),
                CONSOLE_SOCKET_DIR, shutdown::countDown);
        TtrpcServer server = TtrpcTaskFace.register(TtrpcServer.builder().eventLoopGroup(loop), tasks).build();
        Path socket = listen(server);
        Signal.handle(new Signal("TERM"), s -> shutdown.countDown());
        Signal.handle(new Signal("INT"), s -> shutdown.countDown());
        log.info("jshim {} serving {} (namespace {}, pid {}) after {} ms", Main.VERSION, socket, namespace,
                Posix.getpid(), (System.nanoTime() - t0) / 1_000_000);

        shutdown.await();
        log.info("shutting down ({} containers left)", tasks.containerCount());
        server.shutdown(Duration.ofSeconds(2)).get();
        if (socket != null) {
            Files.deleteIfExists(socket);
        }
        forwarder.drainAndStop(Duration.ofSeconds(5));
        tasks.close();
        return 0;
    }

    /** Adopts the listening socket {@code start} passed as fd 3; binds one itself when run by hand. */
    private Path listen(TtrpcServer server) throws IOException {
        String handed = System.getenv("JSHIM_SOCKET");
        if (Files.isSymbolicLink(Path.of("/proc/self/fd/" + LISTENER_FD))
                && Files.readSymbolicLink(Path.of("/proc/self/fd/" + LISTENER_FD)).toString().startsWith("socket:")) {
            server.adopt(LISTENER_FD);
            return handed == null || handed.isEmpty() ? null : Path.of(handed);
        }
        String socket = flags.get("socket");
        if (socket.isEmpty()) {
            socket = handed;
        }
        if (socket == null || socket.isEmpty()) {
            throw new IllegalStateException("no listening socket on fd 3 and no -socket given");
        }
        Path path = ShimAddress.socketPath(socket);
        server.bind(path);
        return path;
    }

    /** Sends stderr (and so the log) into the bundle's {@code log} fifo, which containerd reads. */
    private void logToFifo() {
        Path fifo = bundle.resolve("log");
        if (Posix.isFifo(fifo.toString())) {
            try {
                int fd = Posix.open(fifo.toString(), Posix.O_WRONLY | Posix.O_CLOEXEC, 0);
                UnixListener.dup2(fd, 2);
                Posix.close(fd);
            } catch (IOException e) {
                // keep the inherited stderr
            }
        }
        LogSetup.toStderr(flags.is("debug"));
    }
}
