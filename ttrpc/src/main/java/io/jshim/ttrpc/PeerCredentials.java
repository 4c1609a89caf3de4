package io.jshim.ttrpc;

/** SO_PEERCRED of a unix socket peer: the process that connected, as the kernel saw it then. */
public record PeerCredentials(int pid, int uid, int gid) {
    static PeerCredentials of(io.netty.channel.unix.PeerCredentials netty) {
        int[] gids = netty.gids();
        return new PeerCredentials(netty.pid(), netty.uid(), gids.length > 0 ? gids[0] : -1);
    }
}
