package io.jshim.shim.exporter;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finds the node's live daemons in the registry directory: an entry whose pid is gone, a zombie, or another process
 * (its /proc start time differs) is a daemon that died without removing its file (SIGKILL), and is removed here.
 */
public record Discovery(Path dir) {
    private static final Logger log = LoggerFactory.getLogger(Discovery.class);

    /** The live daemons (by pid) and how many dead entries were removed. */
    public record Found(List<Target> targets, int removed) {}

    public Found discover() throws IOException {
        List<Target> live = new ArrayList<>();
        int removed = 0;
        List<Path> entries;
        try (Stream<Path> s = Files.list(dir)) {
            entries = s.toList();
        } catch (NoSuchFileException e) {
            return new Found(List.of(), 0); // no daemon has served on this node since boot
        }
        for (Path entry : entries) {
            String name = entry.getFileName().toString();
            if (!name.matches("[0-9]+")) {
                continue; // a daemon's temp file, being written
            }
            Optional<Target> target = read(entry);
            if (target.isEmpty()) {
                continue; // removed meanwhile, or not ours to judge
            }
            Target t = target.get();
            if (t.pid() == Integer.parseInt(name) && isAlive(t)) {
                live.add(t);
            } else if (removeIfUnchanged(entry, t)) {
                removed++;
                log.info("removed the registration of daemon pid {} (socket {}): it is gone", t.pid(), t.socket());
            }
        }
        live.sort(Comparator.comparingInt(Target::pid));
        return new Found(List.copyOf(live), removed);
    }

    private static Optional<Target> read(Path entry) {
        try {
            return Target.parse(Files.readString(entry));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** The pid runs, is no zombie, and started when the registration says. */
    static boolean isAlive(Target t) {
        try {
            String stat = Files.readString(Path.of("/proc/" + t.pid() + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return f[0].charAt(0) != 'Z' && f[0].charAt(0) != 'X' && Long.parseLong(f[22 - 3]) == t.startTime();
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Removes a dead daemon's entry unless a new daemon of the same pid registered since it was read (its file then
     * says another start time).
     */
    private static boolean removeIfUnchanged(Path entry, Target dead) {
        try {
            if (read(entry).filter(dead::equals).isPresent()) {
                return Files.deleteIfExists(entry);
            }
        } catch (IOException e) {
            log.warn("cannot remove {}: {}", entry, e.toString());
        }
        return false;
    }
}
