package io.jshim.test.cgroup2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.jshim.reaper.CommandResult;
import io.jshim.reaper.Monitor;
import io.jshim.reaper.Reaper;
import io.jshim.reaper.SpawnSpec;
import io.jshim.test.InstalledShim;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.TestFactory;

/**
 * jshim's cgroup v2 paths on a real cgroup v2-only kernel: boots a qemu guest (scripts/cgroup2-guest.sh: Debian's
 * kernel with cgroup_no_v1=all, this machine's root read-only over 9p) that runs {@link GuestChecks} against a
 * private containerd with an installed jshim, and reports each check as a test of its own. Where qemu or the
 * kernel cannot be had every check fails with the reason: never skipped. Run it with {@code make test-cgroup2}.
 */
@Tag("cgroup2-guest")
class CgroupV2GuestTest {
    /** Every check GuestChecks runs, in its order: one missing from the results is a failure too. */
    static final List<String> CHECKS = List.of("layout", "stats", "oom-repeated", "oom-child", "memory-high-no-oom",
            "memory-events-local", "update", "kill-all-shared-pidns", "cgroup-kill", "grouped-daemon", "shim-cgroup");
    /** The guest's whole run, boot to power-off, before qemu is killed (TCG on two shared cores is slow). */
    static final int DEADLINE_SECONDS = Integer.getInteger("jshim.guest.deadline", 1500);

    @TestFactory
    Stream<DynamicTest> checksOnACgroupV2Guest() throws Exception {
        Path base = InstalledShim.repoRoot().resolve("test/target/cgroup2-guest");
        Path out = base.resolve("out");
        deleteTree(out);
        Files.createDirectories(out);
        Files.createDirectories(base.resolve("install"));
        Path bin = InstalledShim.install(base.resolve("install"), Duration.ofMinutes(10)); // beside a busy guest
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        String command = String.join(" ", quote(java), "--enable-native-access=ALL-UNNAMED",
                quote("-Djava.library.path=" + System.getProperty("java.library.path")),
                "-Djshim.guest.oomRounds=" + ("full".equals(System.getProperty("jshim.scale")) ? 10 : 3),
                "-cp", quote(classPath), GuestChecks.class.getName(), quote(out.toString()), quote(bin.toString()),
                "/tmp/jshim-guest");
        Path log = base.resolve("guest-run.log");
        long t0 = System.nanoTime();
        int runStatus;
        try {
            // the script kills qemu at its deadline; this bound is for a script that hangs itself
            CommandResult r = new Monitor(Reaper.get()).run(SpawnSpec.of("bash",
                    InstalledShim.repoRoot().resolve("scripts/cgroup2-guest.sh").toString(), out.toString(),
                    Integer.toString(DEADLINE_SECONDS), command), null, Duration.ofSeconds(DEADLINE_SECONDS + 60));
            Files.writeString(log, r.stdoutText() + r.stderrText());
            runStatus = r.status();
        } catch (TimeoutException e) {
            killQemu(out);
            Files.writeString(log, e.getMessage());
            runStatus = -1;
        }
        int status = runStatus;
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        String runLog = Files.readString(log);
        System.out.println("cgroup v2 guest: " + seconds + " s, status " + status + "\n" + runLog
                + readOr(out.resolve("figures.txt"), ""));
        Map<String, String[]> results = new LinkedHashMap<>();
        for (String line : readOr(out.resolve("results.tsv"), "").lines().toList()) {
            String[] f = line.split("\t", 3);
            if (f.length == 3) {
                results.put(f[0], f);
            }
        }
        String why = "guest run status " + status + " (see " + log + ", " + out.resolve("console.log") + ", "
                + out.resolve("command.log") + "): " + runLog.strip();
        List<DynamicTest> tests = new ArrayList<>();
        tests.add(DynamicTest.dynamicTest("guest boots and powers off", () -> assertEquals(0, status, why)));
        for (String check : CHECKS) {
            tests.add(DynamicTest.dynamicTest(check, () -> {
                String[] r = results.get(check);
                if (r == null) {
                    fail("no result for " + check + ": " + why);
                }
                System.out.println(check + ": " + r[1] + " " + r[2]);
                assertEquals("PASS", r[1], check + ": " + r[2]);
            }));
        }
        return tests.stream();
    }

    private static void killQemu(Path out) throws IOException {
        String pid = readOr(out.resolve("qemu.pid"), "").strip();
        if (!pid.isEmpty()) {
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    private static String readOr(Path file, String otherwise) throws IOException {
        return Files.exists(file) ? Files.readString(file) : otherwise;
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
