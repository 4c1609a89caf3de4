package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.Bytes;
import io.jshim.events.Event;
import io.jshim.proto.events.TaskExit;
import io.jshim.proto.runc.ProcessDetails;
import io.jshim.proto.task.DeleteResponse;
import io.jshim.proto.task.PidsResponse;
import io.jshim.proto.task.ResizePtyRequest;
import io.jshim.proto.task.StateResponse;
import io.jshim.proto.task.WaitResponse;
import io.jshim.proto.types.Mount;
import io.jshim.proto.types.ProcessInfo;
import io.jshim.proto.types.Status;
import io.jshim.shim.mount.Mounts;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Task API over ttrpc with real runc and busybox containers (issue 4). */
class TaskServiceTest {
    @TempDir
    static Path dir;
    static ShimFixture fixture;
    static ShimHarness shim;
    static TaskClient tasks;
    static Path rootfs;

    @BeforeAll
    static void setUp() throws Exception {
        fixture = ShimFixture.start(dir, true);
        shim = fixture.shim();
        tasks = fixture.tasks();
        rootfs = fixture.rootfs();
    }

    @AfterAll
    static void tearDown() {
        fixture.close();
    }

    static String newId(String prefix) {
        return fixture.newId(prefix);
    }

    static Path bundle(String id, OciBundle spec) throws Exception {
        return fixture.bundle(id, spec);
    }

    private static TtrpcException failure(Code expected, org.junit.jupiter.api.function.Executable call) {
        TtrpcException e = assertThrows(TtrpcException.class, call);
        assertEquals(expected, e.code(), e.getMessage());
        return e;
    }

    @Test
    void createStartWaitDeleteReportsTheExitCodeAndEvents() throws Exception {
        String id = newId("exit7");
        Path b = bundle(id, OciBundle.of("sh", "-c", "exit 7"));
        int pid = tasks.create(tasks.createRequest(id, b).build());
        assertTrue(pid > 0);
        assertEquals(Status.CREATED, tasks.state(id, "").getStatus());
        assertEquals(pid, tasks.start(id));
        WaitResponse w = tasks.await(id, "");
        assertEquals(7, w.getExitStatus());
        assertTrue(w.getExitedAt().getSeconds() > 0);
        StateResponse s = tasks.state(id, "");
        assertEquals(Status.STOPPED, s.getStatus());
        assertEquals(7, s.getExitStatus());
        DeleteResponse d = tasks.delete(id, "");
        assertEquals(7, d.getExitStatus());
        assertEquals(pid, d.getPid());
        List<String> mine = shim.events().stream().filter(e -> e.envelope().getEvent().getValue()
                .toStringUtf8().contains(id)).map(Event::topic).toList();
        assertEquals(List.of("/tasks/create", "/tasks/start", "/tasks/exit", "/tasks/delete"), mine);
        failure(Code.NOT_FOUND, () -> tasks.delete(id, ""));
        failure(Code.NOT_FOUND, () -> tasks.state(id, ""));
    }

