package io.jshim.shim.exporter;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One daemon's entry in the node's register of serving jshim daemons, read by the exporter ({@link Discovery}): a
 * file {@code <pid>} under {@link #DIR} with its socket, namespace, containerd address and /proc start time (so
 * that a reused pid is told apart). A daemon registers once it serves (cold or adopted, never while a standby) and
 * removes its file at exit; a killed daemon's file is removed by the exporter. This class is all the daemon loads
 * of the exporter, and it registers a second after listening, off the cold start's way ({@code Daemon}).
 */
public final class DaemonRegistry {
    private static final Logger log = LoggerFactory.getLogger(DaemonRegistry.class);
    public static final Path DIR = Path.of("/run/jshim/daemons");

    private final Path dir;
    private final int pid;
    private final Path socket;
    private final String namespace;
    private final String containerdAddress;
    /** {@code ttrpc} or {@code grpc}: how the daemon serves, so how the exporter asks it. */
    private final String protocol;
    /** The file written; guarded by this. */
    private Path written;
    /** Set by {@link #remove}: a registration that comes later writes nothing. Guarded by this. */
    private boolean removed;

    public DaemonRegistry(Path dir, int pid, Path socket, String namespace, String containerdAddress,
            String protocol) {
        this.dir = dir;
        this.pid = pid;
        this.socket = socket;
        this.namespace = namespace;
        this.containerdAddress = containerdAddress;
        this.protocol = protocol;
    }

    /** Registers (once), unless {@link #remove} came first; a failure is logged, the daemon serves on. */
    public synchronized void register() {
        if (removed || written != null) {
            return;
        }
        long t0 = System.nanoTime();
        try {
            written = write(dir, pid, socket, namespace, containerdAddress, protocol);
            log.debug("registered for the exporter in {}: {} µs", written, (System.nanoTime() - t0) / 1000);
        } catch (IOException | RuntimeException e) {
            log.warn("not registered for the exporter: {}", e.toString());
        }
    }

    /** At exit: removes the file (named by our pid, so ours while we live) and stops a later registration. */
    public synchronized void remove() {
        removed = true;
        if (written != null) {
            try {
                Files.deleteIfExists(written);
            } catch (IOException e) {
                log.warn("cannot remove {}: {}", written, e.toString());
            }
        }
    }

    /** Writes a registration in {@code dir} atomically (temp file, then rename; mode 0600); returns the file. */
    static Path write(Path dir, int pid, Path socket, String namespace, String containerdAddress, String protocol)
            throws IOException {
        String text = "pid=" + pid + "\nstart_time=" + startTime(pid) + "\nsocket=" + socket + "\nnamespace="
                + namespace + "\ncontainerd_address=" + containerdAddress + "\nprotocol=" + protocol + "\n";
        if ((socket + namespace + containerdAddress + protocol).indexOf('\n') >= 0) {
            throw new IOException("a line break in a registration value: " + text);
        }
        Files.createDirectories(dir);
        Path file = dir.resolve(Integer.toString(pid));
        Path temp = dir.resolve("." + pid + ".tmp");
        Files.deleteIfExists(temp);
        Files.createFile(temp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(temp, text.getBytes(StandardCharsets.UTF_8));
        Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return file;
    }

    /** Field 22 of /proc/PID/stat: the process's start time in clock ticks since boot (proc(5)). */
    static long startTime(int pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        // after the comm field (which may hold spaces and ')'): field 3, state, onwards; start time is field 22
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        try {
            return Long.parseLong(f[22 - 3]);
        } catch (RuntimeException e) {
            throw new IOException("unreadable /proc/" + pid + "/stat: " + stat, e);
        }
    }
}
