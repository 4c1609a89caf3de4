package io.jshim.shim.exporter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How a daemon serving gRPC that cannot answer is reported: down, with the gRPC status saying why, within the
 * per-daemon bound. (A gRPC daemon that answers: ExporterGrpcTest, in the test module.)
 */
class ScraperTest {
    private static final Duration TIMEOUT = Duration.ofMillis(500);

    private static Target grpc(Path socket) {
        return new Target(1, 1, socket, "ns", "/run/containerd/containerd.sock", Target.GRPC);
    }

    /**
     * gRPC's client classes load on the first gRPC scrape, cold: more than these tests' 500 ms on two busy cores. Loaded
     * here, within a generous bound, so that each test's bound is the daemon's alone.
     */
    @BeforeAll
    static void loadTheGrpcClient(@TempDir Path dir) throws Exception {
        Scraper.Result r = new Scraper(Duration.ofSeconds(60)).scrapeAll(List.of(grpc(dir.resolve("none.sock"))))
                .getFirst();
        assertInstanceOf(Scraper.Down.class, r.outcome());
    }

    @Test
    void aGrpcDaemonWhoseSocketIsGoneIsDownAsUnavailable(@TempDir Path dir) throws Exception {
        Scraper.Result r = new Scraper(TIMEOUT).scrapeAll(List.of(grpc(dir.resolve("gone.sock")))).getFirst();
        Scraper.Down down = assertInstanceOf(Scraper.Down.class, r.outcome());
        assertTrue(down.reason().startsWith("gRPC UNAVAILABLE"), down.reason());
        assertTrue(down.reason().contains(dir.resolve("gone.sock").toString()), down.reason());
    }

    @Test
    void aGrpcDaemonThatNeverAnswersIsDownWhenItsTimeIsUp(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("mute.sock");
        // listening, so the connection is made (in the backlog), but nothing ever reads or writes: a stuck daemon
        try (ServerSocketChannel mute = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            mute.bind(UnixDomainSocketAddress.of(socket));
            long start = System.nanoTime();
            Scraper.Result r = new Scraper(TIMEOUT).scrapeAll(List.of(grpc(socket))).getFirst();
            double took = (System.nanoTime() - start) / 1e9;
            Scraper.Down down = assertInstanceOf(Scraper.Down.class, r.outcome());
            // the call's deadline, or (a core too busy to run its timer in time) the scrape's own bound just after it
            assertTrue(down.reason().startsWith("gRPC DEADLINE_EXCEEDED")
                    || down.reason().equals("no answer within 500 ms"), down.reason());
            assertTrue(took < TIMEOUT.toMillis() / 1000.0 + 2, "the scrape waited " + took + " s");
            assertTrue(r.seconds() >= TIMEOUT.toMillis() / 1000.0 * 0.9, "down before its time: " + r.seconds());
        }
    }

    @Test
    void aProtocolOfANewerDaemonIsDownSayingSo() throws Exception {
        Target t = new Target(1, 1, Path.of("/nowhere.sock"), "ns", "/c.sock", "quic");
        Scraper.Result r = new Scraper(TIMEOUT).scrapeAll(List.of(t)).getFirst();
        assertEquals(new Scraper.Down("protocol quic unknown to this exporter"), r.outcome());
    }
}
