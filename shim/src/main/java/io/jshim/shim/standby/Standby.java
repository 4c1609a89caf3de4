package io.jshim.shim.standby;

import io.jshim.reaper.Posix;
import io.jshim.reaper.ProcessEnvironment;
import io.jshim.shim.cli.CompilerPriority;
import io.jshim.shim.cli.Daemon;
import io.jshim.shim.cli.Flags;
import io.jshim.shim.cli.LogSetup;
import io.jshim.shim.cli.Training;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * A warm standby ({@code ... standby CONTROL CONTAINERD_PID}): a jshim JVM that booted and ran the daemon's
 * training path on itself while no pod waited, then waits on its control socket for one handover from a cold
 * {@code start} and becomes that group's daemon (a {@link Daemon} on the start's own socket). It exits, unadopted,
 * when its containerd is gone or after its idle limit.
 */
public final class Standby {
    private static final Logger log = LoggerFactory.getLogger(Standby.class);
    private static final long CHECK_MS = 1_000;

    private final StandbySettings settings;
    private final BlockingQueue<ControlServer.Request> requests = new LinkedBlockingQueue<>();
    private volatile boolean stopped;

    private Standby(StandbySettings settings) {
        this.settings = settings;
    }

    public static int run(Flags flags) throws Exception {
        StandbySettings settings = StandbySettings.of(flags, System.getenv());
        LogSetup.toStderr(settings.debug());
        return new Standby(settings).serve();
    }

    private int serve() throws Exception {
        long t0 = System.nanoTime();
        String containerdStart = ContainerdProcess.startTime(settings.containerdPid());
        if (containerdStart == null) {
            log.info("standby: containerd (pid {}) is gone before boot; exiting", settings.containerdPid());
            // the launcher locked <key>.lock for this boot (fd 8, inherited): its files go with it, as below
            Files.deleteIfExists(settings.lock());
            Files.deleteIfExists(logFile());
            return 0;
        }
        int lockFd = heldFd(settings.lock());
        train();
        Scheduling.normal(); // booted at SCHED_IDLE; from now on it waits without CPU, and adopts at full speed
        CompilerPriority.restore();
        Signal.handle(new Signal("TERM"), s -> stopped = true);
        Signal.handle(new Signal("INT"), s -> stopped = true);
        ControlServer server = ControlServer.bind(settings.control(), requests);
        log.info("standby: ready on {} for containerd {} after {} ms (pid {}, idle limit {} s)", settings.control(),
                settings.address(), (System.nanoTime() - t0) / 1_000_000, Posix.getpid(), settings.idle().toSeconds());
        long idleDeadline = System.nanoTime() + settings.idle().toNanos();
        while (true) {
            ControlServer.Request request = requests.poll(CHECK_MS, TimeUnit.MILLISECONDS);
            if (request == null) {
                String why = stopped ? "stopped by a signal"
                        : !containerdStart.equals(ContainerdProcess.startTime(settings.containerdPid()))
                        ? "its containerd (pid " + settings.containerdPid() + ") is gone"
                        : System.nanoTime() > idleDeadline ? "idle for " + settings.idle().toSeconds() + " s" : null;
                if (why != null) {
                    log.info("standby: exiting unadopted, {}", why);
                    server.close();
                    Files.deleteIfExists(settings.lock());
                    Files.deleteIfExists(logFile());
                    return 0;
                }
                continue;
            }
            Adoption adoption = prepare(request);
            if (adoption == null) {
                continue;
            }
            // nothing of the standby stays open: its control socket, the boot lock, the boot log (as stderr)
            server.close(request);
            Posix.close(lockFd);
            refuseWaiting();
            int socketFd = adoption.commit();
            Files.deleteIfExists(logFile());
            request.answer("adopted " + Posix.getpid());
            return adopted(adoption.handover(), socketFd);
        }
    }

    /** The checks and the taking of the socket; null (and a refusal answered and logged) if they fail. */
    private Adoption prepare(ControlServer.Request request) {
        try {
            Handover h = Handover.parse(request.message());
            return Adoption.prepare(h, request.peerPid(), settings.address());
        } catch (Handover.MalformedException e) {
            log.warn("standby: malformed handover from pid {}: {}; not adopted", request.peerPid(), e.getMessage());
            request.answer("refused malformed handover");
        } catch (Adoption.Refused e) {
            log.warn("standby: handover from pid {} refused: {}; not adopted", request.peerPid(), e.getMessage());
            request.answer("refused " + e.getMessage().replace('\n', ' '));
        }
        return null;
    }

    /** Starts that raced for this standby and lost: they boot their own daemon. */
    private void refuseWaiting() {
        List<ControlServer.Request> late = new ArrayList<>();
        requests.drainTo(late);
        for (ControlServer.Request r : late) {
            r.answer("refused adopted by another start");
        }
    }

    private static int adopted(Handover h, int socketFd) throws Exception {
        List<String> argv = new ArrayList<>(List.of("-namespace", h.namespace(), "-address", h.address(),
                "-publish-binary", h.publishBinary(), "-id", h.id()));
        if (h.debug()) {
            argv.add("-debug");
        }
        return new Daemon(Flags.parse(argv.toArray(String[]::new)), h.bundle(), socketFd).run();
    }

    /**
     * The daemon's training (io.jshim.shim.cli.Training) on this JVM, so the pod's first requests find its code
     * loaded and compiled. It must not reach the containerd this standby serves: its events go to the training's
     * own event service, so the containerd addresses and namespace are out of the environment meanwhile.
     */
    private void train() throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.keySet().removeAll(List.of("TTRPC_ADDRESS", "GRPC_ADDRESS", "NAMESPACE", "JSHIM_SOCKET"));
        ProcessEnvironment.adopt(env);
        Path dir = settings.control().resolveSibling("train-" + Posix.getpid());
        Training.trainDaemon(dir);
        ProcessEnvironment.adopt(System.getenv());
    }

    private Path logFile() {
        String name = settings.lock().getFileName().toString();
        return settings.lock().resolveSibling(name.substring(0, name.length() - ".lock".length()) + ".log");
    }

    /** Our fd on {@code file} (the launcher's lock, held by this standby until it is adopted or exits); -1 if none. */
    private static int heldFd(Path file) throws IOException {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    if (Files.readSymbolicLink(fd).equals(file)) {
                        return Integer.parseInt(fd.getFileName().toString());
                    }
                } catch (IOException closedMeanwhile) {
                    // the listing's own fd
                }
            }
        }
        return -1;
    }
}
