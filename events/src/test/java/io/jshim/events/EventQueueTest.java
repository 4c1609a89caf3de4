package io.jshim.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.events.TaskExecAdded;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.events.TaskOOM;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class EventQueueTest {

    @Test
    void sequencesFollowPublishOrderAndTopicsAndTypeUrlsAreContainerds() throws Exception {
        EventQueue q = new EventQueue("default");
        Event a = q.publish(TaskExecAdded.newBuilder().setContainerId("c").setExecId("e").build());
        Event b = q.publish(TaskExit.newBuilder().setContainerId("c").setId("c").build());
        assertEquals(1, a.sequence());
        assertEquals(2, b.sequence());
        assertEquals("/tasks/exec-added", a.topic());
        assertEquals("/tasks/exit", b.topic());
        assertEquals("containerd.events.TaskExit", b.envelope().getEvent().getTypeUrl());
        assertEquals("default", b.envelope().getNamespace());
        Queued first = q.peek(Duration.ZERO);
        assertEquals(a, first.event());
        assertEquals(a.envelope().toByteString(), first.envelope(), "the bytes containerd gets");
        assertEquals(a.topic(), first.topic());
        q.remove(first);
        assertEquals(b, q.peek(Duration.ZERO).event());
    }

    @Test
    void overflowDropsOldestOrdinaryEventsButNeverExitsOrOoms() throws Exception {
        EventQueue q = new EventQueue("ns", 10, Long.MAX_VALUE, Clock.systemUTC());
        for (int i = 0; i < 30; i++) {
            if (i % 3 == 0) {
                q.publish(TaskExit.newBuilder().setContainerId("c" + i).build());
            } else if (i % 3 == 1) {
                q.publish(TaskOOM.newBuilder().setContainerId("c" + i).build());
            } else {
                q.publish(TaskExecAdded.newBuilder().setContainerId("c" + i).build());
            }
        }
        // 20 precious events exceed the bound of 10: they are all kept, every ordinary one is dropped.
        List<Event> left = new ArrayList<>();
        Queued e;
        while ((e = q.peek(Duration.ZERO)) != null) {
            left.add(e.event());
            q.remove(e);
        }
        assertEquals(20, left.size());
        assertTrue(left.stream().allMatch(x -> Topics.isPrecious(x.message())));
        assertEquals(10, q.droppedCount());
        for (int i = 1; i < left.size(); i++) {
            assertTrue(left.get(i).sequence() > left.get(i - 1).sequence(), "order kept");
        }
    }

    @Test
    void overflowDropsTheOldestOrdinaryFirst() throws Exception {
        EventQueue q = new EventQueue("ns", 3, Long.MAX_VALUE, Clock.systemUTC());
        for (int i = 0; i < 5; i++) {
            q.publish(TaskExecAdded.newBuilder().setExecId("e" + i).build());
        }
        List<String> ids = new ArrayList<>();
        Queued e;
        while ((e = q.peek(Duration.ZERO)) != null) {
            ids.add(((TaskExecAdded) e.event().message()).getExecId());
            q.remove(e);
        }
        assertEquals(List.of("e2", "e3", "e4"), ids);
        assertEquals(2, q.droppedCount());
    }

    @Test
    void byteBoundAlsoApplies() throws Exception {
        EventQueue q = new EventQueue("ns", Integer.MAX_VALUE, 2_000, Clock.systemUTC());
        for (int i = 0; i < 100; i++) {
            q.publish(TaskExecAdded.newBuilder().setContainerId("x".repeat(50)).build());
        }
        assertTrue(q.backlogSize() < 100);
        assertTrue(q.droppedCount() > 0);
    }

    @Test
    void peekOnClosedEmptyQueueReturnsAtOnce() throws Exception {
        EventQueue q = new EventQueue("ns");
        q.close();
        assertNull(q.peek(Duration.ofSeconds(30)));
    }

    @Test
    void aFullBacklogOf100000ExitsIsHeldOffTheHeapAndDeliveredWhole() throws Exception {
        EventQueue q = new EventQueue("k8s.io");
        String id = "0123456789abcdef".repeat(4); // CRI ids are 64 hex characters
        Runtime rt = Runtime.getRuntime();
        System.gc();
        long heapBefore = rt.totalMemory() - rt.freeMemory();
        for (int i = 0; i < EventQueue.DEFAULT_MAX_EVENTS; i++) {
            q.publish(TaskExit.newBuilder().setContainerId(id).setId(id).setPid(100_000 + i).setExitStatus(i % 256)
                    .setExitedAt(io.jshim.proto.wkt.Timestamp.newBuilder().setSeconds(1_700_000_000L + i)).build());
        }
        System.gc();
        long heapHeld = rt.totalMemory() - rt.freeMemory() - heapBefore;
        assertEquals(EventQueue.DEFAULT_MAX_EVENTS, q.backlogSize());
        assertEquals(0, q.droppedCount());
        // As Java objects these exits took ~30 MB of heap; serialized off the heap, only the entries stay (~4 MB).
        assertTrue(heapHeld < 8L << 20, "heap held by the backlog: " + heapHeld + " bytes");
        Queued e;
        long expected = 1;
        while ((e = q.peek(Duration.ZERO)) != null) {
            assertEquals(expected, e.sequence(), "order and completeness");
            Event event = e.event();
            TaskExit exit = (TaskExit) event.message();
            assertEquals(100_000 + expected - 1, exit.getPid());
            assertEquals(id, exit.getContainerId());
            assertEquals("k8s.io", event.namespace());
            q.remove(e);
            expected++;
        }
        assertEquals(EventQueue.DEFAULT_MAX_EVENTS + 1, expected);
    }

    @Test
    void onlyTaskEventsArePublished() {
        EventQueue q = new EventQueue("ns");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> q.publish(io.jshim.proto.wkt.Empty.getDefaultInstance()));
        assertTrue(e.getMessage().contains("google.protobuf.Empty"), e.getMessage());
        assertEquals(0, q.backlogSize());
    }
}
