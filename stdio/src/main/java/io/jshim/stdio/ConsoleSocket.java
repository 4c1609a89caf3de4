package io.jshim.stdio;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.channel.unix.DomainSocketReadMode;
import io.netty.channel.unix.FileDescriptor;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unix socket given to {@code runc --console-socket}: runc connects and sends the pty master
 * with SCM_RIGHTS. A socket per console, because in FILE_DESCRIPTORS read mode Netty drops the
 * data bytes (the pty name) that come with the fd.
 */
final class ConsoleSocket implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleSocket.class);
    private static final int MAX_SUN_PATH = 107;

    private final Path path;
    private final CompletableFuture<Integer> master = new CompletableFuture<>();
    /** Guards closed/taken against a late fd arriving on the event loop. */
    private final Object lock = new Object();
    private boolean closed;
    private boolean taken;
    private volatile Channel server;
    /** Accepted connections, closed with the socket so a peer that never sends cannot leak one. */
    private final Set<Channel> connections = ConcurrentHashMap.newKeySet();

    private ConsoleSocket(Path path) {
        this.path = path;
    }

    static ConsoleSocket listen(Path path, EventLoopGroup group) throws IOException {
        if (path.toString().getBytes(StandardCharsets.UTF_8).length > MAX_SUN_PATH) {
            throw new IOException("console socket path is longer than " + MAX_SUN_PATH + " bytes: " + path);
        }
        ConsoleSocket socket = new ConsoleSocket(path);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(group)
                .channel(EpollServerDomainSocketChannel.class)
                .childOption(EpollChannelOption.DOMAIN_SOCKET_READ_MODE, DomainSocketReadMode.FILE_DESCRIPTORS)
                .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel ch) {
                        socket.connections.add(ch);
                        ch.closeFuture().addListener(f -> socket.connections.remove(ch));
                        ch.pipeline().addLast(socket.new Receiver());
                    }
                });
        try {
            socket.server = bootstrap.bind(new DomainSocketAddress(path.toString())).sync().channel();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            socket.close();
            throw new IOException("interrupted binding console socket " + path, e);
        } catch (Exception e) {
            socket.close();
            throw new IOException("cannot listen on console socket " + path + ": " + e.getMessage(), e);
        }
        return socket;
    }

    Path path() {
        return path;
    }

    /** Waits for the master; the caller owns the returned fd. */
    int awaitMaster(Duration timeout) throws IOException {
        int fd;
        try {
            fd = master.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new IOException("no pty master received on console socket " + path + " within " + timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for the pty master on " + path, e);
        } catch (ExecutionException e) {
            throw new IOException("receiving the pty master on " + path + " failed", e.getCause());
        }
        synchronized (lock) {
            if (closed) {
                throw new IOException("console socket " + path + " closed while receiving the pty master");
            }
            taken = true;
            return fd;
        }
    }

    private void received(int fd) {
        synchronized (lock) {
            if (closed || master.isDone()) {
                StdioNative.close(fd);
                return;
            }
            try {
                // Netty's recvFd may not set MSG_CMSG_CLOEXEC; a spawn elsewhere must not inherit the master.
                StdioNative.setCloseOnExec(fd);
            } catch (ErrnoException e) {
                LOG.warn("cannot set FD_CLOEXEC on the pty master: {}", e.getMessage());
            }
            master.complete(fd);
        }
    }

    @Override
    public void close() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            if (master.isDone() && !taken) {
                StdioNative.close(master.join());
            }
        }
        master.completeExceptionally(new IOException("console socket closed"));
        Channel s = server;
        if (s != null) {
            s.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        for (Channel c : connections) {
            c.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.warn("cannot remove console socket {}: {}", path, e.getMessage());
        }
    }

    private final class Receiver extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof FileDescriptor fd) {
                received(fd.intValue());
                ctx.close();
            } else {
                ReferenceCountUtil.release(msg);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            LOG.warn("console socket {}: {}", path, cause.toString());
            ctx.close();
        }
    }
}
