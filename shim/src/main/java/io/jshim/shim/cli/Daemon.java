package io.jshim.shim.cli;

import io.jshim.cgroups.OomWatcher;
import io.jshim.events.ContainerdForwarder;
import io.jshim.events.EventQueue;
import io.jshim.events.TtrpcEventTransport;
import io.jshim.reaper.Posix;
import io.jshim.reaper.ProcessEnvironment;
import io.jshim.reaper.Reaper;
import io.jshim.shim.face.Protocol;
import io.jshim.shim.face.TaskServer;
import io.jshim.shim.face.TtrpcTaskServer;
import io.jshim.shim.task.IdleExit;
import io.jshim.shim.task.TaskService;
import io.jshim.ttrpc.Timers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * The long-lived shim process: child subreaper with its reaper thread, the Task API over ttrpc on the socket
 * {@code start} handed over as fd 3, and the event forwarder to containerd. Runs until a Shutdown finds no
 * container left, or SIGTERM/SIGINT.
 */
public final class Daemon {
    private static final Logger log = LoggerFactory.getLogger(Daemon.class);
    static final Path CONSOLE_SOCKET_DIR = Path.of("/run/jshim");
    static final int LISTENER_FD = 3;
    /** Set to 1 in the shim's environment: a ttrpc shim also serves jshim.events.v1.Events on {@code <socket>.events}. */
    static final String EVENT_STREAM_ENV = "JSHIM_EVENT_STREAM";
    /** The fd (a pipe's write end) the launcher waits on: closed once the socket listens. */
    static final String READY_FD_ENV = "JSHIM_READY_FD";
    /** When the JIT compiler gets its normal priority back after listening (CompilerPriority). */
    private static final long COMPILER_BOOST_DELAY_MS = 1_000;
    private static final String EVENT_STREAM_ON = "1";

    private final Flags flags;
    private final Path bundle;
    /** The fd of the listening socket start handed over (fd 3 when it is a socket). */
    private final int listenerFd;

    Daemon(Flags flags, Path bundle) {
        this(flags, bundle, LISTENER_FD);
    }

    /** A daemon adopting {@code listenerFd}: the AOT training's, whose fd 3 is the JVM's own, or a standby's. */
    public Daemon(Flags flags, Path bundle, int listenerFd) {
        this.flags = flags;
        this.bundle = bundle;
        this.listenerFd = listenerFd;
    }

