package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.runc.Options;
import io.jshim.proto.types.RuntimeInfo;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code -info} (issue 22): containerd 2.x runs it before a runtime's first task and reads a RuntimeInfo. The
 * launcher answers it in perl, without a JVM, with the JVM's bytes; and its options and features are the bytes
 * containerd 2.3.4's runc shim gives for the same options (the golden test, which needs that release).
 */
class RuntimeInfoTest {
    @TempDir
    static Path dir;
    static Path launcher;

    @BeforeAll
    static void install() throws Exception {
        launcher = InstalledShim.install(dir.resolve("install")).resolve("containerd-shim-jshim-v2");
    }

    /** The stdin cases: none, runc options naming the runc binary, the type.googleapis.com form, another type. */
    static Map<String, byte[]> inputs() throws Exception {
        String runc = java.util.stream.Stream.of(System.getenv("PATH").split(":")).map(d -> Path.of(d, "runc"))
                .filter(java.nio.file.Files::isExecutable).findFirst().orElseThrow().toString();
        Map<String, byte[]> in = new LinkedHashMap<>();
        in.put("no options", new byte[0]);
        in.put("runc options", Any.newBuilder().setTypeUrl("containerd.runc.v1.Options").setValue(Options.newBuilder()
                .setNoPivotRoot(true).setBinaryName(runc).setRoot("/run/jshim-info").setSystemdCgroup(true).build()
                .toByteString()).build().toByteArray());
        in.put("prefixed type", Any.newBuilder().setTypeUrl("type.googleapis.com/containerd.runc.v1.Options")
                .setValue(Options.newBuilder().setIoUid(1000).setIoGid(1000).build().toByteString()).build()
                .toByteArray());
        in.put("empty runc options", Any.newBuilder().setTypeUrl("containerd.runc.v1.Options").build().toByteArray());
        return in;
    }

    static CommandResult info(String binary, byte[] stdin, Map<String, String> extraEnv) throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(extraEnv);
        return new Monitor(Reaper.get()).run(SpawnSpec.of(binary, "-info").withEnv(env).withWorkDir(dir), stdin,
                Duration.ofSeconds(60));
    }

    @Test
    void theLauncherAnswersWithTheJvmsBytes() throws Exception {
        for (var c : inputs().entrySet()) {
            CommandResult shell = info(launcher.toString(), c.getValue(), Map.of());
            CommandResult jvm = info(launcher.toString(), c.getValue(), Map.of("JSHIM_NO_FASTPATH", "1"));
            assertEquals(0, shell.status(), c.getKey() + ": " + shell.stderrText());
            assertEquals(0, jvm.status(), c.getKey() + ": " + jvm.stderrText());
            assertArrayEquals(jvm.stdout(), shell.stdout(), c.getKey());
            RuntimeInfo info = RuntimeInfo.parseFrom(shell.stdout());
            assertEquals("io.containerd.jshim.v2", info.getName());
            assertEquals(io.jshim.shim.cli.Main.VERSION, info.getVersion().getVersion());
            assertTrue(info.hasFeatures(), c.getKey());
            assertTrue(info.getFeatures().getValue().toStringUtf8().startsWith("{\"ociVersionMin\":"), c.getKey());
            assertEquals(c.getValue().length > 0, info.hasOptions(), c.getKey());
        }
    }

    @Test
    void aMissingRuntimeBinaryIsAnErrorFromBoth() throws Exception {
        byte[] options = Any.newBuilder().setTypeUrl("containerd.runc.v1.Options").setValue(Options.newBuilder()
                .setBinaryName("no-such-runc-" + ProcessHandle.current().pid()).build().toByteString()).build()
                .toByteArray();
        CommandResult shell = info(launcher.toString(), options, Map.of());
        CommandResult jvm = info(launcher.toString(), options, Map.of("JSHIM_NO_FASTPATH", "1"));
        assertEquals(1, shell.status());
        assertEquals(1, jvm.status());
        assertEquals(jvm.stderrText(), shell.stderrText());
        assertTrue(shell.stderrText().contains("failed to look up the path of \"no-such-runc-"), shell.stderrText());
        assertEquals(0, shell.stdout().length);
        CommandResult garbage = info(launcher.toString(), new byte[] {0x0a, 0x7f, 0x01}, Map.of());
        assertEquals(1, garbage.status(), "a truncated Any is refused");
        assertTrue(garbage.stderrText().contains("failed to read runtime options"), garbage.stderrText());
    }

    /**
     * The golden test: containerd 2.3.4's runc shim, given the same stdin, echoes the same options and reports the
     * same features, byte for byte; only name and version are its own.
     */
    @Test
    @Tag("containerd2")
    void optionsAndFeaturesAreTheRuncShimsBytes() throws Exception {
        String reference = ContainerdRelease.containerd2().runcShim();
        for (var c : inputs().entrySet()) {
            CommandResult ours = info(launcher.toString(), c.getValue(), Map.of());
            CommandResult theirs = info(reference, c.getValue(), Map.of());
            assertEquals(0, theirs.status(), c.getKey() + ": " + theirs.stderrText());
            RuntimeInfo a = RuntimeInfo.parseFrom(ours.stdout());
            RuntimeInfo b = RuntimeInfo.parseFrom(theirs.stdout());
            assertEquals("io.containerd.runc.v2", b.getName());
            assertArrayEquals(b.getOptions().toByteArray(), a.getOptions().toByteArray(), c.getKey());
            assertArrayEquals(b.getFeatures().toByteArray(), a.getFeatures().toByteArray(), c.getKey());
            assertEquals(b.getAnnotationsMap(), a.getAnnotationsMap(), c.getKey());
            assertFalse(b.getFeatures().getValue().isEmpty());
            // and the raw bytes after name and version are Go's, in the same order
            byte[] tail = afterNameAndVersion(ours.stdout());
            assertArrayEquals(afterNameAndVersion(theirs.stdout()), tail, c.getKey());
            assertNotEquals(0, tail.length);
        }
    }

    /** The bytes after the leading fields 1 and 2 (both length-delimited, each shorter than 128 bytes). */
    static byte[] afterNameAndVersion(byte[] b) {
        assertEquals(0x0a, b[0]);
        int i = 2 + b[1];
        assertEquals(0x12, b[i]);
        i += 2 + b[i + 1];
        return java.util.Arrays.copyOfRange(b, i, b.length);
    }
}
