package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wkt.Empty;
import io.jshim.events.Event;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.eventsvc.Envelope;
import io.jshim.proto.eventsvc.ForwardRequest;
import io.jshim.reaper.Child;
import io.jshim.reaper.Posix;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcClient;
import io.jshim.ttrpc.TtrpcException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** jshim's ttrpc client against the real peer: containerd's own Events/Forward on its ttrpc socket. */
class ContainerdForwardInteropTest {
    static final String SERVICE = "containerd.services.events.ttrpc.v1.Events";

    private static ForwardRequest forward(String topic, TaskExit exit) {
        return ForwardRequest.newBuilder().setEnvelope(Envelope.newBuilder()
                .setTimestamp(Event.toTimestamp(Instant.now()))
                .setNamespace("default")
                .setTopic(topic)
                .setEvent(Any.newBuilder().setTypeUrl("containerd.events.TaskExit").setValue(exit.toByteString())))
                .build();
    }

    @Test
    void containerdTakesAForwardedTaskExitAndRefusesABadTopic(@TempDir Path dir) throws Exception {
        try (PrivateContainerd containerd = PrivateContainerd.start(dir.resolve("cd"))) {
            Path events = dir.resolve("events.txt");
            Child watcher = containerd.ctrBackground(events, "events");
            try (TtrpcClient client = TtrpcClient.connect(containerd.ttrpcSocket(), Duration.ofSeconds(5))) {
                TaskExit exit = TaskExit.newBuilder().setContainerId("jshim-interop").setId("jshim-interop")
                        .setPid(4242).setExitStatus(7).setExitedAt(Event.toTimestamp(Instant.now())).build();
                // ctr events subscribes asynchronously: forward until it shows, as a user watching would.
                boolean seen = false;
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (!seen && System.nanoTime() < deadline) {
                    client.call(SERVICE, "Forward", forward("/tasks/exit", exit), Empty.parser(),
                            Duration.ofSeconds(5), Map.of("containerd-namespace-ttrpc", "default"));
                    Thread.sleep(200);
                    String text = Files.readString(events);
                    seen = text.contains("/tasks/exit") && text.contains("jshim-interop");
                }
                String text = Files.readString(events);
                assertTrue(seen, "ctr events shows the forwarded exit; it printed: " + text);
                assertTrue(text.contains("4242") && text.contains("7"), text);

                TtrpcException bad = assertThrows(TtrpcException.class, () -> client.call(SERVICE, "Forward",
                        forward("tasks/exit", exit), Empty.parser(), Duration.ofSeconds(5), Map.of()));
                assertEquals(Code.INVALID_ARGUMENT, bad.code(), bad.getMessage());
            } finally {
                Posix.kill(watcher.pid(), 9);
                watcher.onExit().get();
            }
        }
    }
}
