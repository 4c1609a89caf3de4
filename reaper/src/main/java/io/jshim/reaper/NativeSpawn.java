package io.jshim.reaper;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Starts a child: through {@link CloneSpawn} where libjshim_libc.so is loaded, else with posix_spawnp(3) and glibc's
 * file and attribute actions, called through {@link LibcCall} (the parent-death signal then armed by setpriv). Only
 * the spawn itself happens here; registering the pid is {@link Reaper}'s job. Both ways give the child the same
 * start, described here for posix_spawnp:
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
    private static final int FILE_ACTIONS_SIZE = Arch.POSIX_SPAWN_FILE_ACTIONS_SIZE;
    private static final int ATTR_SIZE = Arch.POSIX_SPAWNATTR_SIZE;
    private static final int SIGSET_SIZE = Arch.SIGSET_SIZE;

    // These return their error number; none sets errno for us to read.
    private static final LibcCall SPAWNP = LibcCall.of("posix_spawnp");
    private static final LibcCall ACTIONS_INIT = LibcCall.of("posix_spawn_file_actions_init");
    private static final LibcCall ACTIONS_DESTROY = LibcCall.of("posix_spawn_file_actions_destroy");
    private static final LibcCall ADD_DUP2 = LibcCall.of("posix_spawn_file_actions_adddup2");
    private static final LibcCall ADD_CLOSE = LibcCall.of("posix_spawn_file_actions_addclose");
    private static final LibcCall ADD_OPEN = LibcCall.of("posix_spawn_file_actions_addopen");
    private static final LibcCall ADD_CHDIR = LibcCall.of("posix_spawn_file_actions_addchdir_np");
    private static final LibcCall ADD_CLOSEFROM = LibcCall.of("posix_spawn_file_actions_addclosefrom_np");
    private static final LibcCall ATTR_INIT = LibcCall.of("posix_spawnattr_init");
    private static final LibcCall ATTR_DESTROY = LibcCall.of("posix_spawnattr_destroy");
    private static final LibcCall ATTR_SETFLAGS = LibcCall.of("posix_spawnattr_setflags");
    private static final LibcCall ATTR_SETSIGMASK = LibcCall.of("posix_spawnattr_setsigmask");
    private static final LibcCall ATTR_SETSIGDEFAULT = LibcCall.of("posix_spawnattr_setsigdefault");
    private static final LibcCall SIGEMPTYSET = LibcCall.of("sigemptyset");
    private static final LibcCall SIGFILLSET = LibcCall.of("sigfillset");
    private static final String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private NativeSpawn() {
    }

    /** The argv to actually run: for killOnParentDeath without CloneSpawn, setpriv in front of the resolved program. */
    static List<String> effectiveArgv(SpawnSpec spec) throws IOException {
        if (!spec.killOnParentDeath() || CloneSpawn.AVAILABLE) {
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
        String path = ProcessEnvironment.current().getOrDefault("PATH", DEFAULT_PATH);
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
        if (CloneSpawn.AVAILABLE) {
            return CloneSpawn.spawn(spec);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment actions = arena.allocate(FILE_ACTIONS_SIZE, 8);
            MemorySegment attr = arena.allocate(ATTR_SIZE, 8);
            MemorySegment st = LibcCall.errnoState(arena); // unread: these return their error number
            check((int) ACTIONS_INIT.call(st, actions.address()), "posix_spawn_file_actions_init");
            try {
                check((int) ATTR_INIT.call(st, attr.address()), "posix_spawnattr_init");
                try {
                    addFileActions(arena, actions, spec);
                    setAttributes(arena, attr, spec.newSession());
                    MemorySegment argvBlock = stringArray(arena, argv);
                    MemorySegment envBlock = stringArray(arena, environment(spec.env()));
                    MemorySegment pid = arena.allocate(JAVA_INT);
                    int err = (int) SPAWNP.call(st, pid.address(), arena.allocateFrom(argv.getFirst()).address(),
                            actions.address(), attr.address(), argvBlock.address(), envBlock.address());
                    if (err != 0) {
                        throw Native.failure("spawn " + spec.commandLine(), err);
                    }
                    return pid.get(JAVA_INT, 0);
                } finally {
                    ATTR_DESTROY.call(st, attr.address());
                }
            } finally {
                ACTIONS_DESTROY.call(st, actions.address());
            }
        }
    }

    private static void addFileActions(Arena arena, MemorySegment actions, SpawnSpec spec) throws IOException {
        MemorySegment st = LibcCall.errnoState(arena);
        if (spec.workDir() != null) {
            check((int) ADD_CHDIR.call(st, actions.address(), arena.allocateFrom(spec.workDir().toString()).address()),
                    "addchdir_np");
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
            check((int) ADD_DUP2.call(st, actions.address(), e.getValue(), scratch + i++), "adddup2");
        }
        i = 0;
        for (var e : fds.entrySet()) {
            check((int) ADD_DUP2.call(st, actions.address(), scratch + i++, e.getKey()), "adddup2");
            maxTarget = Math.max(maxTarget, e.getKey());
        }
        MemorySegment devNull = arena.allocateFrom("/dev/null");
        for (int std = 0; std <= 2; std++) {
            if (!fds.containsKey(std)) {
                check((int) ADD_OPEN.call(st, actions.address(), std, devNull.address(), Posix.O_RDWR, 0), "addopen");
            }
        }
        for (int fd = 3; fd <= maxTarget; fd++) {
            if (!fds.containsKey(fd)) {
                check((int) ADD_CLOSE.call(st, actions.address(), fd), "addclose");
            }
        }
        check((int) ADD_CLOSEFROM.call(st, actions.address(), maxTarget + 1), "addclosefrom_np");
    }

    private static void setAttributes(Arena arena, MemorySegment attr, boolean newSession) throws IOException {
        MemorySegment st = LibcCall.errnoState(arena);
        MemorySegment empty = arena.allocate(SIGSET_SIZE, 8);
        MemorySegment all = arena.allocate(SIGSET_SIZE, 8);
        check((int) SIGEMPTYSET.call(st, empty.address()), "sigemptyset");
        check((int) SIGFILLSET.call(st, all.address()), "sigfillset");
        // glibc's sigfillset leaves out its internal signals 32 (SIGCANCEL) and 33 (SIGSETXID), and
        // its spawn child then sets them to SIG_IGN, which exec keeps: every child (runc, and so the
        // containers) would start with them ignored, unlike a Go-spawned one. setsigdefault copies
        // the set as it is, so add their bits (signal n is bit n-1) by hand: SIG_DFL is safe in the
        // child because nothing sends those signals to it before it execs.
        all.set(JAVA_LONG, 0, all.get(JAVA_LONG, 0) | (1L << 31) | (1L << 32));
        check((int) ATTR_SETSIGMASK.call(st, attr.address(), empty.address()), "setsigmask");
        check((int) ATTR_SETSIGDEFAULT.call(st, attr.address(), all.address()), "setsigdefault");
        short flags = (short) (POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | (newSession ? POSIX_SPAWN_SETSID : 0));
        check((int) ATTR_SETFLAGS.call(st, attr.address(), flags), "setflags");
    }

    private static List<String> environment(Map<String, String> env) {
        Map<String, String> source = env != null ? env : ProcessEnvironment.current();
        List<String> entries = new ArrayList<>(source.size());
        source.forEach((k, v) -> entries.add(k + "=" + v));
        return entries;
    }

    /** A NULL-terminated char*[] of the strings, all in {@code arena}. */
    private static MemorySegment stringArray(Arena arena, List<String> strings) {
        MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1); // zeroed: the last slot is NULL
        for (int i = 0; i < strings.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
        }
        return array;
    }

    private static void check(int err, String what) throws IOException {
        if (err != 0) {
            throw Native.failure("posix_spawn " + what, err);
        }
    }
}