    @Test
    void stdoutAndStderrArriveThroughFifos() throws Exception {
        String id = newId("out");
        Path b = bundle(id, OciBundle.of("sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"));
        Path out = Fifos.make(dir.resolve(id + "-stdout"));
        Path err = Fifos.make(dir.resolve(id + "-stderr"));
        CompletableFuture<byte[]> outText = Fifos.readAll(out);
        CompletableFuture<byte[]> errText = Fifos.readAll(err);
        tasks.create(tasks.createRequest(id, b).setStdout(out.toString()).setStderr(err.toString()).build());
        tasks.start(id);
        assertEquals(3, tasks.await(id, "").getExitStatus());
        assertEquals("to-stdout\n", new String(outText.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        assertEquals("to-stderr\n", new String(errText.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        tasks.delete(id, "");
    }

    @Test
    void outputWrittenJustBeforeExitIsThereWhenWaitReturns() throws Exception {
        for (int i = 0; i < 5; i++) {
            String id = newId("last-words");
            Path b = bundle(id, OciBundle.of("sh", "-c", "seq 1 20000; echo LAST"));
            Path out = Fifos.make(dir.resolve(id + "-stdout"));
            CompletableFuture<byte[]> text = Fifos.readAll(out);
            tasks.create(tasks.createRequest(id, b).setStdout(out.toString()).build());
            tasks.start(id);
            assertEquals(0, tasks.await(id, "").getExitStatus());
            // Wait returned: the shim has copied everything into the fifo, so the reader is already at EOF.
            String s = new String(text.get(2, TimeUnit.SECONDS), StandardCharsets.UTF_8);
            assertTrue(s.endsWith("20000\nLAST\n"), "tail: " + s.substring(Math.max(0, s.length() - 30)));
            tasks.delete(id, "");
        }
    }

    @Test
    void tenMegabytesThroughCatArriveIntact() throws Exception {
        String id = newId("cat10m");
        Path b = bundle(id, OciBundle.of("cat"));
        Path in = Fifos.make(dir.resolve(id + "-stdin"));
        Path out = Fifos.make(dir.resolve(id + "-stdout"));
        CompletableFuture<byte[]> received = Fifos.readAll(out);
        tasks.create(tasks.createRequest(id, b).setStdin(in.toString()).setStdout(out.toString()).build());
        tasks.start(id);
        byte[] data = new byte[10 * 1024 * 1024];
        new Random(42).nextBytes(data);
        try (OutputStream w = Fifos.openWriter(in)) {
            w.write(data);
        }
        tasks.closeStdin(id, "");
        assertEquals(0, tasks.await(id, "").getExitStatus());
        byte[] got = received.get(30, TimeUnit.SECONDS);
        assertEquals(data.length, got.length);
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(data),
                MessageDigest.getInstance("SHA-256").digest(got));
        tasks.delete(id, "");
    }

    @Test
    void execRunsWithItsOwnIoAndExitCode() throws Exception {
        String id = newId("exec");
        Path b = bundle(id, OciBundle.of("sleep", "60"));
        tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        try {
            Path out = Fifos.make(dir.resolve(id + "-e1-stdout"));
            CompletableFuture<byte[]> text = Fifos.readAll(out);
            tasks.exec(id, "e1", List.of("sh", "-c", "echo from-exec; exit 6"), "", out.toString(), "", false);
            failure(Code.ALREADY_EXISTS, () -> tasks.exec(id, "e1", "true"));
            assertEquals(Status.CREATED, tasks.state(id, "e1").getStatus());
            int pid = tasks.start(id, "e1");
            assertTrue(pid > 0);
            assertEquals(6, tasks.await(id, "e1").getExitStatus());
            assertEquals("from-exec\n", new String(text.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
            assertEquals(Status.STOPPED, tasks.state(id, "e1").getStatus());
            failure(Code.NOT_FOUND, () -> tasks.kill(id, "e1", 9, false));
            assertEquals(6, tasks.delete(id, "e1").getExitStatus());
            failure(Code.NOT_FOUND, () -> tasks.state(id, "e1"));
            failure(Code.NOT_FOUND, () -> tasks.delete(id, "e1"));
            assertEquals(Status.RUNNING, tasks.state(id, "").getStatus());
        } finally {
            tasks.forceRemove(id);
        }
    }

    @Test
    void execOfAMissingBinaryFailsAtStartAndTheContainerKeepsRunning() throws Exception {
        String id = newId("nobin");
        Path b = bundle(id, OciBundle.of("sleep", "60"));
        tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        try {
            tasks.exec(id, "bad", "/no/such/binary");
            TtrpcException e = assertThrows(TtrpcException.class, () -> tasks.start(id, "bad"));
            assertTrue(e.getMessage().contains("exec failed"), e.getMessage());
            assertEquals(Status.RUNNING, tasks.state(id, "").getStatus());
            failure(Code.FAILED_PRECONDITION, () -> tasks.kill(id, "bad", 9, false));
            tasks.delete(id, "bad");
            // and a good exec still works
            tasks.exec(id, "good", "true");
            tasks.start(id, "good");
            assertEquals(0, tasks.await(id, "good").getExitStatus());
            assertTrue(shim.events().stream().noneMatch(ev -> ev.message() instanceof TaskExit x
                    && x.getId().equals("bad")), "no TaskExit for a process that never started");
        } finally {
            tasks.forceRemove(id);
        }
    }

    @Test
    void stdinIsForwardedAndCloseIoEndsIt() throws Exception {
        String id = newId("stdin");
        Path b = bundle(id, OciBundle.of("sleep", "60"));
        tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        try {
            Path in = Fifos.make(dir.resolve(id + "-in"));
            Path out = Fifos.make(dir.resolve(id + "-out"));
            CompletableFuture<byte[]> text = Fifos.readAll(out);
            tasks.exec(id, "cat", List.of("cat"), in.toString(), out.toString(), "", false);
            tasks.start(id, "cat");
            try (OutputStream w = Fifos.openWriter(in)) {
                w.write("hello through stdin\n".getBytes(StandardCharsets.UTF_8));
            }
            tasks.closeStdin(id, "cat");
            assertEquals(0, tasks.await(id, "cat").getExitStatus());
            assertEquals("hello through stdin\n", new String(text.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } finally {
            tasks.forceRemove(id);
        }
    }

    @Test
    void terminalCarriesOutputAndResizes() throws Exception {
        String id = newId("tty");
        Path b = bundle(id, OciBundle.of("sh", "-c", "sleep 0.5; stty size; echo tty-ok").terminal(true));
        Path in = Fifos.make(dir.resolve(id + "-in"));
        Path out = Fifos.make(dir.resolve(id + "-out"));
        CompletableFuture<byte[]> text = Fifos.readAll(out);
        tasks.create(tasks.createRequest(id, b).setTerminal(true).setStdin(in.toString()).setStdout(out.toString())
                .build());
        OutputStream keepStdinOpen = Fifos.openWriter(in);
        try {
            tasks.start(id);
            shim.call("ResizePty", ResizePtyRequest.newBuilder().setId(id).setWidth(123).setHeight(45).build(),
                    io.jshim.proto.wkt.Empty.parser());
            assertEquals(0, tasks.await(id, "").getExitStatus());
        } finally {
            keepStdinOpen.close();
        }
        String s = new String(text.get(10, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        assertTrue(s.contains("45 123"), s);
        assertTrue(s.contains("tty-ok"), s);
        tasks.delete(id, "");
    }

    @Test
    void pauseAndResume() throws Exception {
        String id = newId("pause");
        Path b = bundle(id, OciBundle.of("sleep", "60"));
        tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        try {
            tasks.exec(id, "e", "sleep", "60");
            tasks.start(id, "e");
            shim.call("Pause", io.jshim.proto.task.PauseRequest.newBuilder().setId(id).build(),
                    io.jshim.proto.wkt.Empty.parser());
            assertEquals(Status.PAUSED, tasks.state(id, "").getStatus());
            assertEquals(Status.PAUSED, tasks.state(id, "e").getStatus(), "an exec reads as its paused init");
            TtrpcException again = assertThrows(TtrpcException.class, () -> shim.call("Pause",
                    io.jshim.proto.task.PauseRequest.newBuilder().setId(id).build(), io.jshim.proto.wkt.Empty.parser()));
            assertEquals(Code.UNKNOWN, again.code());
            shim.call("Resume", io.jshim.proto.task.ResumeRequest.newBuilder().setId(id).build(),
                    io.jshim.proto.wkt.Empty.parser());
            assertEquals(Status.RUNNING, tasks.state(id, "").getStatus());
            List<String> topics = shim.topics();
            assertTrue(topics.indexOf("/tasks/paused") < topics.lastIndexOf("/tasks/resumed"));
        } finally {
            tasks.forceRemove(id);
        }
    }

    @Test
    void pidsNameTheExecs() throws Exception {
        String id = newId("pids");
        Path b = bundle(id, OciBundle.of("sleep", "60"));
        int initPid = tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        try {
            tasks.exec(id, "worker", "sleep", "60");
            int execPid = tasks.start(id, "worker");
            PidsResponse pids = tasks.pids(id);
            assertEquals(2, pids.getProcessesCount());
            ProcessInfo init = pids.getProcessesList().stream().filter(p -> p.getPid() == initPid).findFirst().orElseThrow();
            assertFalse(init.hasInfo());
            ProcessInfo exec = pids.getProcessesList().stream().filter(p -> p.getPid() == execPid).findFirst().orElseThrow();
            assertEquals("containerd.runc.v1.ProcessDetails", exec.getInfo().getTypeUrl());
            assertEquals("worker", ProcessDetails.parseFrom(exec.getInfo().getValue()).getExecId());
        } finally {
            tasks.forceRemove(id);
        }
    }

    @Test
    void killAfterExitIsNotFoundAndStartAfterExitIsRefused() throws Exception {
        String id = newId("kill");
        Path b = bundle(id, OciBundle.of("sleep", "60"));
        tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        tasks.kill(id, "", 9, false);
        assertEquals(137, tasks.await(id, "").getExitStatus());
        failure(Code.NOT_FOUND, () -> tasks.kill(id, "", 9, false));
        failure(Code.UNKNOWN, () -> tasks.start(id));
        tasks.delete(id, "");
        failure(Code.NOT_FOUND, () -> tasks.kill(id, "", 9, false));
    }

    @Test
    void deleteOfACreatedExecReportsZero() throws Exception {
        String id = newId("created-exec");
        Path b = bundle(id, OciBundle.of("sleep", "60"));
        tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        try {
            tasks.exec(id, "never", "true");
            assertEquals(0, tasks.delete(id, "never").getExitStatus());
        } finally {
            tasks.forceRemove(id);
        }
    }

    @Test
    void badInputGetsClearErrorsAndLeavesNothingBehind() throws Exception {
        failure(Code.NOT_FOUND, () -> tasks.state("no-such-container", ""));
        failure(Code.NOT_FOUND, () -> tasks.start("no-such-container"));
        failure(Code.INVALID_ARGUMENT, () -> tasks.create(tasks.createRequest("x1", dir.resolve("missing-bundle")).build()));
        String id = newId("bad");
        Path b = bundle(id, OciBundle.of("true"));
        failure(Code.INVALID_ARGUMENT, () -> tasks.create(tasks.createRequest(id, b)
                .setOptions(Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                        .setValue(Bytes.copyFrom(new byte[] {(byte) 0xff, 0x01, 0x02}))).build()));
        failure(Code.INVALID_ARGUMENT, () -> tasks.create(tasks.createRequest(id, b)
                .setOptions(Any.newBuilder().setTypeUrl("example.com/Unknown")).build()));
        TtrpcException fifo = assertThrows(TtrpcException.class, () -> tasks.create(tasks.createRequest(id, b)
                .setStdout(dir.resolve("no-such-dir/stdout").toString()).build()));
        assertTrue(fifo.getMessage().contains("no-such-dir"), fifo.getMessage());
        // nothing was created: the id is free, runc knows nothing of it
        failure(Code.NOT_FOUND, () -> tasks.state(id, ""));
        assertFalse(Files.exists(shim.dir().resolve("runc").resolve(ShimHarness.NAMESPACE).resolve(id)));
        // and the same id can now be created for real
        tasks.create(tasks.createRequest(id, b).build());
        tasks.start(id);
        assertEquals(0, tasks.await(id, "").getExitStatus());
        tasks.delete(id, "");
    }

    @Test
    void createFailureFromRuncCarriesRuncsMessage() throws Exception {
        String id = newId("nocmd");
        Path b = bundle(id, OciBundle.of("/no/such/command"));
        TtrpcException e = assertThrows(TtrpcException.class, () -> {
            tasks.create(tasks.createRequest(id, b).build());
            tasks.start(id);
        });
        assertTrue(e.getMessage().contains("OCI runtime"), e.getMessage());
        assertTrue(e.getMessage().contains("no such file") || e.getMessage().contains("not found"), e.getMessage());
        tasks.forceRemove(id);
    }

    @Test
    void rootfsMountsAreMountedAndRemovedOnDelete() throws Exception {
        String id = newId("mounted");
        Path b = dir.resolve("bundles").resolve(id);
        OciBundle.of("sh", "-c", "test -x /bin/busybox").writeTo(b, b.resolve("rootfs"));
        Mount bind = Mount.newBuilder().setType("bind").setSource(rootfs.toString())
                .addAllOptions(List.of("rbind", "rw")).build();
        tasks.create(tasks.createRequest(id, b).addRootfs(bind).build());
        assertTrue(Mounts.isMountPoint(b.resolve("rootfs")));
        tasks.start(id);
        assertEquals(0, tasks.await(id, "").getExitStatus());
        tasks.delete(id, "");
        assertFalse(Mounts.isMountPoint(b.resolve("rootfs")));
    }
}
