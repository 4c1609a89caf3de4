package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jshim.proto.wkt.Empty;
import io.jshim.proto.task.ResumeRequest;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcException;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

/**
 * The Task API's errors read as containerd's runc shim's (issue 21), over real ttrpc and runc: clients and people
 * match these texts, and containerd 2.x shows them as they are.
 */
class ErrorTextTest {
    @TempDir
    static Path dir;
    static ShimFixture fixture;
    static TaskClient tasks;

    @BeforeAll
    static void setUp() throws Exception {
        fixture = ShimFixture.start(dir, false);
        tasks = fixture.tasks();
    }

    @AfterAll
    static void tearDown() {
        fixture.close();
    }

    static void says(Code code, String message, Executable call) {
        TtrpcException e = assertThrows(TtrpcException.class, call);
        assertEquals(code, e.code(), e.getMessage());
        assertEquals(message, e.getMessage());
    }

    @Test
    void aStoppedContainerAndItsProcessesSayWhatTheReferenceSays() throws Exception {
        String id = fixture.newId("words");
        tasks.create(tasks.createRequest(id, fixture.bundle(id, OciBundle.of("sleep", "1000"))).build());
        tasks.start(id);
        try {
            tasks.exec(id, "never-started", "true");
            says(Code.FAILED_PRECONDITION, "process not created: failed precondition",
                    () -> tasks.kill(id, "never-started", 9, false));
            says(Code.NOT_FOUND, "process does not exist nobody: not found", () -> tasks.state(id, "nobody"));
            tasks.kill(id, "", 9, false);
            assertEquals(137, tasks.await(id, "").getExitStatus());
            says(Code.NOT_FOUND, "process already finished: not found", () -> tasks.kill(id, "", 9, false));
            says(Code.UNKNOWN, "cannot resume a stopped container", () -> fixture.shim().call("Resume",
                    ResumeRequest.newBuilder().setId(id).build(), Empty.parser()));
            says(Code.UNKNOWN, "cannot exec in a stopped state", () -> tasks.exec(id, "late", "true"));
            tasks.delete(id, "never-started");
            tasks.delete(id, "");
            says(Code.NOT_FOUND, "container not created: not found", () -> tasks.state(id, ""));
            says(Code.NOT_FOUND, "container not created: not found", () -> tasks.delete(id, ""));
        } finally {
            tasks.forceRemove(id);
        }
    }
}
