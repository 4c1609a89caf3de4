package io.jshim.test;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.jshim.reaper.Child;
import io.jshim.reaper.Posix;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code ctr events} running in the background, its lines parsed into (topic, payload). */
public final class CtrEvents implements AutoCloseable {
    /** One line of {@code ctr events}: "date time zone UTC namespace topic {json}". */
    public record Line(String namespace, String topic, JsonObject payload) {
        public String containerId() {
            return payload.has("container_id") ? payload.get("container_id").getAsString() : "";
        }

        public String id() {
            return payload.has("id") ? payload.get("id").getAsString() : "";
        }

        /** exit_status, 0 when absent (omitted when zero). */
        public int exitStatus() {
            return payload.has("exit_status") ? payload.get("exit_status").getAsInt() : 0;
        }
    }

    private final Path out;
    private final Child child;

    private CtrEvents(Path out, Child child) {
        this.out = out;
        this.child = child;
    }

    /** Starts {@code ctr events} and waits until it is subscribed (it prints nothing until then, so a probe
     * event is not available: a short pause after it is running is what ctr allows). */
    public static CtrEvents start(PrivateContainerd containerd, Path out) throws Exception {
        CtrEvents e = new CtrEvents(out, containerd.ctrBackground(out, "events"));
        Thread.sleep(500);
        return e;
    }

    public List<Line> lines() throws IOException {
        return parse(out);
    }

    /** The lines of a file {@code ctr events} wrote. */
    public static List<Line> parse(Path out) throws IOException {
        List<Line> lines = new ArrayList<>();
        for (String l : Files.readAllLines(out)) {
            int brace = l.indexOf('{');
            if (brace < 0) {
                continue;
            }
            String[] words = l.substring(0, brace).trim().split("\\s+");
            if (words.length < 2) {
                continue;
            }
            try {
                lines.add(new Line(words[words.length - 2], words[words.length - 1],
                        JsonParser.parseString(l.substring(brace)).getAsJsonObject()));
            } catch (RuntimeException partial) {
                // a line still being written
            }
        }
        return lines;
    }

    /** Lines about container {@code id}. */
    public List<Line> of(String id) throws IOException {
        return lines().stream().filter(l -> l.containerId().equals(id)).toList();
    }

    @Override
    public void close() throws Exception {
        try {
            Posix.kill(child.pid(), 9);
        } catch (IOException gone) {
            // exited
        }
        child.onExit().get();
    }
}
