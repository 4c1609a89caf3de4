package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.task.DeleteResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An exec's terminal is the request's, whatever the process spec it came with says (issue 21): a client that takes
 * the container's process spec for an exec and sets only the request's {@code terminal} gets a tty, or none, as it
 * asked. Real runc, real fifos; the process itself says whether its stdout is a tty.
 */
class ExecTerminalTest {
    static final boolean FULL = "full".equals(System.getProperty("jshim.scale", "small"));
    static final int EXECS = FULL ? 100 : 10;
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

    @Test
    void execsAskingForATerminalGetOneInAContainerWhoseSpecHasNone() throws Exception {
        runExecs(true, false);
    }

    @Test
    void execsAskingForNoTerminalGetNoneWhenTheirSpecSaysTerminal() throws Exception {
        runExecs(false, true);
    }

    /** {@value #EXECS} execs with the request's {@code terminal} and a spec saying {@code specTerminal}. */
    private static void runExecs(boolean terminal, boolean specTerminal) throws Exception {
        String id = fixture.newId(terminal ? "exec-tty" : "exec-notty");
        // the container itself has no terminal; its execs' specs say specTerminal, their requests terminal
        Path bundle = fixture.bundle(id, OciBundle.of("sleep", "1000"));
        tasks.create(tasks.createRequest(id, bundle).build());
        tasks.start(id);
        try {
            for (int i = 0; i < EXECS; i++) {
                String execId = "e" + i;
                Path out = Fifos.make(dir.resolve(id + "-" + execId + "-out"));
                CompletableFuture<byte[]> text = Fifos.readAll(out);
                int code = 1 + i % 100;
                tasks.exec(id, execId, List.of("sh", "-c", "if [ -t 1 ]; then echo tty-" + execId
                                + "; else echo pipe-" + execId + "; fi; exit " + code), "", out.toString(), "",
                        terminal, specTerminal);
                tasks.start(id, execId);
                assertEquals(code, tasks.await(id, execId).getExitStatus(), execId + " exit code");
                DeleteResponse deleted = tasks.delete(id, execId);
                assertEquals(code, deleted.getExitStatus(), execId + " exit code in Delete");
                String s = new String(text.get(30, TimeUnit.SECONDS), StandardCharsets.UTF_8);
                // a tty turns the newline into \r\n
                String expected = terminal ? "tty-" + execId + "\r\n" : "pipe-" + execId + "\n";
                assertTrue(s.equals(expected), execId + " wrote " + s.replace("\r", "\\r").replace("\n", "\\n"));
            }
        } finally {
            tasks.forceRemove(id);
        }
        System.out.printf("exec terminal: %d execs with terminal=%s into a container (spec terminal=%s)%n", EXECS,
                terminal, specTerminal);
    }
}
