package io.jshim.ttrpc;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import io.jshim.reaper.NativeMemory;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One connected unix socket carrying ttrpc frames, server or client side, driven by the {@link IoLoop}: the loop
 * reads, decodes and hands each frame to the {@link Handler} on its thread; any thread writes whole frames.
 *
 * <p>Writes never block: under the write lock a frame goes out with non-blocking send(2), and what the socket
 * does not take waits in this connection's queue, sent as the loop sees room (EPOLLOUT). Meanwhile a server's
 * connection reads nothing more, so a peer that sends requests and does not read the answers cannot make us queue
 * more than the answers already being made. (A client's connection reads on: it must take the answers that make
 * room for its requests, or a server doing the same would wait for it forever.) A peer that reads nothing for {@link #SEND_TIMEOUT_MILLIS} is closed. So a
 * stalled peer holds no thread and delays no other connection.
 *
 * <p>The fd is closed on the loop thread only, under the write lock, so no write lands on a closed (maybe
 * reused) fd number.
 */
final class FrameSocket implements IoLoop.Channel {
    /** How long a peer may leave our answers unread before the connection is given up. */
    static final long SEND_TIMEOUT_MILLIS = 10_000;
    /** Queued answer bytes beyond which a peer that does not read is given up at once. */
    private static final long MAX_QUEUED = 2L * (Frame.HEADER_LENGTH + Frame.MAX_DATA_LENGTH);

    /** What the loop calls. */
    interface Handler {
        /** A frame arrived; on the loop thread, in wire order. */
        void onFrame(InboundFrame frame);

        /**
         * The connection is closed and its fd released; called once, last, on the loop thread. {@code cause}: why,
         * when it was not a clean end of input or a {@link #close}.
         */
        void onClosed(Throwable cause);
    }

    private final IoLoop loop;
    private final int fd;
    private final FrameDecoder decoder;
    /** Server side: stop reading while answers wait to be sent (see the class comment). */
    private final boolean pauseReadsWhileQueued;
    private Handler handler;
    /** Input the decoder left for want of body budget; loop thread only. Null when none. */
    private byte[] unread;
    /** Waiting for body budget: not reading. Loop thread only. */
    private boolean budgetWait;
    /** The epoll mask now asked for; loop thread only. */
    private int interest;

    /** Guards the queue, the fd's writes and its close: frames go out whole and in order, never after the close. */
    private final Object writeLock = new Object();
    /** Frames (or their unsent tails) the socket did not take yet; guarded by writeLock. */
    private final ArrayDeque<byte[]> queued = new ArrayDeque<>();
    /** Bytes in {@code queued}; guarded by writeLock. */
    private long queuedBytes;
    /** When the queue last made progress (or started), for the send timeout; guarded by writeLock. */
    private long lastProgressNanos;
    /** The fd is closed; guarded by writeLock. */
    private boolean fdClosed;
    /** Set by {@link #close} or as the loop closes; writes stop at once. */
    private volatile boolean closing;
    private final CountDownLatch closed = new CountDownLatch(1);

    /**
     * Takes over {@code fd} (a connected socket; made non-blocking here): from now on it is closed by this object
     * only. {@code budget} limits large bodies held over all connections sharing it.
     */
    FrameSocket(IoLoop loop, int fd, BodyBudget budget, boolean pauseReadsWhileQueued) throws IOException {
        this.loop = loop;
        this.fd = fd;
        this.pauseReadsWhileQueued = pauseReadsWhileQueued;
        this.decoder = new FrameDecoder(budget, () -> loop.execute(this::resumeAfterBudget));
        UnixSocket.setNonBlocking(fd, true);
    }

    /** Starts reading: registers with the loop (from any thread). */
    void start(Handler handler) {
        this.handler = handler;
        loop.execute(() -> {
            if (closing) {
                closeNow(null);
                return;
            }
            try {
                interest = IoLoop.EPOLLIN;
                loop.register(fd, interest, this);
            } catch (IOException e) {
                closeNow(e);
            }
        });
    }

    @Override
    public void onReady(int events) {
        if ((events & IoLoop.EPOLLOUT) != 0) {
            flush();
        }
        if ((interest & IoLoop.EPOLLIN) == 0 && (events & (IoLoop.EPOLLHUP | IoLoop.EPOLLERR)) != 0) {
            // The peer is gone while we are not reading (its frame waits for budget, or our answers for room): nobody
            // would read an answer. (Hang-ups are reported even when not asked for; left alone, this one would wake
            // the loop again and again.)
            closeNow(null);
            return;
        }
        if ((events & (IoLoop.EPOLLIN | IoLoop.EPOLLHUP | IoLoop.EPOLLERR)) != 0 && (interest & IoLoop.EPOLLIN) != 0
                && !fdClosedNow()) {
            read();
        }
    }

    private boolean fdClosedNow() {
        synchronized (writeLock) {
            return fdClosed;
        }
    }

    private void read() {
        MemorySegment buffer = loop.readBuffer();
        long n;
        try {
            n = UnixSocket.recv(fd, buffer, 0, IoLoop.READ_BUFFER);
        } catch (IOException e) {
            closeNow(e);
            return;
        }
        if (n < 0) {
            return; // EAGAIN: woken for a hang-up with input still to come, or spuriously
        }
        if (n == 0) {
            if (closing) {
                closeNow(null);
                return;
            }
            try {
                decoder.finish(); // throws when the input ended inside a frame
                closeNow(null);
            } catch (TruncatedFrameException e) {
                closeNow(e);
            }
            return;
        }
        feed(buffer.asSlice(0, n).asByteBuffer());
    }

    /** Decodes {@code chunk} and hands its frames on; keeps what the budget did not let it take. */
    private void feed(ByteBuffer chunk) {
        List<InboundFrame> frames = new ArrayList<>();
        boolean all = decoder.decode(chunk, frames);
        if (!all) {
            unread = new byte[chunk.remaining()];
            chunk.get(unread);
            budgetWait = true;
            updateInterest();
        }
        for (int i = 0; i < frames.size() && !closing; i++) {
            handler.onFrame(frames.get(i));
        }
    }

    /** Loop thread: room in the budget may be free; feed the input kept back, then read on. */
    private void resumeAfterBudget() {
        if (!budgetWait || fdClosedNow()) {
            return;
        }
        budgetWait = false;
        byte[] rest = unread;
        unread = null;
        feed(ByteBuffer.wrap(rest));
        updateInterest();
    }

    /** Loop thread: EPOLLIN unless waiting for budget or for the peer to read; EPOLLOUT while answers wait. */
    private void updateInterest() {
        int wanted;
        synchronized (writeLock) {
            if (fdClosed) {
                return;
            }
            boolean backlog = !queued.isEmpty();
            boolean paused = budgetWait || (backlog && pauseReadsWhileQueued);
            wanted = (paused ? 0 : IoLoop.EPOLLIN) | (backlog ? IoLoop.EPOLLOUT : 0);
        }
        if (wanted != interest) {
            try {
                loop.modify(fd, wanted);
                interest = wanted;
            } catch (IOException e) {
                closeNow(e);
            }
        }
    }

    /**
     * Sends {@code frame} whole or queues what does not fit: true once sent or queued, false when the connection is
     * closed already (the frame is dropped). Never blocks. A peer that leaves more than two full frames unread is
     * given up: the connection is closed and this throws.
     *
     * @throws IllegalArgumentException the frame is over 4 MiB (nothing is sent; the connection stays)
     */
    boolean write(Frame frame) throws IOException {
        byte[] bytes = FrameEncoder.encode(frame);
        boolean wantOut = false;
        synchronized (writeLock) {
            if (fdClosed || closing) {
                return false;
            }
            if (queued.isEmpty()) {
                int sent = send(bytes, 0);
                if (sent == bytes.length) {
                    return true;
                }
                queue(sent == 0 ? bytes : Arrays.copyOfRange(bytes, sent, bytes.length));
                lastProgressNanos = System.nanoTime();
                wantOut = true;
            } else if (queuedBytes + bytes.length > MAX_QUEUED) {
                close();
                throw new IOException("peer leaves " + queuedBytes + " bytes of answers unread: connection closed");
            } else {
                queue(bytes);
            }
        }
        if (wantOut) {
            loop.execute(this::updateInterest);
            Timers.shared().schedule(this::checkStalled, SEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        }
        return true;
    }

    private void queue(byte[] bytes) {
        queued.add(bytes);
        queuedBytes += bytes.length;
    }

    /** Non-blocking send of {@code bytes} from {@code offset}: how many went (0 when the socket is full). */
    private int send(byte[] bytes, int offset) throws IOException {
        int length = bytes.length - offset;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment copy = NativeMemory.uninitialized(a, length);
            MemorySegment.copy(bytes, offset, copy, JAVA_BYTE, 0, length);
            long sent = 0;
            while (sent < length) {
                long n;
                try {
                    n = UnixSocket.send(fd, copy, sent, length - sent);
                } catch (IOException e) {
                    close(); // the peer went (EPIPE, ECONNRESET)
                    throw e;
                }
                if (n < 0) {
                    break; // EAGAIN: full
                }
                sent += n;
            }
            return (int) sent;
        }
    }

    /** Loop thread, on EPOLLOUT: sends what waits; reads again once all is gone. */
    private void flush() {
        synchronized (writeLock) {
            while (!queued.isEmpty() && !fdClosed) {
                byte[] head = queued.peek();
                int sent;
                try {
                    sent = send(head, 0);
                } catch (IOException e) {
                    break; // closed by send
                }
                if (sent > 0) {
                    lastProgressNanos = System.nanoTime();
                }
                if (sent < head.length) {
                    if (sent > 0) { // keep the unsent tail at the head
                        queued.poll();
                        queued.addFirst(Arrays.copyOfRange(head, sent, head.length));
                        queuedBytes -= sent;
                    }
                    break;
                }
                queued.poll();
                queuedBytes -= head.length;
            }
        }
        updateInterest();
    }

    /** Timer: closes the connection when its queue has made no progress for {@link #SEND_TIMEOUT_MILLIS}. */
    private void checkStalled() {
        long idleMillis;
        synchronized (writeLock) {
            if (queued.isEmpty() || fdClosed) {
                return;
            }
            idleMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastProgressNanos);
        }
        if (idleMillis >= SEND_TIMEOUT_MILLIS) {
            loop.execute(() -> closeNow(new IOException("peer read none of our answers for "
                    + SEND_TIMEOUT_MILLIS + " ms: connection closed")));
        } else {
            Timers.shared().schedule(this::checkStalled, SEND_TIMEOUT_MILLIS - idleMillis, TimeUnit.MILLISECONDS);
        }
    }

    /** Closes the connection from any thread; the loop releases the fd and calls {@link Handler#onClosed}. */
    void close() {
        closing = true;
        loop.execute(() -> closeNow(null));
    }

    /** Loop thread: deregisters, closes the fd, releases the decoder's budget, tells the handler. Once. */
    @Override
    public void closeNow(Throwable cause) {
        closing = true;
        synchronized (writeLock) {
            if (fdClosed) {
                return;
            }
            fdClosed = true;
            loop.deregister(fd);
            UnixSocket.close(fd);
            queued.clear();
            queuedBytes = 0;
        }
        decoder.release();
        unread = null;
        try {
            if (handler != null) {
                handler.onClosed(cause);
            }
        } finally {
            closed.countDown();
        }
    }

    boolean isOpen() {
        return !closing;
    }

    /** Waits up to {@code millis} for the fd to be released (at once on the loop thread, which would do it). */
    void awaitClosed(long millis) {
        loop.awaitOffLoop(closed, millis);
    }
}
