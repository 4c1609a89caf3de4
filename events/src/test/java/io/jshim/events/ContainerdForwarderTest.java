package io.jshim.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.eventsvc.Envelope;
import io.jshim.proto.events.TaskExecAdded;
import io.jshim.proto.events.TaskExit;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The forwarder's rules with a stand-in transport; the real socket path is in TtrpcForwardingTest. */
class ContainerdForwarderTest {

    /** Unreachable for the first {@code failures} attempts, then takes everything. */
    static final class FlakyTransport implements EventTransport {
        final List<Envelope> delivered = new ArrayList<>();
        final AtomicInteger attempts = new AtomicInteger();
        volatile int failures;
        volatile String rejectTopic = "";

        FlakyTransport(int failures) {
            this.failures = failures;
        }

        @Override
        public synchronized void forward(io.jshim.proto.wire.Bytes bytes, String namespace) throws Exception {
            Envelope envelope = Envelope.parseFrom(bytes);
            assertEquals(envelope.getNamespace(), namespace);
            attempts.incrementAndGet();
            if (failures > 0) {
                failures--;
                throw new IOException("connection refused");
            }
            if (envelope.getTopic().equals(rejectTopic)) {
                throw new Rejected("InvalidArgument", null);
            }
            delivered.add(envelope);
        }

        synchronized List<Envelope> delivered() {
            return new ArrayList<>(delivered);
        }

        @Override
        public void close() {}
    }

    @Test
    void keepsOrderAndLosesNothingAcrossAnOutage() throws Exception {
        EventQueue q = new EventQueue("default");
        FlakyTransport t = new FlakyTransport(6);
        ContainerdForwarder f = new ContainerdForwarder(q, t).start();
        for (int i = 0; i < 200; i++) {
            q.publish(TaskExit.newBuilder().setContainerId("c").setId("p" + i).build());
        }
        assertTrue(f.drainAndStop(Duration.ofSeconds(30)));
        List<Envelope> got = t.delivered();
        assertEquals(200, got.size());
        for (int i = 0; i < 200; i++) {
            assertEquals("p" + i, TaskExit.parseFrom(got.get(i).getEvent().getValue()).getId());
        }
        assertEquals(206, t.attempts.get(), "each failure retried the same event, no duplicates");
    }

    @Test
    void aRejectedEventIsSkippedAndTheRestStillArrive() throws Exception {
        EventQueue q = new EventQueue("default");
        FlakyTransport t = new FlakyTransport(0);
        t.rejectTopic = "/tasks/exec-added";
        ContainerdForwarder f = new ContainerdForwarder(q, t).start();
        q.publish(TaskExecAdded.newBuilder().setContainerId("c").build());
        q.publish(TaskExit.newBuilder().setContainerId("c").build());
        assertTrue(f.drainAndStop(Duration.ofSeconds(10)));
        assertEquals(List.of("/tasks/exit"), t.delivered().stream().map(Envelope::getTopic).toList());
    }

    @Test
    void shutdownDrainIsBoundedWhenContainerdStaysAway() throws Exception {
        EventQueue q = new EventQueue("default");
        FlakyTransport t = new FlakyTransport(Integer.MAX_VALUE);
        ContainerdForwarder f = new ContainerdForwarder(q, t).start();
        q.publish(TaskExit.newBuilder().setContainerId("c").build());
        long start = System.nanoTime();
        assertFalse(f.drainAndStop(Duration.ofMillis(500)));
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
    }
}
