package io.jshim.test.bench;

import io.jshim.reaper.CommandResult;
import io.jshim.test.Busybox;
import io.jshim.test.ContainerdRelease;
import io.jshim.test.CtrTasks;
import io.jshim.test.InstalledShim;
import io.jshim.test.PrivateContainerd;
import io.jshim.test.SandboxRecords;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What answering version 3 saves per pod container under containerd 2.x (issue 22): a pod's first container is
 * started by {@code start}, then the sandbox record is made, then N more containers join the pod, each with
 * {@code ctr run -d --sandbox=<pod>} and the pod's group annotation. With version 2 (JSHIM_TTRPC_VERSION=2)
 * containerd runs {@code start} for each (BootstrapParams on stdin: the JVM's start) and {@code delete} after
 * each; with version 3 it sends their Create straight to the pod's shim. Prints the median and mean wall time of
 * each container's {@code ctr run -d} and of its {@code ctr task rm} after a kill.
 *
 * <p>Run: {@code mvn -B -q -ntp -o -pl test dependency:build-classpath -Dmdep.outputFile=target/bench.classpath;
 * java --enable-native-access=ALL-UNNAMED -Djshim.containerd2=<dir with bin/containerd> -cp
 * test/target/classes:$(cat test/target/bench.classpath) io.jshim.test.bench.PodStartBench [N]} (as root).
 */
public final class PodStartBench {
    private PodStartBench() {}

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path dir = Files.createTempDirectory("jshim-podbench");
        Path bin = InstalledShim.install(dir.resolve("install"));
        Path rootfs = Busybox.rootfs(dir.resolve("rootfs"));
        List<String> versions = List.of("2", "3", "2", "3");
        for (int round = 0; round < versions.size(); round++) {
            String version = versions.get(round);
            try (PrivateContainerd c = PrivateContainerd.start(ContainerdRelease.containerd2(),
                    dir.resolve("cd-" + round), Map.of("JSHIM_TTRPC_VERSION", version), bin.toString())) {
                String pod = "pod-v" + version;
                c.ctrOk(CtrTasks.run(rootfs, pod, "-d", "--sandbox=" + pod, "--annotation",
                        "io.containerd.runc.v2.group=" + pod, "sleep", "1000"));
                SandboxRecords.create(c, pod, CtrTasks.RUNTIME);
                List<Long> runs = new ArrayList<>();
                List<Long> removes = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    String id = pod + "-c" + i;
                    long t0 = System.nanoTime();
                    c.ctrOk(CtrTasks.run(rootfs, id, "-d", "--sandbox=" + pod, "--annotation",
                            "io.containerd.runc.v2.group=" + pod, "sleep", "1000"));
                    runs.add(System.nanoTime() - t0);
                }
                for (int i = 0; i < n; i++) {
                    String id = pod + "-c" + i;
                    c.ctrOk("task", "kill", "-s", "KILL", id);
                    long t0 = System.nanoTime();
                    CtrTasks.awaitStoppedAndDelete(c, id);
                    removes.add(System.nanoTime() - t0);
                    c.ctr("container", "rm", id);
                }
                CommandResult r = c.ctr("task", "kill", "-s", "KILL", pod);
                if (r.status() == 0) {
                    CtrTasks.awaitStoppedAndDelete(c, pod);
                }
                System.out.printf("version %s: %d pod containers: ctr run -d median %.1f ms mean %.1f ms;"
                        + " kill+task rm median %.1f ms mean %.1f ms%n", version, n, median(runs), mean(runs),
                        median(removes), mean(removes));
            }
        }
    }

    private static double median(List<Long> nanos) {
        List<Long> s = nanos.stream().sorted().toList();
        return s.get(s.size() / 2) / 1e6;
    }

    private static double mean(List<Long> nanos) {
        return nanos.stream().mapToLong(Long::longValue).average().orElse(0) / 1e6;
    }
}
