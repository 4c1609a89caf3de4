package io.jshim.reaper;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What to start with {@link Reaper#spawn}.
 *
 * @param argv              the command; argv[0] without a '/' is looked up on <em>our</em> PATH
 *                          (as posix_spawnp does: the caller's PATH, not the one in {@code env})
 * @param env               the child's whole environment; null = a copy of ours ({@link ProcessEnvironment})
 * @param workDir           the child's working directory; null = ours
 * @param fds               child fd → our fd to dup2 there. Child fds 0, 1, 2 that are absent are opened
 *                          on /dev/null; every other fd is closed in the child. Our fds may be
 *                          close-on-exec: they are dup'ed before exec.
 * @param newSession        start the child in a new session (setsid): it becomes session and
 *                          process-group leader, detached from our controlling terminal
 * @param killOnParentDeath the child gets SIGKILL when this process dies (PR_SET_PDEATHSIG; see
 *                          {@link Reaper#spawn})
 */
public record SpawnSpec(List<String> argv, Map<String, String> env, Path workDir,
                        Map<Integer, Integer> fds, boolean newSession, boolean killOnParentDeath) {

    public SpawnSpec {
        argv = List.copyOf(argv);
        if (argv.isEmpty() || argv.getFirst().isEmpty()) {
            throw new IllegalArgumentException("argv must name a program");
        }
        env = env == null ? null : Map.copyOf(env);
        fds = fds == null ? Map.of() : Map.copyOf(fds);
        for (var e : fds.entrySet()) {
            if (e.getKey() < 0 || e.getValue() < 0) {
                throw new IllegalArgumentException("negative fd in mapping " + e);
            }
        }
        if (env != null) {
            env.forEach((k, v) -> {
                if (k.isEmpty() || k.indexOf('=') >= 0 || k.indexOf('\0') >= 0 || v.indexOf('\0') >= 0) {
                    throw new IllegalArgumentException("invalid environment entry " + k);
                }
            });
        }
        for (String arg : argv) {
            if (arg.indexOf('\0') >= 0) {
                throw new IllegalArgumentException("NUL in argument");
            }
        }
    }

    public static SpawnSpec of(String... argv) {
        return new SpawnSpec(List.of(argv), null, null, Map.of(), false, false);
    }

    public static SpawnSpec of(List<String> argv) {
        return new SpawnSpec(argv, null, null, Map.of(), false, false);
    }

    /** The child's whole environment (null = inherit ours). */
    public SpawnSpec withEnv(Map<String, String> env) {
        return new SpawnSpec(argv, env, workDir, fds, newSession, killOnParentDeath);
    }

    public SpawnSpec withWorkDir(Path workDir) {
        return new SpawnSpec(argv, env, workDir, fds, newSession, killOnParentDeath);
    }

    /** Our fd {@code parent} becomes fd {@code child} in the child (replacing any earlier mapping of it). */
    public SpawnSpec withFd(int child, int parent) {
        Map<Integer, Integer> more = new HashMap<>(fds);
        more.put(child, parent);
        return new SpawnSpec(argv, env, workDir, more, newSession, killOnParentDeath);
    }

    /** The same spec without a mapping for child fd {@code child} (0-2 then fall back to /dev/null). */
    public SpawnSpec withoutFd(int child) {
        Map<Integer, Integer> fewer = new HashMap<>(fds);
        fewer.remove(child);
        return new SpawnSpec(argv, env, workDir, fewer, newSession, killOnParentDeath);
    }

    public SpawnSpec withNewSession() {
        return new SpawnSpec(argv, env, workDir, fds, true, killOnParentDeath);
    }

    public SpawnSpec withKillOnParentDeath() {
        return new SpawnSpec(argv, env, workDir, fds, newSession, true);
    }

    /** The same spec with more arguments appended. */
    public SpawnSpec withArgs(String... more) {
        List<String> all = new ArrayList<>(argv);
        all.addAll(List.of(more));
        return new SpawnSpec(all, env, workDir, fds, newSession, killOnParentDeath);
    }

    /** argv joined with spaces, for messages. */
    public String commandLine() {
        return String.join(" ", argv);
    }

    @Override
    public String toString() {
        return "SpawnSpec[" + commandLine() + (workDir == null ? "" : ", in " + workDir)
                + (fds.isEmpty() ? "" : ", fds " + fds) + (newSession ? ", setsid" : "")
                + (killOnParentDeath ? ", pdeathsig" : "") + (env == null ? "" : ", " + env.size() + " env vars") + "]";
    }

}
