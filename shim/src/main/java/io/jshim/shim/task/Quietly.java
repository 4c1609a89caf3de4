package io.jshim.shim.task;

import io.jshim.shim.process.TaskProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Best-effort cleanup on paths that already answer with another error (or none): failures are logged at most. */
final class Quietly {
    private static final Logger log = LoggerFactory.getLogger(Quietly.class);

    private Quietly() {}

    static void kill(TaskProcess p) {
        try {
            p.signal(9);
        } catch (IOException ignored) {
            // already gone
        }
    }

    static void close(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            log.debug("close: {}", e.toString());
        }
    }

    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // best effort
        }
    }

    static void deleteTree(Path dir) {
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(Quietly::delete);
        } catch (IOException ignored) {
            // best effort
        }
    }
}
