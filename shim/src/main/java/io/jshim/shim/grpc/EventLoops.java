package io.jshim.shim.grpc;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;

/**
 * Netty epoll event loop groups, for gRPC (its server, clients and the event stream) and the other Netty users
 * of a process that loads Netty anyway. The ttrpc path does not use Netty (io.jshim.ttrpc works on raw fds).
 */
public final class EventLoops {
    private EventLoops() {
    }

    private static final class Shared {
        static final EventLoopGroup GROUP = newGroup("jshim-io");
    }

    /**
     * The process-wide one-thread epoll group, created on first use and never shut down. Its
     * thread is a daemon: it does not keep the JVM alive by itself.
     */
    public static EventLoopGroup shared() {
        return Shared.GROUP;
    }

    /** True on one of {@code group}'s threads, where waiting for its futures would deadlock. */
    public static boolean inEventLoop(EventLoopGroup group) {
        for (EventExecutor executor : group) {
            if (executor.inEventLoop()) {
                return true;
            }
        }
        return false;
    }

    /** A new one-thread epoll group with a daemon thread; the caller shuts it down. */
    public static EventLoopGroup newGroup(String threadName) {
        return new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(threadName, true), EpollIoHandler.newFactory());
    }
}
