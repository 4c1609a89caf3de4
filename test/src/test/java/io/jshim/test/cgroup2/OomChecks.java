package io.jshim.test.cgroup2;

import io.jshim.test.CtrEvents;
import io.jshim.test.CtrTasks;
import io.jshim.test.PrivateContainerd;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The OOM checks of the guest: kills at memory.max (the container's or a parent's), none at memory.high. */
final class OomChecks extends GuestBase {

    OomChecks(PrivateContainerd containerd, Path rootfs, Path work) {
        super(containerd, rootfs, work);
    }

    /** Over memory.max: /tasks/oom before /tasks/exit 137, every time. */
    String oomRepeated() throws Exception {
        int rounds = Integer.getInteger("jshim.guest.oomRounds", 3);
        try (CtrEvents events = CtrEvents.start(containerd, work.resolve("events-oom.txt"))) {
            for (int i = 1; i <= rounds; i++) {
                String id = "oom-" + i;
                run(id, "--memory-limit", Long.toString(32 * MIB), "dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1");
                int status = CtrTasks.awaitStoppedAndDelete(containerd, id);
                containerd.ctrOk("container", "rm", id);
                require(status == 137, id + " exit 137, was " + status);
                List<String> topics = awaitTopics(events, id, "/tasks/delete");
                require(topics.equals(List.of("/tasks/create", "/tasks/start", "/tasks/oom", "/tasks/exit", "/tasks/delete")),
                        id + ": one /tasks/oom ahead of the exit: " + topics);
            }
        }
        return rounds + " rounds: create, start, oom, exit 137, delete";
    }

    /** A child killed by the OOM killer while the init survives: /tasks/oom, the task still running. */
    String oomChild() throws Exception {
        String id = "oom-child-1";
        Path survived = rootfs.resolve("survived");
        Files.deleteIfExists(survived);
        try (CtrEvents events = CtrEvents.start(containerd, work.resolve("events-oom-child.txt"))) {
            run(id, "--memory-limit", Long.toString(32 * MIB), "sh", "-c",
                    "dd if=/dev/zero of=/dev/null bs=256M count=1; echo $? > /survived; exec sleep 1000");
            try {
                await("the init outlives its child", 120, () -> Files.exists(survived));
                await("/tasks/oom for " + id, 30, () -> topics(events, id).contains("/tasks/oom"));
                Path cg = cgroupOf(id);
                long kills = keyValues(cg.resolve("memory.events")).getOrDefault("oom_kill", 0L);
                require(kills == 1, "memory.events oom_kill 1: " + kills);
                require(!topics(events, id).contains("/tasks/exit"), "no exit yet: " + topics(events, id));
                require(containerd.ctrOk("task", "ls").lines().anyMatch(l -> l.startsWith(id + " ") && l.contains("RUNNING")),
                        "the task still runs");
                return "child status " + read(survived) + ", topics " + topics(events, id);
            } finally {
                kill(id);
            }
        }
    }

    /** memory.high alone throttles and reclaims: its events count "high", and no OOM event is published. */
    String memoryHighNoOom() throws Exception {
        String id = "high-1";
        Path go = rootfs.resolve("go-high");
        Files.deleteIfExists(go);
        try (CtrEvents events = CtrEvents.start(containerd, work.resolve("events-high.txt"))) {
            run(id, "sh", "-c", "while [ ! -e /go-high ]; do sleep 0.1; done; exec dd if=/dev/zero of=/dev/null bs=40M count=1");
            Path cg = cgroupOf(id);
            Files.writeString(cg.resolve("memory.high"), Long.toString(24 * MIB));
            Files.createFile(go);
            awaitTopics(events, id, "/tasks/exit");
            Map<String, Long> memoryEvents = keyValues(cg.resolve("memory.events")); // kept until the task is deleted
            int status = CtrTasks.awaitStoppedAndDelete(containerd, id);
            containerd.ctrOk("container", "rm", id);
            List<String> topics = awaitTopics(events, id, "/tasks/delete");
            require(status == 0, "dd finished under memory.high: " + status);
            require(memoryEvents.getOrDefault("high", 0L) > 0 && memoryEvents.getOrDefault("oom_kill", 0L) == 0,
                    "memory.high was hit, no kill: " + memoryEvents);
            require(!topics.contains("/tasks/oom"), "no /tasks/oom: " + topics);
            return "exit " + status + ", memory.events " + memoryEvents + ", topics " + topics;
        }
    }

    /**
     * OOM at a parent's memory.max: the kill is counted in the container's memory.events and memory.events.local
     * (the victim's cgroup), the "oom" itself only at the parent (its memory.events.local); jshim, reading
     * memory.events' oom_kill as containerd does, reports it.
     */
    String memoryEventsLocal() throws Exception {
        String parent = "cg2-parent-" + ProcessHandle.current().pid();
        Path p = CGROUP_ROOT.resolve(parent);
        Files.createDirectories(p);
        Files.writeString(p.resolve("cgroup.subtree_control"), "+memory +pids +cpu");
        Files.writeString(p.resolve("memory.max"), Long.toString(32 * MIB));
        String id = "oom-parent-1";
        try (CtrEvents events = CtrEvents.start(containerd, work.resolve("events-parent.txt"))) {
            run(id, "--cgroup=/" + parent + "/" + id, "dd", "if=/dev/zero", "of=/dev/null", "bs=256M", "count=1");
            Path c = p.resolve(id);
            int status = CtrTasks.awaitStoppedAndDelete(containerd, id);
            containerd.ctrOk("container", "rm", id);
            List<String> topics = awaitTopics(events, id, "/tasks/delete");
            require(status == 137, "exit 137: " + status);
            require(topics.equals(List.of("/tasks/create", "/tasks/start", "/tasks/oom", "/tasks/exit", "/tasks/delete")),
                    "a parent's OOM kill of the container gives /tasks/oom before its exit: " + topics);
            Map<String, Long> parentEvents = keyValues(p.resolve("memory.events"));
            Map<String, Long> parentLocal = keyValues(p.resolve("memory.events.local"));
            require(parentEvents.getOrDefault("oom_kill", 0L) == 1, "parent memory.events oom_kill 1: " + parentEvents);
            require(parentLocal.getOrDefault("oom_kill", 0L) == 0, "parent memory.events.local oom_kill 0: " + parentLocal);
            require(parentLocal.getOrDefault("oom", 0L) >= 1, "parent memory.events.local oom >= 1: " + parentLocal);
            require(!Files.exists(c), "the container's cgroup is removed with the task");
            return "parent events " + parentEvents + ", parent local " + parentLocal + ", topics " + topics;
        } finally {
            rmdirQuietly(p);
        }
    }

}
