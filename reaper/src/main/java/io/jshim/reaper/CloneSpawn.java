package io.jshim.reaper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * Spawns through {@code libjshim_libc.so}'s clone (reaper/src/main/c/jshim_spawn.c), the way used whenever that
 * library is loaded; {@link NativeSpawn}'s posix_spawnp through {@link LibcCall} is the fallback.
 *
 * <p>Why a spawn of our own: posix_spawn cannot arm a parent-death signal, so every runc call with
 * {@link SpawnSpec#killOnParentDeath()} went through {@code setpriv --pdeathsig KILL --}, an extra exec of a
 * dynamically linked program on every runc call (docs/performance.md); and posix_spawn's
 * attributes and file actions are a dozen FFM calls with their argument blocks built in native memory, which a shim
 * runs interpreted for its first hundred requests (the allocation and zeroing of those blocks was the largest
 * single item in an interpreted profile of {@code ctr task exec}). Here the child does the same work, in the same order
 * (see NativeSpawn: signals to their defaults, setsid, chdir, fd mappings through scratch fds, /dev/null on absent
 * 0-2, every other fd closed) and arms PR_SET_PDEATHSIG itself, and Java passes one byte array.
 */
final class CloneSpawn {
    static final boolean AVAILABLE = LibcJni.LOADED;

    private static final int SETSID = 1;
    private static final int PDEATHSIG = 2;
    private static final int WORKDIR = 4;

    private CloneSpawn() {}

    /** Our environment ({@link ProcessEnvironment}), encoded once and again when a standby adopts another. */
    private record Encoded(Map<String, String> source, int count, byte[] bytes) {
        static Encoded of(Map<String, String> env) {
            return new Encoded(env, env.size(), encode(env));
        }
    }

    private static volatile Encoded ours;

    static void environmentChanged() {
        ours = null;
    }

    private static Encoded ours() {
        Encoded e = ours;
        Map<String, String> env = ProcessEnvironment.current();
        if (e == null || e.source() != env) {
            e = Encoded.of(env);
            ours = e;
        }
        return e;
    }

    /** Spawns and returns the pid; throws PosixException with the error (e.g. ENOENT for a missing program). */
    static int spawn(SpawnSpec spec) throws IOException {
        ByteArrayOutputStream strings = new ByteArrayOutputStream(2048);
        for (String arg : spec.argv()) {
            put(strings, arg);
        }
        int envc;
        if (spec.env() == null) {
            Encoded env = ours();
            strings.writeBytes(env.bytes());
            envc = env.count();
        } else {
            strings.writeBytes(encode(spec.env()));
            envc = spec.env().size();
        }
        int flags = (spec.newSession() ? SETSID : 0) | (spec.killOnParentDeath() ? PDEATHSIG : 0);
        if (spec.workDir() != null) {
            put(strings, spec.workDir().toString());
            flags |= WORKDIR;
        }
        int[] fds = new int[2 * spec.fds().size()];
        int i = 0;
        for (var e : new TreeMap<>(spec.fds()).entrySet()) {
            fds[i++] = e.getKey();
            fds[i++] = e.getValue();
        }
        int pid = LibcJni.spawn(strings.toByteArray(), spec.argv().size(), envc, fds, flags);
        if (pid < 0) {
            throw Native.failure("spawn " + spec.commandLine(), -pid);
        }
        return pid;
    }

    private static byte[] encode(Map<String, String> env) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(4096);
        env.forEach((k, v) -> put(out, k + "=" + v));
        return out.toByteArray();
    }

    /** The string in UTF-8 and a NUL (SpawnSpec refuses strings with a NUL of their own). */
    private static void put(ByteArrayOutputStream out, String s) {
        out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        out.write(0);
    }
}