    public int run() throws Exception {
        long t0 = System.nanoTime();
        StartupTimeline timeline = StartupTimeline.sinceProcessStart();
        timeline.mark("jvm+main");
        logToFifo();
        timeline.mark("logging");
        String namespace = flags.get("namespace");
        if (namespace.isEmpty()) {
            throw new IllegalArgumentException("shim namespace cannot be empty");
        }
        // Start-up costs that do not depend on each other run side by side while this thread goes on to the
        // forwarder and the task service: the reaper (subreaper, its thread) and the OOM watcher (epoll set,
        // eventfd), first needed when a container starts. (Warming up more on another thread was measured: no gain,
        // the two cores are busy.)
        CompletableFuture<Reaper> reaperReady = CompletableFuture.supplyAsync(Reaper::get, Daemon::startupThread);
        CompletableFuture<OomWatcher> oomReady = CompletableFuture.supplyAsync(OomWatcher::new, Daemon::startupThread)
                .exceptionally(Daemon::noOomWatcher);
        // the daemon's delays (stuck waits, idle exit, the registration below): its thread runs only while one is due
        ScheduledExecutorService timer = Timers.shared();
        Reaper reaper = reaperReady.join();
        timeline.mark("reaper");
        EventQueue queue = new EventQueue(namespace);
        String ttrpcAddress = ProcessEnvironment.get("TTRPC_ADDRESS");
        if (ttrpcAddress == null || ttrpcAddress.isEmpty()) {
            ttrpcAddress = flags.get("address") + ".ttrpc";
        }
        ContainerdForwarder forwarder = new ContainerdForwarder(queue,
                new TtrpcEventTransport(TtrpcEventTransport.socketOf(ttrpcAddress)))
                // an event whose forward failed is a wait on containerd until delivered (logged once if stuck)
                .watchRetries(e -> io.jshim.shim.Waits.begin(io.jshim.shim.Waits.Kind.FORWARD, e.topic(),
                        e.containerId()))
                .start();
        timeline.mark("forwarder");
        Files.createDirectories(CONSOLE_SOCKET_DIR);
        CountDownLatch shutdown = new CountDownLatch(1);
        TaskService tasks = new TaskService(namespace, reaper, queue::publish, oomReady::join,
                CONSOLE_SOCKET_DIR, shutdown::countDown);
        // gRPC classes load only on the grpc branch (io.jshim.shim.grpc): a ttrpc shim never touches them.
        boolean grpc = Protocol.fromEnvironment() == Protocol.GRPC;
        // A ttrpc shim serves the event stream only when asked: it is the one thing that would load gRPC.
        // Made before listening, so that the stream holds every event from the first request on.
        TaskServer eventStream = !grpc && EVENT_STREAM_ON.equals(ProcessEnvironment.get(EVENT_STREAM_ENV))
                ? io.jshim.shim.grpc.GrpcShimServer.eventsOnly(queue) : null;
        TaskServer server = grpc
                ? io.jshim.shim.grpc.GrpcShimServer.forDaemon(tasks, queue, forwarder)
                : new TtrpcTaskServer(tasks, queue, forwarder, eventStream == null ? null
                        : () -> ((io.jshim.shim.grpc.GrpcShimServer) eventStream).hub());
        stuckRuncCalls(timer);
        timeline.mark("task service+server");
        Path socket = listen(server);
        timeline.mark("listening");
        signalReady();
        // known from now on by its inode (while this daemon listens, a start of the group joins it, never rebinds)
        OwnSocket own = socket == null ? null : OwnSocket.at(socket);
        GroupStartLock.release(socket);
        // for the node's exporter; a second after listening, like the compiler's priority: off a cold start's way
        io.jshim.shim.exporter.DaemonRegistry registry = socket == null ? null
                : new io.jshim.shim.exporter.DaemonRegistry(io.jshim.shim.exporter.DaemonRegistry.DIR,
                        Posix.getpid(), socket, namespace, flags.get("address"), grpc ? "grpc" : "ttrpc");
        if (registry != null) {
            timer.schedule(() -> Thread.ofVirtual().name("jshim-register").start(registry::register),
                    COMPILER_BOOST_DELAY_MS, TimeUnit.MILLISECONDS);
        }
        // by then a cold container's Create, Start and Delete are over (~200 ms after listening); it reads /proc,
        // so on a virtual thread of its own rather than on the timer's
        timer.schedule(() -> Thread.ofVirtual().name("jshim-compiler-priority").start(CompilerPriority::restore),
                COMPILER_BOOST_DELAY_MS, TimeUnit.MILLISECONDS);
        OwnSocket eventSocket = eventStream == null ? null : OwnSocket.at(bindEventStream(eventStream, socket));
        // a daemon holding no container exits by itself, once containerd stops using it (IdleExit)
        IdleExit.fromEnvironment(System.getenv(IdleExit.ENV), timer).ifPresent(tasks::exitWhenIdle);
        Signal.handle(new Signal("TERM"), s -> shutdown.countDown());
        Signal.handle(new Signal("INT"), s -> shutdown.countDown());
        log.info("jshim {} serving {} (namespace {}, pid {}) after {} ms", Main.VERSION, socket, namespace,
                Posix.getpid(), (System.nanoTime() - t0) / 1_000_000);
        log.debug("start-up timeline: {}{}", ProcessEnvironment.current().getOrDefault("JSHIM_START_TIMELINE", ""),
                timeline.summary());

        shutdown.await();
        log.info("shutting down ({} containers left)", tasks.containerCount());
        if (registry != null) {
            registry.remove();
        }
        server.shutdown(Duration.ofSeconds(2)).get();
        if (own != null && !own.removeIfOurs()) {
            log.info("{} is another shim's socket now: left in place", socket);
        }
        if (eventStream != null) {
            eventStream.shutdown(Duration.ofSeconds(1)).get();
            eventSocket.removeIfOurs();
        }
        forwarder.drainAndStop(Duration.ofSeconds(5));
        tasks.close();
        OomWatcher oom = oomReady.join();
        if (oom != null) {
            oom.close(); // its epoll set and eventfd: a standby lives on after its training's daemon
        }
        return 0;
    }

