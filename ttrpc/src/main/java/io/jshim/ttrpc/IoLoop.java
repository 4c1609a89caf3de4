package io.jshim.ttrpc;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jshim.reaper.Arch;
import io.jshim.reaper.LibcCall;
import io.jshim.reaper.NativeMemory;
import io.jshim.reaper.PosixException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's one I/O thread for ttrpc: epoll(7) over every listening socket and connection, servers' and
 * clients' alike, through the shim's own libc calls ({@link LibcCall}); no Netty, no JDK selector.
 *
 * <p>Why one thread over all fds and not a reader thread per connection: a peer that connects and sends nothing,
 * or half a frame, must hold no thread (issue 10: a hundred such peers cost a hundred threads otherwise); and the
 * JDK's selector would load a few hundred classes of its own (each class a daemon loads costs it resident memory
 * through the AOT cache, docs/performance.md). Methods registered never-blocking run right here on this thread
 * and write their answer from it, with no hand-off.
 *
 * <p>Ownership: every fd registered here is read, and closed, by this thread only ({@link Channel#closeNow}), so
 * no thread can call into a closed, maybe reused, fd number. Other threads ask through {@link #execute}. Writes
 * come from any thread but never block (non-blocking fds; what does not fit waits in the connection's queue until
 * EPOLLOUT, {@link FrameSocket}).
 */
final class IoLoop {
    private static final Logger log = LoggerFactory.getLogger(IoLoop.class);

    static final int EPOLLIN = 0x1;
    static final int EPOLLOUT = 0x4;
    static final int EPOLLERR = 0x8;
    static final int EPOLLHUP = 0x10;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLL_CTL_DEL = 2;
    private static final int EPOLL_CTL_MOD = 3;
    private static final int CLOEXEC = 02000000;
    private static final int EFD_NONBLOCK = 04000;
    private static final int MAX_EVENTS = 64;
    /** recv(2) buffer shared by every connection (only this thread reads); malloc'ed: untouched pages cost nothing. */
    static final int READ_BUFFER = 64 * 1024;

    private static final LibcCall EPOLL_CREATE1 = LibcCall.of("epoll_create1");
    private static final LibcCall EPOLL_CTL = LibcCall.of("epoll_ctl");
    private static final LibcCall EPOLL_WAIT = LibcCall.of("epoll_wait");
    private static final LibcCall EVENTFD = LibcCall.of("eventfd");
    private static final LibcCall READ = LibcCall.of("read");
    private static final LibcCall WRITE = LibcCall.of("write");

    /** Something registered with the loop: a listening socket or a connection. Loop thread only. */
    interface Channel {
        /** The fd is ready: {@code events} is epoll's mask. */
        void onReady(int events);

        /** Deregisters, closes the fd and tells whoever needs to know; {@code cause}: why, or null. */
        void closeNow(Throwable cause);
    }

    private static final class Shared {
        static final IoLoop LOOP = new IoLoop("ttrpc-io");
    }

    /** The process-wide loop, started on first use; its thread is a daemon and never ends. */
    static IoLoop shared() {
        return Shared.LOOP;
    }

    private final int epfd;
    private final int wakeFd;
    private final Thread thread;
    /** Tasks from other threads; run by the loop after each wait. */
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Registered fds. Loop thread only. */
    private final Map<Integer, Channel> channels = new HashMap<>();
    /** A wake-up written and not yet read: spares the eventfd write when one is pending. */
    private volatile boolean wakePending;
    /** Where wake-ups from other threads leave errno (nobody reads it, so they may share it). */
    private final MemorySegment wakeErrno = LibcCall.errnoState(Arena.global());
    private final MemorySegment wakeValue = Arena.global().allocate(JAVA_LONG);
    /** Set by the loop thread as it starts; its own. */
    private MemorySegment readBuffer;

    private IoLoop(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            epfd = (int) EPOLL_CREATE1.call(s, CLOEXEC);
            if (epfd < 0) {
                throw new IllegalStateException(new PosixException("epoll_create1", LibcCall.errno(s)));
            }
            wakeFd = (int) EVENTFD.call(s, 0, CLOEXEC | EFD_NONBLOCK);
            if (wakeFd < 0) {
                throw new IllegalStateException(new PosixException("eventfd", LibcCall.errno(s)));
            }
        }
        wakeValue.set(JAVA_LONG, 0, 1);
        try {
            ctl(EPOLL_CTL_ADD, wakeFd, EPOLLIN);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
        thread.start();
    }

    boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** Runs {@code task} on the loop thread: at once when called there, else soon. */
    void execute(Runnable task) {
        if (inLoop()) {
            task.run();
            return;
        }
        tasks.add(task);
        if (!wakePending) {
            wakePending = true;
            WRITE.call(wakeErrno, wakeFd, wakeValue.address(), 8);
        }
    }

    /**
     * Waits up to {@code millis} for {@code done} (e.g. a channel's fd closed by this loop); returns at once on the
     * loop thread, which would be waiting for itself. An interrupt ends the wait, the flag kept.
     */
    void awaitOffLoop(CountDownLatch done, long millis) {
        if (inLoop()) {
            return;
        }
        try {
            done.await(millis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Loop thread: watches {@code fd} for {@code events} on behalf of {@code channel}. */
    void register(int fd, int events, Channel channel) throws IOException {
        ctl(EPOLL_CTL_ADD, fd, events);
        channels.put(fd, channel);
    }

    /** Loop thread: changes what {@code fd} is watched for (0: nothing for now; errors and hang-ups still come). */
    void modify(int fd, int events) throws IOException {
        ctl(EPOLL_CTL_MOD, fd, events);
    }

    /** Loop thread: stops watching {@code fd}, before it is closed. */
    void deregister(int fd) {
        if (channels.remove(fd) != null) {
            try {
                ctl(EPOLL_CTL_DEL, fd, 0);
            } catch (IOException e) {
                log.debug("epoll_ctl DEL fd {}: {}", fd, e.toString());
            }
        }
    }

    private void ctl(int op, int fd, int events) throws IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = LibcCall.errnoState(a);
            MemorySegment event = a.allocate(Arch.EPOLL_EVENT_SIZE, 4);
            event.set(JAVA_INT, 0, events);
            event.set(JAVA_INT, Arch.EPOLL_DATA_OFFSET, fd); // epoll_data: the fd, found in `channels`
            if ((int) EPOLL_CTL.call(s, epfd, op, fd, event.address()) < 0) {
                throw new PosixException("epoll_ctl fd " + fd, LibcCall.errno(s));
            }
        }
    }

    /** The loop thread's read buffer, shared by every connection (valid on the loop thread only). */
    MemorySegment readBuffer() {
        return readBuffer;
    }

    private void run() {
        Arena arena = Arena.ofConfined(); // this thread's for its life: the buffers below
        readBuffer = NativeMemory.uninitialized(arena, READ_BUFFER);
        MemorySegment events = arena.allocate((long) Arch.EPOLL_EVENT_SIZE * MAX_EVENTS, 8);
        MemorySegment errno = LibcCall.errnoState(arena);
        MemorySegment drain = arena.allocate(JAVA_LONG);
        while (true) {
            int n = (int) EPOLL_WAIT.call(errno, epfd, events.address(), MAX_EVENTS, -1);
            if (n < 0) {
                continue; // EINTR
            }
            for (int i = 0; i < n; i++) {
                long at = (long) i * Arch.EPOLL_EVENT_SIZE;
                int mask = events.get(JAVA_INT, at);
                int fd = events.get(JAVA_INT, at + Arch.EPOLL_DATA_OFFSET);
                if (fd == wakeFd) {
                    // Read, then clear: a wake-up written after the read is seen by the next wait; one skipped
                    // because the flag was still set has its task queued before the tasks below are run.
                    READ.call(errno, wakeFd, drain.address(), 8);
                    wakePending = false;
                    continue;
                }
                Channel channel = channels.get(fd);
                if (channel == null) {
                    continue; // closed by an earlier event of this batch
                }
                try {
                    channel.onReady(mask);
                } catch (RuntimeException | Error e) {
                    log.warn("closing fd {} after a failure on the I/O thread", fd, e);
                    channel.closeNow(e);
                }
            }
            Runnable task;
            while ((task = tasks.poll()) != null) {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    log.warn("task on the I/O thread failed", e);
                }
            }
        }
    }
}
