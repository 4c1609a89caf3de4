package io.jshim.shim.grpc;

import io.jshim.ttrpc.PeerCredentials;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.epoll.AbstractEpollServerChannel;
import io.netty.channel.epoll.EpollChannelConfig;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.LinuxSocket;
import io.netty.channel.unix.DomainSocketAddress;
import java.io.IOException;
import java.net.SocketAddress;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A unix-socket server channel for grpc-java's Netty server that can serve a socket that is already listening
 * (fd 3 from {@code start}: grpc's server always binds, and Netty's own channel cannot skip that), and checks
 * every peer's SO_PEERCRED before gRPC sees a byte from it.
 */
final class DomainServerChannel extends AbstractEpollServerChannel {
    private static final Logger log = LoggerFactory.getLogger(DomainServerChannel.class);
    private static final int BACKLOG = 4096;

    private final boolean adopted;
    private final Predicate<PeerCredentials> peerPolicy;
    private final EpollChannelConfig config = new EpollChannelConfig(this) {
        @Override
        public <T> boolean setOption(ChannelOption<T> option, T value) {
            // grpc sets a TCP backlog; a unix listener has its own (BACKLOG, or start's for an adopted fd).
            return option == ChannelOption.SO_BACKLOG || super.setOption(option, value);
        }
    };
    private volatile DomainSocketAddress local;

    private DomainServerChannel(int fd, boolean adopted, Predicate<PeerCredentials> peerPolicy) {
        super(fd < 0 ? LinuxSocket.newSocketDomain() : LinuxSocket.newSocket(fd), adopted);
        this.adopted = adopted;
        this.peerPolicy = peerPolicy;
    }

    /** A new socket, bound and listening when grpc binds it to its address. */
    static DomainServerChannel binding(Predicate<PeerCredentials> peerPolicy) {
        return new DomainServerChannel(-1, false, peerPolicy);
    }

    /** The listening socket {@code fd}: grpc's bind only names it. */
    static DomainServerChannel adopting(int fd, Predicate<PeerCredentials> peerPolicy) {
        return new DomainServerChannel(fd, true, peerPolicy);
    }

    @Override
    public EpollChannelConfig config() {
        return config;
    }

    @Override
    protected void doBind(SocketAddress address) throws Exception {
        if (!adopted) {
            socket.bind(address);
            socket.listen(BACKLOG);
            active = true;
        }
        local = (DomainSocketAddress) address;
    }

    @Override
    protected SocketAddress localAddress0() {
        return local;
    }

    @Override
    public DomainSocketAddress localAddress() {
        return local;
    }

    @Override
    protected Channel newChildChannel(int fd, byte[] address, int offset, int len) throws Exception {
        EpollDomainSocketChannel child = new EpollDomainSocketChannel(this, LinuxSocket.newSocket(fd));
        String refusal = refusal(child);
        if (refusal != null) {
            log.warn("closing gRPC connection: {}", refusal);
            // Registered first, so it closes the connection before gRPC's handlers read anything.
            child.pipeline().addFirst(new ChannelInboundHandlerAdapter() {
                @Override
                public void channelRegistered(ChannelHandlerContext ctx) {
                    ctx.close();
                }
            });
        }
        return child;
    }

    private String refusal(EpollDomainSocketChannel child) {
        try {
            io.netty.channel.unix.PeerCredentials c = child.peerCredentials();
            int[] gids = c.gids();
            PeerCredentials peer = new PeerCredentials(c.pid(), c.uid(), gids.length > 0 ? gids[0] : -1);
            return peerPolicy.test(peer) ? null : "peer pid " + peer.pid() + " uid " + peer.uid() + " not allowed";
        } catch (IOException e) {
            return "peer credentials unreadable: " + e.getMessage();
        }
    }
}
