package io.jshim.ttrpc;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The process's timer for short, non-blocking tasks: call deadlines of {@link TtrpcClient}, a server shutdown's
 * grace, the check on a peer that leaves its answers unread ({@link FrameSocket}), a listener's pause while accepts
 * fail for want of fds ({@link Listener}), and the daemon's own delays (stuck-wait reports, idle exit). Not the I/O
 * thread's job: that thread waits in epoll_wait with no timeout, and a timer there would wake it for every deadline.
 *
 * <p>Its one thread exists only while something is scheduled: it ends {@link #IDLE_SECONDS} after the last task
 * and the next schedule starts it again. A shim running a container has nothing scheduled most of the time, and
 * every thread costs it memory. Cancelled tasks leave the queue at once, so a deadline that did not fire holds
 * nothing.
 */
public final class Timers {
    static final long IDLE_SECONDS = 10;

    private Timers() {
    }

    private static final class Shared {
        static final ScheduledExecutorService TIMER = create();

        private static ScheduledExecutorService create() {
            ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1,
                    Thread.ofPlatform().name("jshim-timer").daemon(true).factory());
            timer.setRemoveOnCancelPolicy(true);
            timer.setKeepAliveTime(IDLE_SECONDS, TimeUnit.SECONDS);
            timer.allowCoreThreadTimeOut(true);
            return timer;
        }
    }

    /** The shared timer, created on first use and never shut down. Tasks must not block: they share one thread. */
    public static ScheduledExecutorService shared() {
        return Shared.TIMER;
    }
}
