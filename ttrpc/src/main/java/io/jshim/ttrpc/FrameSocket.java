package io.jshim.ttrpc;

import io.jshim.reaper.NativeMemory;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One connected unix socket carrying ttrpc frames, server or client side: a platform thread of its own reads
 * (blocked in recv(2)) and hands each frame to the {@link Handler}; any thread writes whole frames under the write
 * lock.
 *
 * <p>Why a blocking thread per connection and no selector: a shim has one or two connections (containerd's, an
 * exporter's now and then), and a selector, Netty's event loop or the JDK's, costs a thread as well plus the
 * classes (each class a daemon loads costs it resident memory through the AOT cache, docs/performance.md). Frames
 * are handled on the reader thread itself when the handler says so (never-blocking methods), with no hand-off.
 *
 * <p>A peer that does not read: a write waits at most {@link #SEND_TIMEOUT_MILLIS} (SO_SNDTIMEO) for room in the
 * socket, then the connection is closed. So a stalled peer holds only its own connection's writers (never another
 * connection's: each has its own lock), and not forever. The fd is closed by the reader thread only, under the
 * write lock, once no write can be using it, so a write never lands on a reused fd number.
 */
final class FrameSocket {
    /** How long a write waits for a peer that does not read before the connection is given up. */
    static final long SEND_TIMEOUT_MILLIS = 10_000;
    /** recv(2) buffer; malloc'ed, so only the pages a read fills become resident. */
    private static final int READ_BUFFER = 64 * 1024;

    /** What the reader thread calls. */
    interface Handler {
        /** A frame arrived; on the reader thread, in wire order. */
        void onFrame(InboundFrame frame);

        /**
         * The connection is closed and its fd released; called once, last, on the reader thread. {@code cause}:
         * why, when it was not a clean end of input or a {@link #close}.
         */
        void onClosed(Throwable cause);
    }

    private final int fd;
    private final FrameDecoder decoder;
    private final BodyBudget budget;
    /** Guards the fd's writes and its close: a frame's bytes go out whole, and never after the fd is closed. */
    private final Object writeLock = new Object();
    /** Guarded by writeLock. */
    private boolean fdClosed;
    /**
     * Guards the fd number against reuse between {@link #close}'s shutdown(2), from any thread, and the reader's
     * close(2). Taken after writeLock where both are; held only for those two quick calls.
     */
    private final Object fdLock = new Object();
    /** Guarded by fdLock. */
    private boolean fdReleased;
    /** Set by {@link #close} or when the reader ends; the reader stops at its next chance. */
    private volatile boolean closing;
    private Thread reader;

    /**
     * Takes over {@code fd} (a connected, blocking socket): from now on it is closed by this object only.
     * {@code budget} limits large bodies held over all connections sharing it.
     */
    FrameSocket(int fd, BodyBudget budget) throws IOException {
        this.fd = fd;
        this.budget = budget;
        this.decoder = new FrameDecoder(budget, () -> closing);
        UnixSocket.setSendTimeout(fd, SEND_TIMEOUT_MILLIS);
    }

    /** Starts the reader thread (a daemon: it does not keep the JVM alive). */
    void start(String threadName, Handler handler) {
        reader = Thread.ofPlatform().name(threadName).daemon(true).unstarted(() -> readLoop(handler));
        reader.start();
    }

    private void readLoop(Handler handler) {
        Throwable cause = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = NativeMemory.uninitialized(arena, READ_BUFFER);
            ByteBuffer chunk = buffer.asByteBuffer();
            List<InboundFrame> frames = new ArrayList<>();
            while (!closing) {
                long n = UnixSocket.recv(fd, buffer, 0, READ_BUFFER);
                if (n <= 0) { // 0: end of input (the peer closed, or close() shut the socket down)
                    if (!closing) {
                        decoder.finish(); // throws when the input ended inside a frame
                    }
                    break;
                }
                chunk.clear().limit((int) n);
                decoder.decode(chunk, frames);
                for (int i = 0; i < frames.size(); i++) {
                    handler.onFrame(frames.get(i));
                }
                frames.clear();
            }
        } catch (IOException | RuntimeException | Error e) {
            cause = e;
        } finally {
            closing = true;
            decoder.release();
            // Wakes a writer blocked on a full socket (its send fails), so the lock below comes free.
            UnixSocket.shutdown(fd, UnixSocket.SHUT_RDWR);
            synchronized (writeLock) {
                fdClosed = true;
                synchronized (fdLock) {
                    fdReleased = true;
                    UnixSocket.close(fd);
                }
            }
            handler.onClosed(cause);
        }
    }

    /**
     * Writes {@code frame} whole: true once sent, false when the connection is closed already (the frame is
     * dropped). A failed write (the peer went, or did not read for {@link #SEND_TIMEOUT_MILLIS}) closes the
     * connection and throws.
     *
     * @throws IllegalArgumentException the frame is over 4 MiB (nothing is sent; the connection stays)
     */
    boolean write(Frame frame) throws IOException {
        byte[] bytes = FrameEncoder.encode(frame);
        synchronized (writeLock) {
            if (fdClosed || closing) {
                return false;
            }
            try {
                UnixSocket.sendFully(fd, bytes, 0, bytes.length);
                return true;
            } catch (IOException e) {
                close();
                throw e;
            }
        }
    }

    /**
     * Closes the connection from any thread: the reader wakes (shutdown(2) ends its recv), stops, releases the fd
     * and calls {@link Handler#onClosed}. Idempotent; returns at once.
     */
    void close() {
        closing = true;
        synchronized (fdLock) {
            if (!fdReleased) {
                UnixSocket.shutdown(fd, UnixSocket.SHUT_RDWR);
            }
        }
        budget.wakeAll(); // a reader waiting for body budget sees `closing`
    }

    boolean isOpen() {
        return !closing;
    }

    /** Waits up to {@code millis} for the reader to have finished (at once on the reader thread itself). */
    void awaitClosed(long millis) {
        Thread r = reader;
        if (r == null || r == Thread.currentThread()) {
            return;
        }
        try {
            r.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
