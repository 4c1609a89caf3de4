package io.jshim.cgroups;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import io.jshim.reaper.Child;
import io.jshim.reaper.Posix;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;

/**
 * Test cgroups of our own under the host's v1 hierarchies (/sys/fs/cgroup/CONTROLLER/jshim-test-…),
 * plus the processes spawned into them; close() kills those processes (by pid) and removes the
 * directories.
 */
final class ScratchCgroups implements AutoCloseable {

    static final Path ROOT = Path.of("/sys/fs/cgroup");

    final String name = "jshim-test-" + UUID.randomUUID().toString().substring(0, 8);
    final Map<String, Path> dirs = new LinkedHashMap<>();
    private final List<Child> children = new ArrayList<>();
    private final List<Path> extraDirs = new ArrayList<>();

    static boolean v1Available() {
        return Files.isDirectory(ROOT.resolve("memory")) && Files.exists(ROOT.resolve("memory/memory.oom_control"));
    }

    ScratchCgroups(String... controllers) throws IOException {
        for (String c : controllers) {
            Path dir = ROOT.resolve(c).resolve(name);
            Files.createDirectory(dir);
            dirs.put(c, dir);
        }
    }

    Path dir(String controller) {
        return dirs.get(controller);
    }

    void write(String controller, String file, String value) throws IOException {
        Files.writeString(dir(controller).resolve(file), value);
    }

    /** Also removed on close (children first). */
    void alsoRemove(Path dir) {
        extraDirs.add(dir);
    }

    /** A shell snippet that moves the shell itself into every scratch cgroup. */
    String enterAll() {
        StringBuilder sb = new StringBuilder();
        for (Path d : dirs.values()) {
            sb.append("echo $$ > ").append(d.resolve("cgroup.procs")).append(" || exit 90; ");
        }
        return sb.toString();
    }

    Child spawnShell(String script) throws IOException {
        Child c = Reaper.get().spawn(SpawnSpec.of("/bin/sh", "-c", script).withKillOnParentDeath());
        children.add(c);
        return c;
    }

    Child spawn(SpawnSpec spec) throws IOException {
        Child c = Reaper.get().spawn(spec);
        children.add(c);
        return c;
    }

    @Override
    public void close() throws Exception {
        for (Child c : children) {
            if (!c.onExit().isDone()) {
                try {
                    Posix.kill(c.pid(), Posix.SIGKILL);
                } catch (IOException gone) {
                    // exited meanwhile
                }
            }
            c.onExit().get(10, TimeUnit.SECONDS);
        }
        List<Path> all = new ArrayList<>(extraDirs.reversed());
        all.addAll(dirs.values());
        for (Path d : all) {
            removeDir(d);
        }
    }

    /** rmdir, retried: a cgroup stays busy for a moment after its last task is reaped. */
    static void removeDir(Path d) throws IOException, InterruptedException {
        for (int attempt = 0; ; attempt++) {
            try {
                Files.deleteIfExists(d);
                return;
            } catch (IOException e) {
                if (attempt >= 50) {
                    throw e;
                }
                Thread.sleep(20);
            }
        }
    }
}
