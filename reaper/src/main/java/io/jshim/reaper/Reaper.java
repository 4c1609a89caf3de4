package io.jshim.reaper;

import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide child reaper: makes this process a child subreaper, reaps every child and
 * every orphaned descendant on one thread, hands each exit to the {@link Child} that spawned it
 * and to every {@link Subscription}.
 *
 * <h2>The reaper thread</h2>
 * One platform daemon thread, "jshim-reaper", blocks in
 * {@code waitid(P_ALL, WEXITED | WNOWAIT | __WALL)}: the kernel wakes it when any child becomes a
 * zombie, and tells it the pid <em>without reaping it</em>. Java cannot use SIGCHLD, so nothing else
 * would do. When waitid reports ECHILD the thread parks; {@link #spawn} unparks it after every
 * spawn (LockSupport's permit means an unpark that comes before the park is not lost).
 *
 * <p>Why parking on ECHILD never misses an orphan: a process can only be re-parented to us if it
 * descends from one of our children, and the kernel re-parents a dying process's children to us
 * <em>before</em> that process becomes a zombie we can reap. So while any descendant exists, some
 * child of ours exists, and waitid blocks instead of failing with ECHILD. ECHILD means we have no
 * descendants at all, and only a new spawn can change that. (A child created by other means than
 * {@link #spawn}, e.g. a library's fork, is only noticed after the next spawn: everything in this
 * process must start processes through here.)
 *
 * <h2>No lost exits, no stale exits, no unbounded memory</h2>
 * A child may exit before {@code spawn} has registered its pid. Instead of keeping exits nobody has
 * claimed yet (which would need a bound, and could be claimed by a later child that reuses the
 * pid), the reaper <em>waits before reaping</em>:
 * <ol>
 * <li>Each spawn takes a ticket and adds it to {@link #spawnsInFlight} before it forks; after
 * the fork it removes the ticket and, on success, registers pid → future in {@link #waiters},
 * then signals {@link #spawnFinished}.</li>
 * <li>The reaper learns of zombie P via WNOWAIT. It notes the newest ticket issued so far and waits
 * until P is registered or every spawn holding a ticket up to that one has finished. Spawns that
 * start later cannot have produced P: P is still a zombie, so the kernel cannot hand its pid out.</li>
 * <li>It removes P's waiter (if any), then reaps P with waitpid(P). Only now is the pid free.</li>
 * </ol>
 * An exit nobody registered (container processes, orphans) goes to subscribers only and is kept
 * nowhere. The reaper waits only for spawns already in flight (a spawn takes about a
 * millisecond), never blocks new spawns, and no spawn waits for the reaper.
 *
 * <p>A child whose exec failed is reaped by the spawn itself (as glibc's posix_spawn does); since
 * that spawn is in flight, the reaper waits for it and then finds the pid gone (ECHILD), and
 * publishes nothing.
 *
 * <h2>Delivery</h2>
 * The reaper thread only enqueues: each subscriber has its own queue and virtual delivery thread,
 * and {@link Child#onExit()} futures are completed on a fresh virtual thread, so neither a slow
 * listener nor a dependent stage delays reaping or other listeners.
 *
 * <h2>Locks</h2>
 * {@link #table} guards {@link #lastTicket}, {@link #spawnsInFlight} and {@link #waiters}; it is
 * held only for map updates and for {@link Child#kill}'s kill(2), never across a spawn or a wait.
 * {@link #subscribers} is a copy-on-write list and needs no lock.
 */
public final class Reaper {
    private static final Logger log = LoggerFactory.getLogger(Reaper.class);

    private static final int P_ALL = 0;
    private static final int WNOHANG = 1;
    private static final int WEXITED = 4;
    private static final int WNOWAIT = 0x01000000;
    private static final int WALL = 0x40000000; // __WALL: also children with a non-SIGCHLD exit signal
    private static final int SIGINFO_SIZE = Arch.SIGINFO_SIZE;
    private static final int SI_PID_OFFSET = Arch.SI_PID_OFFSET;

    /** Guarded by Reaper.class. */
    private static Reaper instance;

    private final ReentrantLock table = new ReentrantLock();
    /** Signalled (under {@link #table}) whenever a spawn leaves {@link #spawnsInFlight}. */
    private final Condition spawnFinished = table.newCondition();
    /** Guarded by {@link #table}: the newest spawn ticket handed out. */
    private long lastTicket;
    /** Guarded by {@link #table}: tickets of spawns between "about to fork" and "pid registered". */
    private final TreeSet<Long> spawnsInFlight = new TreeSet<>();
    /** Guarded by {@link #table}: children spawned here and not reaped yet. */
    private final Map<Integer, CompletableFuture<Exit>> waiters = new HashMap<>();
    /** Copy-on-write: iterated by the reaper without a lock. */
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    /** Completes Child futures off the reaper thread. */
    private final Executor completions = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("jshim-child-exit").factory());

    private final Thread reaperThread;
    /** Held by the reaper thread from a waitpid that reaps to the end of that exit's offers (Subscription.awaitDelivered). */
    private final Object reaping = new Object();
    /** Guarded by {@link #table}; created on the first spawn that needs a parent-death signal. */
    private SpawnerThread pdeathSpawner;

    private Reaper() {
        reaperThread = Thread.ofPlatform().name("jshim-reaper").daemon(true).unstarted(this::reapForever);
    }

    /**
     * The process-wide instance. The first call makes this process a child subreaper and starts
     * the reaper thread.
     *
     * @throws UncheckedIOException if prctl(PR_SET_CHILD_SUBREAPER) fails
     */
    public static synchronized Reaper get() {
        if (instance == null) {
            try {
                Posix.prctlSubreaper();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Reaper reaper = new Reaper();
            reaper.reaperThread.start();
            instance = reaper;
            log.debug("pid {} is a child subreaper; reaper thread started", Posix.getpid());
        }
        return instance;
    }

    /**
     * Every exit reaped from now on, in reaping order, to {@code listener} on the subscription's own
     * virtual thread "jshim-exits-{name}". That includes exits of processes spawned by others and of
     * orphans re-parented to us. The listener may block (sleep, locks, queues): that delays only
     * this subscription, whose queue grows meanwhile. It should not block in native calls for long,
     * which would pin a carrier thread. Exceptions it throws are logged and delivery goes on.
     */
    public Subscription subscribe(String name, Consumer<Exit> listener) {
        Objects.requireNonNull(listener, "listener");
        Subscriber[] self = new Subscriber[1];
        self[0] = new Subscriber(name, listener, () -> subscribers.remove(self[0]), reaping);
        subscribers.add(self[0]);
        self[0].start();
        return self[0];
    }

    /**
     * Spawns a child ({@link NativeSpawn}). Its {@link Child#onExit()} completes even if it died
     * before this method returned.
     *
     * <p>With {@link SpawnSpec#killOnParentDeath()} the spawn is made from the long-lived
     * "jshim-spawner" thread, because the kernel sends the signal when the spawning thread exits. The
     * child arms the signal itself before it execs ({@link CloneSpawn}) and exits at once if this
     * process has already died. Without libjshim_libc.so the command runs as
     * {@code setpriv --pdeathsig KILL -- /resolved/argv0 args...} (argv[0] resolved on our PATH here,
     * so the program sees its full path as argv[0]), and if this process dies in the millisecond
     * before setpriv has armed the signal, the child survives.
     *
     * @throws PosixException with errno text, e.g. ENOENT for a missing program or working directory
     */
    public Child spawn(SpawnSpec spec) throws IOException {
        Objects.requireNonNull(spec, "spec");
        List<String> argv = NativeSpawn.effectiveArgv(spec);
        if (!spec.killOnParentDeath()) {
            return spawnHere(spec, argv);
        }
        SpawnerThread spawner;
        table.lock();
        try {
            if (pdeathSpawner == null) {
                pdeathSpawner = new SpawnerThread();
            }
            spawner = pdeathSpawner;
        } finally {
            table.unlock();
        }
        return spawner.call(() -> spawnHere(spec, argv));
    }

    private Child spawnHere(SpawnSpec spec, List<String> argv) throws IOException {
        CompletableFuture<Exit> exit = new CompletableFuture<>();
        long ticket;
        table.lock();
        try {
            ticket = ++lastTicket;
            spawnsInFlight.add(ticket);
        } finally {
            table.unlock();
        }
        int pid = -1;
        try {
            pid = NativeSpawn.spawn(spec, argv);
        } finally {
            table.lock();
            try {
                spawnsInFlight.remove(ticket);
                if (pid > 0) {
                    waiters.put(pid, exit);
                }
                spawnFinished.signalAll();
            } finally {
                table.unlock();
            }
            if (pid > 0) {
                LockSupport.unpark(reaperThread); // in case it is parked on ECHILD
            }
        }
        log.debug("spawned {} as pid {}", spec, pid);
        return new Child(pid, exit, this);
    }

    /** Child.kill: signals only if the pid is still ours (not yet reaped, so not reusable). */
    boolean signal(int pid, CompletableFuture<Exit> exit, int signal) throws IOException {
        table.lock();
        try {
            if (waiters.get(pid) != exit) {
                return false;
            }
            Posix.kill(pid, signal); // a zombie accepts signals: no ESRCH before we reap it
            return true;
        } finally {
            table.unlock();
        }
    }

    /** Number of spawned children not reaped yet (for tests and diagnostics). */
    int liveChildren() {
        table.lock();
        try {
            return waiters.size();
        } finally {
            table.unlock();
        }
    }

    private void reapForever() {
        // The reaper thread's own buffers, for its whole life (an automatic arena: any thread may touch it).
        Arena arena = Arena.ofAuto();
        MemorySegment siginfo = arena.allocate(SIGINFO_SIZE, 8);
        MemorySegment status = arena.allocate(JAVA_INT);
        while (true) {
            try {
                int pid = nextZombie(siginfo);
                if (pid > 0) {
                    reap(pid, status);
                }
            } catch (Throwable t) {
                // Nothing here should throw; if it does, keep reaping rather than let zombies pile up.
                log.error("reaper thread: unexpected failure", t);
                LockSupport.parkNanos(this, 100_000_000L);
            }
        }
    }

    /** Blocks until some child is a zombie and returns its pid (not reaped); 0 after parking on ECHILD. */
    private int nextZombie(MemorySegment siginfo) {
        siginfo.set(JAVA_INT, SI_PID_OFFSET, 0);
        int r = Native.waitid(P_ALL, 0, siginfo, WEXITED | WNOWAIT | WALL);
        if (r == 0) {
            return siginfo.get(JAVA_INT, SI_PID_OFFSET);
        }
        int errno = -r;
        if (errno == Native.ECHILD) {
            LockSupport.park(this); // until the next spawn (or a spurious wake-up: we just look again)
        } else if (errno != Native.EINTR) {
            log.error("waitid failed: {}", Posix.strerror(errno));
            LockSupport.parkNanos(this, 100_000_000L);
        }
        return 0;
    }

    private void reap(int pid, MemorySegment status) {
        CompletableFuture<Exit> waiter;
        table.lock();
        try {
            long cutoff = lastTicket;
            while (!waiters.containsKey(pid) && !spawnsInFlight.isEmpty() && spawnsInFlight.first() <= cutoff) {
                spawnFinished.awaitUninterruptibly();
            }
            waiter = waiters.remove(pid);
        } finally {
            table.unlock();
        }
        Exit exit;
        synchronized (reaping) {
            int reaped;
            do {
                reaped = Native.waitpid(pid, status, WNOHANG | WALL);
            } while (reaped == -Native.EINTR);
            if (reaped != pid) {
                // Reaped by someone else: the spawn does so for a child whose exec failed.
                log.debug("pid {} was reaped elsewhere", pid);
                if (waiter != null) {
                    log.error("lost the status of spawned pid {}: reaped outside the reaper", pid);
                }
                return;
            }
            exit = new Exit(pid, Exit.statusOf(status.get(JAVA_INT, 0)), Instant.now());
            for (Subscriber s : subscribers) {
                s.offer(exit);
            }
        }
        if (waiter != null) {
            completions.execute(() -> waiter.complete(exit));
        }
    }
}
