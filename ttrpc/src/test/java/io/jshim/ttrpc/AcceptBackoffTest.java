package io.jshim.ttrpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wire.Bytes;
import io.jshim.reaper.UnixSocket;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;
import jnr.posix.SpawnFileAction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A server out of file descriptors: accept4 fails with EMFILE while connections wait, so the listening socket
 * stays readable. The server ({@link FdLimitServer}) runs in a child JVM under {@code ulimit -n 256} (the limit is
 * per process), serving a listening socket this test made and handed over as fd 3, so connecting needs no wait for
 * the child. Spawned with posix_spawnp and reaped with waitpid on its own pid (no ProcessBuilder).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class AcceptBackoffTest {
    /** Fds the child keeps free after exhausting its limit: that many waiting connections are accepted. */
    private static final int HEADROOM = 4;
    private static final long WINDOW_MILLIS = 3_000;
    /** CPU the child may use during the window, as a share of one core: a spinning I/O thread uses all of it. */
    private static final double MAX_CPU_SHARE = 0.25;
    /** /proc's clock ticks (USER_HZ), 100 on Linux. */
    private static final double TICKS_PER_SECOND = 100;
    private static final int O_WRONLY = 01;
    private static final int O_CREAT = 0100;
    private static final int O_TRUNC = 01000;
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void outOfFdsTheListenerPausesWithoutSpinningServesOthersAndAcceptsOnceFdsAreFreed() throws Exception {
        Path socket = dir.resolve("limited.sock");
        Path log = dir.resolve("child.log");
        POSIX posix = POSIXFactory.getNativePOSIX();
        long pid = spawnServer(posix, socket, log);
        List<RawConnection> clients = new ArrayList<>();
        ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor(); // one per client, each for its answer
        try (TtrpcClient control = TtrpcClient.connect(socket, Duration.ofSeconds(10))) {
            // Accepted while fds are free: this connection must be served all along.
            int held = Integer.parseInt(control.call(FdLimitServer.SERVICE, FdLimitServer.EXHAUST,
                    Bytes.copyFromUtf8(Integer.toString(HEADROOM)), CALL_TIMEOUT, null).toStringUtf8());
            assertTrue(held > 0, "the child took its free fds: " + held);

            // Twice the headroom connect (the backlog takes them) and send a request; the first HEADROOM are
            // accepted and answered, then accept4 fails with EMFILE and the rest wait.
            AtomicInteger answered = new AtomicInteger();
            CountDownLatch firstAnswers = new CountDownLatch(HEADROOM);
            List<CompletableFuture<RawConnection.Reply>> replies = new ArrayList<>();
            for (int i = 0; i < 2 * HEADROOM; i++) {
                RawConnection client = new RawConnection(socket);
                clients.add(client);
                client.sendRequest(1, "test.Echo", "Echo", Bytes.copyFromUtf8("client " + i));
                CompletableFuture<RawConnection.Reply> reply = new CompletableFuture<>();
                readers.execute(() -> {
                    try {
                        reply.complete(client.readReply());
                        answered.incrementAndGet();
                        firstAnswers.countDown();
                    } catch (IOException | RuntimeException e) {
                        reply.completeExceptionally(e);
                    }
                });
                replies.add(reply);
            }
            assertTrue(firstAnswers.await(60, TimeUnit.SECONDS), "the connections the free fds allow are served");

            // Out of fds with connections waiting: the server must not spin, and must go on serving.
            long cpuBefore = cpuTicks(pid);
            long start = System.nanoTime();
            int calls = 0;
            while (System.nanoTime() - start < TimeUnit.MILLISECONDS.toNanos(WINDOW_MILLIS)) {
                Bytes echo = Bytes.copyFromUtf8("meanwhile " + calls++);
                assertEquals(echo, control.call("test.Echo", "Echo", echo, CALL_TIMEOUT, null));
                Thread.sleep(100); // pacing the calls, not waiting for anything
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpuSeconds = (cpuTicks(pid) - cpuBefore) / TICKS_PER_SECOND;
            System.out.printf("out of fds: child used %.2f s CPU in %.2f s (%d calls served meanwhile)%n",
                    cpuSeconds, seconds, calls);
            assertTrue(cpuSeconds < MAX_CPU_SHARE * seconds,
                    "child used " + cpuSeconds + " s CPU in " + seconds + " s while out of fds; its log ends:\n"
                            + tail(log));
            assertEquals(HEADROOM, answered.get(), "nothing more was accepted while out of fds");

            // The answered clients leave: their fds are freed and the waiting connections are accepted and served.
            List<Integer> waiting = new ArrayList<>();
            for (int i = 0; i < clients.size(); i++) {
                if (replies.get(i).isDone()) {
                    clients.get(i).close();
                } else {
                    waiting.add(i);
                }
            }
            for (int i : waiting) {
                RawConnection.Reply r = replies.get(i).get(60, TimeUnit.SECONDS);
                assertEquals(Code.OK, r.code());
                assertEquals(Bytes.copyFromUtf8("client " + i), r.response().getPayload());
            }
        } finally {
            for (RawConnection client : clients) {
                client.close();
            }
            posix.kill((int) pid, 9);
            posix.waitpid(pid, new int[1], 0);
            readers.shutdownNow(); // their connections are closed: they end
        }

        // One line for the episode, as it ended, counting the refused accepts: retried with back-off, no flood.
        List<String> warnings = Files.readAllLines(log).stream().filter(l -> l.contains("refused")).toList();
        assertEquals(1, warnings.size(), "one warning per episode; the log: " + tail(log));
        System.out.println("child logged: " + warnings.getFirst());
        Matcher m = Pattern.compile("refused (\\d+) times over (\\d+) ms \\(EMFILE").matcher(warnings.getFirst());
        assertTrue(m.find(), warnings.getFirst());
        int refused = Integer.parseInt(m.group(1));
        long millis = Long.parseLong(m.group(2));
        // Retried 100, 200, 400, 800 ms, then 1 s apart: at least five times in the 3 s window; about one a second
        // after the first 1.5 s (a few more where some waiting connections got in and the pause started again).
        assertTrue(refused >= 5 && refused <= 10 + millis / 1000, warnings.getFirst());
    }

    private long spawnServer(POSIX posix, Path socket, Path log) throws IOException {
        int listening = UnixSocket.listen(socket.toString(), 128);
        try {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> argv = List.of("sh", "-c", "ulimit -n 256 && exec \"$0\" \"$@\"", java,
                    "-XX:-UsePerfData", "-XX:-UseContainerSupport", "-XX:TieredStopAtLevel=1", "-Xmx64m",
                    "--enable-native-access=ALL-UNNAMED", "-Djava.library.path=" + System.getProperty("java.library.path"),
                    "-cp", System.getProperty("java.class.path"), FdLimitServer.class.getName());
            long pid = posix.posix_spawnp("sh", List.of(
                    SpawnFileAction.open(log.toString(), 1, O_WRONLY | O_CREAT | O_TRUNC, 0644),
                    SpawnFileAction.dup(1, 2), SpawnFileAction.dup(listening, 3)),
                    argv, List.of("PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/"));
            assertTrue(pid > 0, "spawned " + argv);
            return pid; // sh execs java in place: the same pid
        } finally {
            UnixSocket.close(listening); // the child's now
        }
    }

    /** The last lines of {@code log} (a server that spins may log each turn). */
    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return lines.size() + " lines, the last:\n"
                + String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    }

    /** utime + stime of {@code pid}, in clock ticks (/proc/pid/stat fields 14 and 15, after the command's parens). */
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
    }
}
