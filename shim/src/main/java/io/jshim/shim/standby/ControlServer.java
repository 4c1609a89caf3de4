package io.jshim.shim.standby;

import io.jshim.ttrpc.TtrpcServer;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The standby's private control socket (0600, in a 0700 directory; peers of our own uid only): each connection
 * brings one handover message, which goes whole to {@code requests}; one that stops short (the sender closed, or
 * said nothing more within {@link #MESSAGE_TIMEOUT_MS}) or grows past {@link #MAX_MESSAGE} is logged and dropped.
 * Runs on the shared event loop; the standby's main thread answers each request.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ControlServer.class);
    static final int MAX_MESSAGE = 1 << 20;
    static final long MESSAGE_TIMEOUT_MS = 2_000;

    /** A whole message from {@code peerPid}, to be answered on {@code channel}. */
    record Request(Channel channel, int peerPid, byte[] message) {
        void answer(String line) {
            channel.writeAndFlush(Unpooled.copiedBuffer(line + "\n", StandardCharsets.US_ASCII))
                    .addListener(ChannelFutureListener.CLOSE);
        }
    }

    private final Channel listener;
    private final Path path;
    /** The connections not yet answered; only touched on the event loop. */
    private final Set<Channel> open;

    private ControlServer(Channel listener, Path path, Set<Channel> open) {
        this.listener = listener;
        this.path = path;
        this.open = open;
    }

    static ControlServer bind(Path path, EventLoopGroup loop, BlockingQueue<Request> requests) throws IOException {
        Path dir = path.getParent();
        Files.createDirectories(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Files.deleteIfExists(path); // a dead standby's: the launcher boots one only under its lock
        int euid = TtrpcServer.effectiveUid();
        Set<Channel> open = new HashSet<>();
        Channel ch = new ServerBootstrap().group(loop).channel(EpollServerDomainSocketChannel.class)
                .childHandler(new ChannelInitializer<EpollDomainSocketChannel>() {
                    @Override
                    protected void initChannel(EpollDomainSocketChannel c) throws IOException {
                        io.netty.channel.unix.PeerCredentials peer = c.peerCredentials();
                        if (peer.uid() != euid) {
                            log.warn("standby: refused a connection from pid {} uid {} (only uid {} may hand over)",
                                    peer.pid(), peer.uid(), euid);
                            c.close();
                            return;
                        }
                        open.add(c);
                        c.closeFuture().addListener(f -> open.remove(c));
                        c.pipeline().addLast(new Reader(peer.pid(), requests));
                    }
                })
                .bind(new DomainSocketAddress(path.toString())).syncUninterruptibly().channel();
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        return new ControlServer(ch, path, open);
    }

    @Override
    public void close() {
        close(null);
    }

    /**
     * Stops listening, removes the socket file (no start finds this standby any more) and closes every connection
     * but {@code keep}'s: a start whose message is still on its way sees the end of the stream and boots its own
     * daemon at once, rather than waiting out its bound (after which it would kill what it takes for a silent
     * standby, and is by then a daemon).
     */
    void close(Channel keep) {
        listener.eventLoop().submit(() -> {
            listener.close();
            for (Channel c : List.copyOf(open)) {
                if (c != keep) {
                    c.close();
                }
            }
        }).syncUninterruptibly();
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            log.warn("standby: cannot remove {}: {}", path, e.toString());
        }
    }

    /** Gathers one connection's message. */
    private static final class Reader extends ChannelInboundHandlerAdapter {
        private final int peerPid;
        private final BlockingQueue<Request> requests;
        private byte[] message = new byte[4096];
        private int length;
        private boolean done;

        Reader(int peerPid, BlockingQueue<Request> requests) {
            this.peerPid = peerPid;
            this.requests = requests;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            ctx.executor().schedule(() -> {
                if (!done) {
                    drop(ctx, "no whole message within " + MESSAGE_TIMEOUT_MS + " ms");
                }
            }, MESSAGE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf buf = (ByteBuf) msg;
            try {
                if (done) {
                    return;
                }
                int n = buf.readableBytes();
                if (length + n > MAX_MESSAGE) {
                    drop(ctx, "message larger than " + MAX_MESSAGE + " bytes");
                    return;
                }
                if (length + n > message.length) {
                    message = Arrays.copyOf(message, Math.max(length + n, 2 * message.length));
                }
                buf.readBytes(message, length, n);
                length += n;
                if (Handover.complete(message, length)) {
                    done = true;
                    requests.add(new Request(ctx.channel(), peerPid, Arrays.copyOf(message, length)));
                }
            } finally {
                buf.release();
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!done) {
                done = true;
                log.warn("standby: partial handover from pid {} ({} bytes, then the connection closed): not adopted",
                        peerPid, length);
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            drop(ctx, cause.toString());
        }

        private void drop(ChannelHandlerContext ctx, String why) {
            done = true;
            log.warn("standby: handover from pid {} dropped ({} bytes read): {}; not adopted", peerPid, length, why);
            ctx.close();
        }
    }
}
