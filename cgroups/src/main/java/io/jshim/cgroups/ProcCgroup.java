package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The lines of /proc/PID/cgroup: "hierarchy-id:controller,list:/path". */
record ProcCgroup(List<Entry> entries) {

    /** One hierarchy: id 0 with no controllers is the cgroup2 (unified) one. */
    record Entry(int hierarchyId, List<String> controllers, String path) {}

    static ProcCgroup read(int pid) throws IOException {
        return parse(Files.readAllLines(Path.of("/proc", Integer.toString(pid), "cgroup")));
    }

    static ProcCgroup parse(List<String> lines) {
        List<Entry> out = new ArrayList<>();
        for (String line : lines) {
            int first = line.indexOf(':');
            int second = first < 0 ? -1 : line.indexOf(':', first + 1);
            if (second < 0) {
                continue;
            }
            int id;
            try {
                id = Integer.parseInt(line.substring(0, first));
            } catch (NumberFormatException e) {
                continue;
            }
            String list = line.substring(first + 1, second);
            List<String> controllers = list.isEmpty() ? List.of() : Arrays.asList(list.split(","));
            out.add(new Entry(id, List.copyOf(controllers), line.substring(second + 1)));
        }
        return new ProcCgroup(List.copyOf(out));
    }

    Optional<String> unifiedPath() {
        for (Entry e : entries) { // a loop, not a stream: the daemon's boot runs this
            if (e.hierarchyId() == 0 && e.controllers().isEmpty()) {
                return Optional.of(e.path());
            }
        }
        return Optional.empty();
    }
}
