package io.jshim.events;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.events.TaskCheckpointed;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.events.TaskDelete;
import io.jshim.proto.events.TaskExecAdded;
import io.jshim.proto.events.TaskExecStarted;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.events.TaskOOM;
import io.jshim.proto.events.TaskPaused;
import io.jshim.proto.events.TaskResumed;
import io.jshim.proto.events.TaskStart;
import java.util.List;
import org.junit.jupiter.api.Test;

class TopicsTest {
    private static final List<ProtoMessage> TASK_EVENTS = List.of(TaskCreate.getDefaultInstance(),
            TaskStart.getDefaultInstance(), TaskDelete.getDefaultInstance(), TaskExit.getDefaultInstance(),
            TaskOOM.getDefaultInstance(), TaskExecAdded.getDefaultInstance(), TaskExecStarted.getDefaultInstance(),
            TaskPaused.getDefaultInstance(), TaskResumed.getDefaultInstance(), TaskCheckpointed.getDefaultInstance());

    @Test
    void spelledOutTypeUrlsAreTheDescriptorsFullNames() throws Exception {
        for (ProtoMessage event : TASK_EVENTS) {
            assertEquals(event.typeName(), Topics.typeUrl(event));
            assertNotEquals(Topics.UNKNOWN, Topics.of(event), event.getClass().getSimpleName());
            // what the off-heap backlog stores it as, it can read back
            Event e = new Event(1, java.time.Instant.EPOCH, "ns", Topics.of(event), event);
            assertEquals(event, Topics.unpack(e.payload()));
        }
    }

    @Test
    void aMessageThatIsNotATaskEventKeepsItsDescriptorsName() {
        assertEquals("google.protobuf.Timestamp", Topics.typeUrl(io.jshim.proto.wkt.Timestamp.getDefaultInstance()));
    }
}
