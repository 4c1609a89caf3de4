package io.jshim.reaper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import jnr.ffi.Pointer;

/**
 * posix_spawnp(3) with glibc's file and attribute actions, bound through jnr-ffi. Only the spawn
 * itself happens here; registering the pid is {@link Reaper}'s job.
 *
 * <p>The child starts with an empty signal mask and every signal at its default disposition
 * (POSIX_SPAWN_SETSIGMASK + POSIX_SPAWN_SETSIGDEF with a full set, glibc's internal signals
 * included): otherwise it would inherit the spawning JVM thread's blocked signals and the JVM's
 * ignored ones, and so would the containers runc starts.
 *
 * <p>File actions, run in the child in this order:
 * <ol>
 * <li>chdir to the working directory (posix_spawn_file_actions_addchdir_np);</li>
 * <li>dup2 every source fd to a scratch fd above every source and target, then dup2 the scratch
 * fds to their targets: a target that is also another mapping's source is never overwritten
 * before it is copied, and no dup2 has equal old and new fds (which would keep FD_CLOEXEC);</li>
 * <li>open /dev/null on the absent ones of 0, 1, 2;</li>
 * <li>close the fds in 3..max target that are not targets, then closefrom(max target + 1), which
 * also drops the scratch fds and every fd the JVM has open.</li>
 * </ol>
 */
final class NativeSpawn {
    private static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    private static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    private static final short POSIX_SPAWN_SETSID = 0x80;
    // glibc x86-64: posix_spawn_file_actions_t is 80 bytes, posix_spawnattr_t 336, sigset_t 128.
    private static final int FILE_ACTIONS_SIZE = 256;
    private static final int ATTR_SIZE = 512;
    private static final int SIGSET_SIZE = 128;
    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private NativeSpawn() {
    }

    /** The argv to actually run: for killOnParentDeath, setpriv in front of the resolved program. */
    static List<String> effectiveArgv(SpawnSpec spec) throws IOException {
        if (!spec.killOnParentDeath()) {
            return spec.argv();
        }
        // Resolve here so that a missing program fails spawn() with ENOENT, as without setpriv.
        List<String> argv = new ArrayList<>(List.of(resolve("setpriv"), "--pdeathsig", "KILL", "--",
                resolve(spec.argv().getFirst())));
        argv.addAll(spec.argv().subList(1, spec.argv().size()));
        return argv;
    }

