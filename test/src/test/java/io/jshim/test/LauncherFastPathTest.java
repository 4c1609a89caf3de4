package io.jshim.test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.bootstrap.BootstrapParams;
import io.jshim.proto.bootstrap.BootstrapResult;
import io.jshim.proto.bootstrap.Extension;
import io.jshim.proto.bootstrap.LogLevel;
import io.jshim.proto.task.DeleteResponse;
import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.shim.cli.ShimAddress;
import io.jshim.shim.task.Bundle;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The installed launcher answers {@code start} (joining a live group) and {@code delete} in shell, without a JVM
 * (issue 9). These prove the shell computes exactly the address {@link ShimAddress} computes, finds a live shim
 * with no JVM at all, and writes the same DeleteResponse bytes as the JVM's {@code delete}.
 */
class LauncherFastPathTest {
    @TempDir
    static Path dir;
    static Path launcher;

    @BeforeAll
    static void install() throws Exception {
        launcher = InstalledShim.install(dir.resolve("install")).resolve("containerd-shim-jshim-v2");
    }

    record Case(String annotations, String id, String namespace, String address, String wideGroup) {}

    @AfterAll
    static void removeRuncRoot() {
        io.jshim.test.PrivateContainerd.deleteRuncRoot("jshim-fastpath-" + ProcessHandle.current().pid());
    }

    @Test
    void shellAndJavaComputeTheSameAddress() throws Exception {
        List<Case> cases = List.of(
                new Case("{}", "c1", "default", "/run/containerd/containerd.sock", null),
                new Case("{\"io.containerd.runc.v2.group\":\"pod-a\"}", "c2", "default", "/tmp/x/c.sock", null),
                new Case("{\"io.kubernetes.cri.sandbox-id\":\"0123abcd\"}", "c3", "k8s.io", "/run/containerd/containerd.sock", null),
                new Case("{\"io.kubernetes.cri.sandbox-id\":\"sb\",\"io.containerd.runc.v2.group\":\"g\"}", "c4", "ns", "/a.sock", null),
                new Case("{\"io.containerd.runc.v2.group\":\"\",\"io.kubernetes.cri.sandbox-id\":\"sb2\"}", "c5", "ns", "/a.sock", null),
                new Case("{\"io.containerd.runc.v2.group\":\"with space and ünïcode\"}", "c6", "ns", "/a.sock", null),
                new Case("{\"io.kubernetes.cri.sandbox-id\":\"sb\"}", "c7", "ns", "/a.sock", "wide"),
                new Case("{\"io.containerd.runc.v2.group\":\"g\"}", "c8", "ns", "/a.sock", "wide"),
                new Case("{\"other\":\"x\"}", "c9", "ns", "/a.sock", "wide"),
                new Case("{ \"io.containerd.runc.v2.group\" : \"spaced\" }", "c10", "ns", "/a.sock", null));
        for (Case c : cases) {
            Path bundle = Files.createDirectories(dir.resolve("bundles/" + c.id()));
            Files.writeString(bundle.resolve("config.json"), "{\"ociVersion\":\"1.0.2\",\"annotations\":"
                    + c.annotations() + "}");
            String java = ShimAddress.address(ShimAddress.SOCKET_DIR, c.address(), c.namespace(),
                    ShimAddress.group(Bundle.annotations(bundle), c.id(), c.wideGroup()));
            Map<String, String> env = new HashMap<>(Map.of("JSHIM_PRINT_ADDRESS", "1"));
            if (c.wideGroup() != null) {
                env.put("JSHIM_GROUP", c.wideGroup());
            }
            CommandResult r = launch(bundle, env, "-namespace", c.namespace(), "-address", c.address(),
                    "-publish-binary", "/usr/bin/containerd", "-id", c.id(), "start");
            assertEquals(java, r.stdoutText(), c.toString());
        }
    }

