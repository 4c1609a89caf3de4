package io.jshim.stdio;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.jshim.reaper.LibcCall;
import java.lang.foreign.MemorySegment;

/**
 * Receiving the one fd runc sends over a console socket with SCM_RIGHTS: recvmsg(2), which
 * {@link io.jshim.reaper.UnixSocket} (socket, bind, listen, accept) has no call for. The fd arrives close-on-exec
 * (MSG_CMSG_CLOEXEC): no child spawned meanwhile can inherit the pty master.
 */
final class ScmRights {
    private static final int SOL_SOCKET = 1;
    private static final int SCM_RIGHTS = 1;
    private static final int MSG_DONTWAIT = 0x40;
    private static final int MSG_CMSG_CLOEXEC = 0x40000000;

    /** {@link #receive}: nothing readable yet. */
    static final int NOTHING_YET = -1;
    /** {@link #receive}: the peer closed (or failed) without sending an fd. */
    static final int GONE = -2;

    /*
     * struct msghdr (64-bit Linux): name 0, namelen 8, iov 16, iovlen 24, control 32, controllen 40, flags 48.
     * struct cmsghdr: len (size_t) 0, level 8, type 12, data 16. Room for 4 fds: a peer sending more gets the rest
     * discarded by the kernel (MSG_CTRUNC), never installed here.
     */
    private static final long MSGHDR_SIZE = 56;
    private static final long IOVEC_SIZE = 16;
    private static final long CMSG_HEADER = 16;
    private static final long CONTROL_SIZE = CMSG_HEADER + 4 * 4;
    /** runc sends the pty's name as the data (/dev/pts/N); what is read here is discarded. */
    private static final long DATA_SIZE = 256;
    static final long SCRATCH_SIZE = MSGHDR_SIZE + IOVEC_SIZE + CONTROL_SIZE + DATA_SIZE;

    private static final LibcCall RECVMSG = LibcCall.of("recvmsg");
    private static final LibcCall CLOSE = LibcCall.of("close");

    private ScmRights() {}

    /**
     * One non-blocking recvmsg on a connection: the first fd it carried (close-on-exec; any further ones are
     * closed), {@link #NOTHING_YET}, or {@link #GONE} at EOF or on an error. Data without an fd is discarded.
     *
     * @param scratch {@link #SCRATCH_SIZE} bytes of native memory the caller reuses across calls
     */
    static int receive(int conn, MemorySegment scratch, MemorySegment errno) {
        MemorySegment msg = scratch.asSlice(0, MSGHDR_SIZE);
        MemorySegment iov = scratch.asSlice(MSGHDR_SIZE, IOVEC_SIZE);
        MemorySegment control = scratch.asSlice(MSGHDR_SIZE + IOVEC_SIZE, CONTROL_SIZE);
        MemorySegment data = scratch.asSlice(MSGHDR_SIZE + IOVEC_SIZE + CONTROL_SIZE, DATA_SIZE);
        // every field set, none filled: a bulk fill loads FFM's bulk-operation classes for nothing
        iov.set(JAVA_LONG, 0, data.address());
        iov.set(JAVA_LONG, 8, DATA_SIZE);
        msg.set(JAVA_LONG, 0, 0); // no name
        msg.set(JAVA_LONG, 8, 0); // namelen and padding
        msg.set(JAVA_LONG, 16, iov.address());
        msg.set(JAVA_LONG, 24, 1);
        msg.set(JAVA_LONG, 32, control.address());
        msg.set(JAVA_LONG, 40, CONTROL_SIZE);
        msg.set(JAVA_LONG, 48, 0); // flags and padding
        long n = RECVMSG.call(errno, conn, msg.address(), MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0) {
            int err = LibcCall.errno(errno);
            return err == StdioNative.EAGAIN || err == StdioNative.EINTR ? NOTHING_YET : GONE;
        }
        long controlLength = msg.get(JAVA_LONG, 40);
        int first = -1;
        if (controlLength >= CMSG_HEADER && control.get(JAVA_INT, 8) == SOL_SOCKET
                && control.get(JAVA_INT, 12) == SCM_RIGHTS) {
            long count = (Math.min(control.get(JAVA_LONG, 0), Math.min(controlLength, CONTROL_SIZE)) - CMSG_HEADER) / 4;
            for (long i = 0; i < count; i++) {
                int fd = control.get(JAVA_INT, CMSG_HEADER + 4 * i);
                if (first < 0) {
                    first = fd;
                } else {
                    CLOSE.call(errno, fd);
                }
            }
        }
        if (first >= 0) {
            return first;
        }
        return n == 0 ? GONE : NOTHING_YET;
    }
}
