package io.jshim.stdio;

import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;

/**
 * The epoll event loop console sockets listen on when the caller passes none: one daemon thread
 * for the whole JVM, created on first use (a shim without terminals never starts it).
 */
final class ConsoleLoop {
    private ConsoleLoop() {}

    private static final class Holder {
        static final EventLoopGroup GROUP = new MultiThreadIoEventLoopGroup(
                1, new DefaultThreadFactory("io-console", true), EpollIoHandler.newFactory());
    }

    static EventLoopGroup shared() {
        return Holder.GROUP;
    }
}