    /** Looks a program up on our PATH as execvp would; names with a '/' are taken as they are. */
    static String resolve(String program) throws IOException {
        if (program.indexOf('/') >= 0) {
            return program;
        }
        String path = System.getenv().getOrDefault("PATH", DEFAULT_PATH);
        for (String dir : path.split(":", -1)) {
            Path candidate = Path.of(dir.isEmpty() ? "." : dir, program);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new PosixException("spawn " + program + " (not found on PATH)", Native.ENOENT);
    }

    /** Spawns and returns the pid; throws PosixException with posix_spawnp's error (e.g. ENOENT). */
    static int spawn(SpawnSpec spec, List<String> argv) throws IOException {
        if (spec.workDir() != null && !Files.isDirectory(spec.workDir())) {
            throw new PosixException("spawn " + spec.commandLine() + ": working directory " + spec.workDir(),
                    Files.exists(spec.workDir()) ? 20 /* ENOTDIR */ : Native.ENOENT);
        }
        LibC c = Native.C;
        Pointer actions = Native.allocate(FILE_ACTIONS_SIZE);
        Pointer attr = Native.allocate(ATTR_SIZE);
        check(c.posix_spawn_file_actions_init(actions), "posix_spawn_file_actions_init");
        try {
            check(c.posix_spawnattr_init(attr), "posix_spawnattr_init");
            try {
                addFileActions(actions, spec);
                setAttributes(attr, spec.newSession());
                Pointer argvBlock = stringArray(argv);
                Pointer envBlock = stringArray(environment(spec.env()));
                Pointer pid = Native.allocate(4);
                int err = c.posix_spawnp(pid, argv.getFirst(), actions, attr, argvBlock, envBlock);
                if (err != 0) {
                    throw Native.failure("spawn " + spec.commandLine(), err);
                }
                return pid.getInt(0);
            } finally {
                c.posix_spawnattr_destroy(attr);
            }
        } finally {
            c.posix_spawn_file_actions_destroy(actions);
        }
    }

    private static void addFileActions(Pointer actions, SpawnSpec spec) throws IOException {
        LibC c = Native.C;
        if (spec.workDir() != null) {
            check(c.posix_spawn_file_actions_addchdir_np(actions, spec.workDir().toString()), "addchdir_np");
        }
        Map<Integer, Integer> fds = new TreeMap<>(spec.fds());
        int highest = 2;
        for (var e : fds.entrySet()) {
            highest = Math.max(highest, Math.max(e.getKey(), e.getValue()));
        }
        int scratch = highest + 1;
        int maxTarget = 2;
        int i = 0;
        for (var e : fds.entrySet()) {
            check(c.posix_spawn_file_actions_adddup2(actions, e.getValue(), scratch + i++), "adddup2");
        }
        i = 0;
        for (var e : fds.entrySet()) {
            check(c.posix_spawn_file_actions_adddup2(actions, scratch + i++, e.getKey()), "adddup2");
            maxTarget = Math.max(maxTarget, e.getKey());
        }
        for (int std = 0; std <= 2; std++) {
            if (!fds.containsKey(std)) {
                check(c.posix_spawn_file_actions_addopen(actions, std, "/dev/null", Posix.O_RDWR, 0), "addopen");
            }
        }
        for (int fd = 3; fd <= maxTarget; fd++) {
            if (!fds.containsKey(fd)) {
                check(c.posix_spawn_file_actions_addclose(actions, fd), "addclose");
            }
        }
        check(c.posix_spawn_file_actions_addclosefrom_np(actions, maxTarget + 1), "addclosefrom_np");
    }

    private static void setAttributes(Pointer attr, boolean newSession) throws IOException {
        LibC c = Native.C;
        Pointer empty = Native.allocate(SIGSET_SIZE);
        Pointer all = Native.allocate(SIGSET_SIZE);
        c.sigemptyset(empty);
        c.sigfillset(all);
        // glibc's sigfillset leaves out its internal signals 32 (SIGCANCEL) and 33 (SIGSETXID), and
        // its spawn child then sets them to SIG_IGN, which exec keeps: every child (runc, and so the
        // containers) would start with them ignored, unlike a Go-spawned one. setsigdefault copies
        // the set as it is, so add their bits (signal n is bit n-1) by hand: SIG_DFL is safe in the
        // child because nothing sends those signals to it before it execs.
        all.putLong(0, all.getLong(0) | (1L << 31) | (1L << 32));
        check(c.posix_spawnattr_setsigmask(attr, empty), "setsigmask");
        check(c.posix_spawnattr_setsigdefault(attr, all), "setsigdefault");
        short flags = (short) (POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (newSession ? POSIX_SPAWN_SETSID : 0));
        check(c.posix_spawnattr_setflags(attr, flags), "setflags");
    }

    private static List<String> environment(Map<String, String> env) {
        Map<String, String> source = env != null ? env : System.getenv();
        List<String> entries = new ArrayList<>(source.size());
        source.forEach((k, v) -> entries.add(k + "=" + v));
        return entries;
    }

    /** A NULL-terminated char*[] and its strings in one native block (freed with the returned pointer). */
    private static Pointer stringArray(List<String> strings) {
        int pointerBytes = (strings.size() + 1) * 8;
        List<byte[]> encoded = new ArrayList<>(strings.size());
        int total = pointerBytes;
        for (String s : strings) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            encoded.add(b);
            total += b.length + 1;
        }
        Pointer block = Native.allocate(total);
        long offset = pointerBytes;
        for (int i = 0; i < encoded.size(); i++) {
            byte[] b = encoded.get(i);
            block.put(offset, b, 0, b.length); // the terminating NUL is already there: zero-filled
            block.putAddress(i * 8L, block.address() + offset);
            offset += b.length + 1;
        }
        return block; // the last pointer slot stays NULL
    }

    private static void check(int err, String what) throws IOException {
        if (err != 0) {
            throw Native.failure("posix_spawn " + what, err);
        }
    }
}