    /**
     * Seconds after which a runc call, an output drain at an exit or an event forward being retried is logged as
     * stuck: {@code JSHIM_RUNC_STUCK_SECONDS}, 0 for never.
     */
    static final String RUNC_STUCK_ENV = "JSHIM_RUNC_STUCK_SECONDS";
    private static final int RUNC_STUCK_DEFAULT_SECONDS = 30;

    private static void stuckRuncCalls(ScheduledExecutorService timer) {
        String value = ProcessEnvironment.get(RUNC_STUCK_ENV);
        int seconds = RUNC_STUCK_DEFAULT_SECONDS;
        if (value != null && !value.isBlank()) {
            try {
                seconds = Integer.parseInt(value.trim());
            } catch (NumberFormatException e) {
                log.warn("{}={}: not a number of seconds, using {}", RUNC_STUCK_ENV, value, seconds);
            }
        }
        if (seconds > 0) {
            io.jshim.shim.Waits.watch(timer, Duration.ofSeconds(seconds));
        }
    }

    /**
     * Closes the fd named by {@code JSHIM_READY_FD}: the launcher's cold start waits for that pipe's end-of-file
     * instead of polling for the socket while this JVM boots on the same cores (scripts/launcher.sh).
     */
    private static void signalReady() {
        String fd = ProcessEnvironment.get(READY_FD_ENV);
        if (isFdAbove2(fd)) {
            Posix.close(Integer.parseInt(fd));
        }
    }

    /** Whether {@code text} is a decimal fd above 2 without leading zeros ([3-9]|[1-9][0-9]+, without a regex). */
    static boolean isFdAbove2(String text) {
        if (text == null || text.isEmpty() || text.charAt(0) == '0') {
            return false;
        }
        for (int i = 0; i < text.length(); i++) {
            if (text.charAt(i) < '0' || text.charAt(i) > '9') {
                return false;
            }
        }
        return text.length() > 1 || text.charAt(0) >= '3';
    }

    private static void startupThread(Runnable work) {
        Thread.ofPlatform().name("jshim-startup").daemon(true).start(work);
    }

    /** Said once, when the kernel refused the OOM watcher its epoll set or eventfd: containers run without it. */
    private static OomWatcher noOomWatcher(Throwable failure) {
        log.warn("no OOM watcher, TaskOOM events unavailable: {}", failure.toString());
        return null;
    }

    /** {@code <shim socket>.events}: the gRPC event stream of a ttrpc shim, same-user peers only. */
    private static Path bindEventStream(TaskServer eventStream, Path socket) throws IOException {
        if (socket == null) {
            throw new IllegalStateException(EVENT_STREAM_ENV + " needs the shim's socket path (JSHIM_SOCKET or -socket)");
        }
        Path path = Path.of(socket + ".events");
        Files.deleteIfExists(path); // left by a shim of this group that was killed
        eventStream.bind(path);
        log.info("event stream on unix://{}", path);
        return path;
    }

    /** Adopts the listening socket {@code start} passed as fd 3; binds one itself when run by hand. */
    private Path listen(TaskServer server) throws IOException {
        Path path = socketPath();
        if (Files.isSymbolicLink(Path.of("/proc/self/fd/" + listenerFd))
                && Files.readSymbolicLink(Path.of("/proc/self/fd/" + listenerFd)).toString().startsWith("socket:")) {
            server.adopt(listenerFd, path);
            return path;
        }
        if (path == null) {
            throw new IllegalStateException("no listening socket on fd 3 and no -socket given");
        }
        server.bind(path);
        return path;
    }

    /** The socket's path: {@code -socket}, else {@code JSHIM_SOCKET} (set by start); null when neither names it. */
    private Path socketPath() {
        String socket = flags.get("socket");
        if (socket.isEmpty()) {
            socket = ProcessEnvironment.get("JSHIM_SOCKET");
        }
        return socket == null || socket.isEmpty() ? null : ShimAddress.socketPath(socket);
    }

    /** Sends stderr (and so the log) into the bundle's {@code log} fifo, which containerd reads. */
    private void logToFifo() {
        Path fifo = bundle.resolve("log");
        // The launcher's cold start hands the fifo over as stderr already; then UnixListener and the libc calls it
        // links are never loaded by the daemon (docs/performance.md).
        if (Posix.isFifo(fifo.toString()) && !LogSetup.isStderr(fifo)) {
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