    @Test
    void escapedJsonIsLeftToTheJvm() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundles/escaped"));
        Files.writeString(bundle.resolve("config.json"), "{\"annotations\":{\"io.containerd.runc.v2.group\":\"a\\\"b\"}}");
        CommandResult r = launch(bundle, Map.of("JSHIM_PRINT_ADDRESS", "1"), "-namespace", "ns", "-address", "/a.sock",
                "-id", "x", "start");
        assertEquals("fallback", r.stdoutText());
    }

    /** A live listener at the group's address: start answers from the shell; a JVM could not even start. */
    @Test
    void joiningALiveGroupNeedsNoJvm() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundles/joiner"));
        String group = "jshim-fastpath-test-" + ProcessHandle.current().pid();
        Files.writeString(bundle.resolve("config.json"), "{\"annotations\":{\"io.containerd.runc.v2.group\":\"" + group + "\"}}");
        String address = ShimAddress.address(ShimAddress.SOCKET_DIR, dir + "/c.sock", "ns", group);
        Path socket = ShimAddress.socketPath(address);
        Files.createDirectories(socket.getParent());
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(socket));
            CommandResult r = launch(bundle, Map.of("JAVA_TOOL_OPTIONS", "-XX:+NoSuchFlagSoNoJvmStarts"),
                    "-namespace", "ns", "-address", dir + "/c.sock", "-publish-binary", "/usr/bin/containerd",
                    "-id", "joiner", "start");
            assertEquals(0, r.status(), r.stderrText());
            assertEquals(address, r.stdoutText());
            assertEquals("", r.stderrText());
            assertEquals(address, Files.readString(bundle.resolve("address")));
        } finally {
            Files.deleteIfExists(socket);
        }
    }

    /**
     * containerd 2.3+'s BootstrapParams (issue 22): joining a live group, the launcher answers in perl with the
     * JVM's BootstrapResult bytes, no JVM started; what it leaves to the JVM (params of another container, runtime
     * options) gets the JVM's answer, and the launch log says which of the two answered.
     */
    @Test
    void bootstrapParamsAreAnsweredWithTheJvmsBytes() throws Exception {
        Path bundle = Files.createDirectories(dir.resolve("bundles/bootstrap"));
        String group = "jshim-bootstrap-test-" + ProcessHandle.current().pid();
        Files.writeString(bundle.resolve("config.json"), "{\"annotations\":{\"io.containerd.runc.v2.group\":\"" + group + "\"}}");
        String cd = dir + "/c.sock";
        String address = ShimAddress.address(ShimAddress.SOCKET_DIR, cd, "ns", group);
        Path socket = ShimAddress.socketPath(address);
        Files.createDirectories(socket.getParent());
        // as containerd 2.3.4 sends them (ctr run, no runtime options)
        BootstrapParams asSent = BootstrapParams.newBuilder().setInstanceId("bs").setNamespace("ns")
                .setLogLevel(LogLevel.DEBUG).setContainerdVersion("v2.3.4").setContainerdTtrpcAddress(cd + ".ttrpc")
                .setContainerdGrpcAddress(cd).setContainerdBinary("/usr/local/bin/containerd")
                .setSocketDir("/run/containerd/s").build();
        Any runcOptions = Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                .setValue(io.jshim.proto.wire.Bytes.copyFromUtf8("\u0032\u0004runc")).build();
        Map<String, BootstrapParams> shell = Map.of(
                "as sent", asSent,
                "bare", BootstrapParams.newBuilder().setInstanceId("bs").setNamespace("ns").build(),
                "empty options", asSent.toBuilder().addExtensions(Extension.newBuilder().setValue(
                        Any.newBuilder().setTypeUrl("containerd.runc.v1.Options"))).build());
        Map<String, BootstrapParams> jvm = Map.of(
                "another container's", asSent.toBuilder().setInstanceId("other").build(),
                "runtime options", asSent.toBuilder().addExtensions(Extension.newBuilder().setValue(runcOptions)).build(),
                "a string that is not ASCII", asSent.toBuilder().setContainerdVersion("v2.3.4-\u00fc").build());
        String[] argv = {"-namespace", "ns", "-address", cd, "-publish-binary", "/usr/bin/containerd", "-id", "bs",
                "start"};
        Path log = dir.resolve("bootstrap-launch.log");
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(socket));
            for (String version : new String[] {"", "2"}) {
                for (var c : shell.entrySet()) {
                    CommandResult ours = launchWith(bundle, Map.of("JAVA_TOOL_OPTIONS", "-XX:+NoSuchFlagSoNoJvmStarts",
                            "JSHIM_TTRPC_VERSION", version), c.getValue().toByteArray(), argv);
                    CommandResult java = launchWith(bundle, Map.of("JSHIM_NO_FASTPATH", "1", "JSHIM_TTRPC_VERSION",
                            version), c.getValue().toByteArray(), argv);
                    assertEquals(0, ours.status(), c.getKey() + ": " + ours.stderrText());
                    assertEquals(0, java.status(), c.getKey() + ": " + java.stderrText());
                    assertArrayEquals(java.stdout(), ours.stdout(), c.getKey());
                    BootstrapResult r = BootstrapResult.parseFrom(ours.stdout());
                    assertEquals(version.isEmpty() ? 3 : 2, r.getVersion(), c.getKey());
                    assertEquals(address, r.getAddress());
                    assertEquals("ttrpc", r.getProtocol());
                    assertEquals(address, Files.readString(bundle.resolve("address")));
                }
            }
            for (var c : jvm.entrySet()) {
                Files.deleteIfExists(log);
                CommandResult ours = launchWith(bundle, Map.of("JSHIM_LAUNCH_LOG", log.toString()),
                        c.getValue().toByteArray(), argv);
                CommandResult java = launchWith(bundle, Map.of("JSHIM_NO_FASTPATH", "1"), c.getValue().toByteArray(),
                        argv);
                assertEquals(0, ours.status(), c.getKey() + ": " + ours.stderrText());
                assertArrayEquals(java.stdout(), ours.stdout(), c.getKey());
                assertTrue(Files.readString(log).startsWith("jvm "), c.getKey() + " is left to the JVM");
            }
            Files.deleteIfExists(log);
            launchWith(bundle, Map.of("JSHIM_LAUNCH_LOG", log.toString()), asSent.toByteArray(), argv);
            assertEquals("shell start bs join\n", Files.readString(log));
        } finally {
            Files.deleteIfExists(socket);
        }
    }

    @Test
    void shellDeleteWritesWhatTheJvmWrites() throws Exception {
        String ns = "jshim-fastpath-" + ProcessHandle.current().pid();
        for (String exitFile : new String[] {"3 1700000000 5000\n", "0 1700000001 0\n"}) {
            Path bundle = Files.createDirectories(dir.resolve("state/" + ns + "/gone"));
            Files.writeString(bundle.resolve("options.json"), "{}");
            Files.writeString(bundle.resolve("init.pid"), "4242");
            Files.writeString(bundle.resolve("init.exit"), exitFile);
            String[] argv = {"-namespace", ns, "-address", "/a.sock", "-publish-binary", "/usr/bin/containerd", "-id",
                    "gone", "-bundle", bundle.toString(), "delete"};
            CommandResult shell = launch(bundle, Map.of("JAVA_TOOL_OPTIONS", "-XX:+NoSuchFlagSoNoJvmStarts"), argv);
            CommandResult jvm = launch(bundle, Map.of("JSHIM_NO_FASTPATH", "1"), argv);
            assertEquals(0, shell.status(), shell.stderrText());
            assertEquals(0, jvm.status(), jvm.stderrText());
            assertArrayEquals(jvm.stdout(), shell.stdout(), exitFile);
            DeleteResponse d = DeleteResponse.parseFrom(shell.stdout());
            assertEquals(4242, d.getPid());
            assertEquals(Integer.parseInt(exitFile.split(" ")[0]), d.getExitStatus());
        }
        // no pid file, no exit record: pid -1 as uint32 and 137, as the reference
        Path bundle = Files.createDirectories(dir.resolve("state/" + ns + "/bare"));
        CommandResult shell = launch(bundle, Map.of("JAVA_TOOL_OPTIONS", "-XX:+NoSuchFlagSoNoJvmStarts"),
                "-namespace", ns, "-address", "/a.sock", "-id", "bare", "delete");
        DeleteResponse d = DeleteResponse.parseFrom(shell.stdout());
        assertEquals(-1, d.getPid());
        assertEquals(137, d.getExitStatus());
    }

    @Test
    void shellDeleteUnmountsARootfsLeftMounted() throws Exception {
        String ns = "jshim-fastpath-" + ProcessHandle.current().pid();
        Path bundle = Files.createDirectories(dir.resolve("state/" + ns + "/mounted"));
        Path rootfs = Files.createDirectories(bundle.resolve("rootfs"));
        CommandResult mount = new Monitor(Reaper.get()).run(
                SpawnSpec.of("mount", "-t", "tmpfs", "jshim-fastpath", rootfs.toString()), null, Duration.ofSeconds(10));
        assertEquals(0, mount.status(), mount.stderrText());
        try {
            assertTrue(mountPoints().contains(rootfs.toString()));
            CommandResult shell = launch(bundle, Map.of("JAVA_TOOL_OPTIONS", "-XX:+NoSuchFlagSoNoJvmStarts"),
                    "-namespace", ns, "-address", "/a.sock", "-id", "mounted", "delete");
            assertEquals(0, shell.status(), shell.stderrText());
            assertFalse(mountPoints().contains(rootfs.toString()), "the shell delete left the rootfs mounted");
        } finally {
            if (mountPoints().contains(rootfs.toString())) {
                new Monitor(Reaper.get()).run(SpawnSpec.of("umount", "-l", rootfs.toString()), null,
                        Duration.ofSeconds(10));
            }
        }
    }

    /** The mount points of this mount namespace (field 5 of mountinfo). */
    private static java.util.Set<String> mountPoints() throws java.io.IOException {
        return Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" ")[4])
                .collect(java.util.stream.Collectors.toSet());
    }

    private static CommandResult launch(Path cwd, Map<String, String> extraEnv, String... args) throws Exception {
        return launchWith(cwd, extraEnv, null, args);
    }

    private static CommandResult launchWith(Path cwd, Map<String, String> extraEnv, byte[] stdin, String... args)
            throws Exception {
        Map<String, String> env = new HashMap<>(System.getenv());
        env.putAll(extraEnv);
        String[] argv = new String[args.length + 1];
        argv[0] = launcher.toString();
        System.arraycopy(args, 0, argv, 1, args.length);
        return new Monitor(Reaper.get()).run(SpawnSpec.of(argv).withEnv(env).withWorkDir(cwd), stdin,
                Duration.ofSeconds(60));
    }
}
