package io.jshim.ttrpc;

/** SO_PEERCRED of a unix socket peer: the process that connected, as the kernel saw it then. */
public record PeerCredentials(int pid, int uid, int gid) {
}
