package io.jshim.shim.metrics;

import io.jshim.proto.json.Json;
import io.jshim.shim.process.Container;
import io.jshim.shim.process.ExecProcess;
import io.jshim.shim.process.Pod;
import io.jshim.shim.process.TaskProcess;
import io.jshim.stdio.StdioTally;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;

/**
 * The containers' series: counts by state for the daemon, and per container only what is that container's own
 * (its state with its pod, its processes by state, its stdio bytes and copy errors, its OOM kills), so a daemon's
 * series grow by a handful per container.
 */
final class ContainerSeries {
    /** The states a process is counted in: pausing and paused apart, deleted as stopped (as the Task API says). */
    private static final List<String> STATES = List.of("created", "running", "pausing", "paused", "stopped");

    private ContainerSeries() {}

    static void write(PromText p, List<Container> containers) {
        containers = containers.stream().sorted(java.util.Comparator.comparing(Container::id)).toList();
        long[] byState = new long[STATES.size()];
        long[] processesByState = new long[STATES.size()];
        for (Container c : containers) {
            byState[state(c.init())]++;
            processesByState[state(c.init())]++;
            for (ExecProcess e : c.execs()) {
                processesByState[state(e)]++;
            }
        }
        p.family("jshim_containers", "gauge", "Containers this daemon holds, by state of their init.");
        for (int s = 0; s < STATES.size(); s++) {
            p.sample("jshim_containers", byState[s], "state", STATES.get(s));
        }
        p.family("jshim_processes", "gauge", "Processes (inits and execs) this daemon holds, by state.");
        for (int s = 0; s < STATES.size(); s++) {
            p.sample("jshim_processes", processesByState[s], "state", STATES.get(s));
        }
        p.family("jshim_container_state", "gauge", "1 for each container, labelled with its state and its pod "
                + "(CRI annotations; empty outside Kubernetes).");
        for (Container c : containers) {
            Pod pod = pod(c);
            p.sample("jshim_container_state", 1, "container_id", c.id(), "state", STATES.get(state(c.init())),
                    "pod_namespace", pod.namespace(), "pod_name", pod.name());
        }
        p.family("jshim_container_processes", "gauge", "A container's processes (its init and execs), by state.");
        for (Container c : containers) {
            int[] counts = new int[STATES.size()];
            counts[state(c.init())]++;
            for (ExecProcess e : c.execs()) {
                counts[state(e)]++;
            }
            for (int s = 0; s < STATES.size(); s++) {
                if (counts[s] > 0) {
                    p.sample("jshim_container_processes", counts[s], "container_id", c.id(), "state", STATES.get(s));
                }
            }
        }
        p.family("jshim_stdio_bytes_total", "counter", "Bytes the shim delivered for a container's processes, by "
                + "stream (a terminal's output is stdout).");
        for (Container c : containers) {
            StdioTally t = c.stdioTally();
            for (int s = 0; s < StdioTally.STREAMS.size(); s++) {
                p.sample("jshim_stdio_bytes_total", t.bytes(s), "container_id", c.id(), "stream",
                        StdioTally.STREAMS.get(s));
            }
        }
        p.family("jshim_stdio_copy_errors_total", "counter", "A container's stdio copiers that met an error (read "
                + "failed, output not writable).");
        for (Container c : containers) {
            p.sample("jshim_stdio_copy_errors_total", c.stdioTally().errors(), "container_id", c.id());
        }
        p.family("jshim_oom_kills_total", "counter", "OOM kills seen in a container's cgroup (TaskOOM events).");
        for (Container c : containers) {
            p.sample("jshim_oom_kills_total", c.oomKills(), "container_id", c.id());
        }
    }

    private static int state(TaskProcess p) {
        return switch (p.status()) {
            case CREATED, CREATED_CHECKPOINT -> 0;
            case RUNNING -> 1;
            case PAUSING -> 2;
            case PAUSED -> 3;
            case STOPPED, DELETED -> 4;
        };
    }

    /** The container's pod, read from its config.json once (the bundle does not change). */
    static Pod pod(Container c) {
        Pod pod = c.pod();
        if (pod == null) {
            pod = readPod(c);
            c.setPod(pod);
        }
        return pod;
    }

    private static Pod readPod(Container c) {
        try {
            Map<String, Object> spec = Json.object(Json.parse(Files.readString(c.bundle().resolve("config.json"))));
            Object annotations = spec.get("annotations");
            if (!(annotations instanceof Map<?, ?> a)) {
                return Pod.NONE;
            }
            return new Pod(text(a.get(Pod.NAME_ANNOTATION)), text(a.get(Pod.NAMESPACE_ANNOTATION)));
        } catch (IOException | RuntimeException e) {
            return Pod.NONE;
        }
    }

    private static String text(Object o) {
        return o instanceof String s ? s : "";
    }
}
