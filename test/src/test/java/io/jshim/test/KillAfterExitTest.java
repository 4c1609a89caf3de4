package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.jshim.proto.task.StateResponse;
import io.jshim.proto.types.Status;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill of a process that is gone (issue 20): it is signalled through its pidfd, never by its bare pid, which the
 * kernel may have given to another process since the reap; and the NotFound answer comes only once the exit is
 * committed, its TaskExit queued, so the answer never tells of an exit that State, Wait and containerd do not know.
 */
class KillAfterExitTest {
    @TempDir
    static Path dir;
    static ShimFixture fixture;
    static TaskClient tasks;

    @BeforeAll
    static void setUp() throws Exception {
        fixture = ShimFixture.start(dir, true);
        tasks = fixture.tasks();
    }

    @AfterAll
    static void tearDown() {
        fixture.close();
    }

    @Test
    void killOfAnExecReapedButNotYetReportedWaitsForItsExitAndIsNotFound() throws Exception {
        String id = fixture.newId("kill-gone");
        tasks.create(tasks.createRequest(id, fixture.bundle(id, OciBundle.of("sleep", "1000"))).build());
        tasks.start(id);
        try {
            // The exec's shell exits at once; the sleep it leaves behind holds its stdout, so the exit waits for
            // the output drain (ExitCoordinator.DRAIN_LIMIT, 5 s) before it is reported.
            Path out = Fifos.make(dir.resolve(id + "-stdout"));
            Fifos.readAll(out);
            tasks.exec(id, "x", List.of("sh", "-c", "sleep 30 & exit 4"), "", out.toString(), "", false);
            int pid = tasks.start(id, "x");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (Files.exists(Path.of("/proc/" + pid)) && System.nanoTime() < deadline) {
                Thread.sleep(10); // until the shim has reaped the shell
            }
            StateResponse before = tasks.state(id, "x");
            assertEquals(Status.RUNNING, before.getStatus(), "reaped, but its exit is not reported before the drain");
            TtrpcException e = assertThrows(TtrpcException.class, () -> tasks.kill(id, "x", 9, false));
            assertEquals(Code.NOT_FOUND, e.code(), e.getMessage());
            assertEquals("process already finished: not found", e.getMessage());
            StateResponse after = tasks.state(id, "x");
            assertEquals(Status.STOPPED, after.getStatus(), "NotFound came before the exit was committed");
            assertEquals(4, after.getExitStatus());
        } finally {
            tasks.forceRemove(id);
        }
    }
}
