package io.jshim.test.cri;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.jshim.test.InstalledShim;
import io.jshim.test.cri.v1.ContainerState;
import io.jshim.test.cri.v1.PodSandboxConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The warm standby under containerd 1.6's CRI plugin (issue 19): the first pod's start boots a JVM and, after it,
 * a standby; the next pod's start hands its pod to that standby, which then runs the pod's pause and containers.
 * containerd's CRI changes its own environment after the first pod (PATH), and the standby must still be found.
 */
class CriStandbyTest {
    private static final Duration WAIT = Duration.ofSeconds(120);

    @TempDir
    static Path dir;
    static CriContainerd cri;
    static Path launchLog;

    @BeforeAll
    static void setUp() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        launchLog = dir.resolve("launch.log");
        cri = CriContainerd.start(dir.resolve("cri"), true, Map.of("JSHIM_LAUNCH_LOG", launchLog.toString()),
                bin.toString());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cri != null) {
            cri.close();
        }
    }

    @Test
    void theSecondPodIsServedByTheStandbyTheFirstPodsStartBooted() throws Exception {
        CriClient client = cri.client();
        PodSandboxConfig firstConfig = CriContainerd.hostNetworkPod("first");
        String first = client.runPodSandbox(firstConfig, CriContainerd.JSHIM);
        assertTrue(launchLines().contains("shell start " + first + " cold"), "the first pod boots a JVM: "
                + launchLines());
        client.stopPodSandbox(first);
        client.removePodSandbox(first);

        int standby = CriProcesses.awaitStandby(cri.socket(), WAIT);
        PodSandboxConfig config = CriContainerd.hostNetworkPod("second");
        String pod = client.runPodSandbox(config, CriContainerd.JSHIM);
        assertTrue(launchLines().contains("shell start " + pod + " adopted"), "the second pod's start handed it to"
                + " the standby: " + launchLines());
        String sleeper = client.createContainer(pod, cri.container("sleeper", "sleep", "100000"), config);
        client.startContainer(sleeper);
        assertEquals(ContainerState.CONTAINER_RUNNING, client.containerStatus(sleeper).getState());

        int pausePid = pid(client.podSandboxStatus(pod).getInfoMap().get("info"));
        int sleeperPid = pid(client.containerStatusVerbose(sleeper).getInfoMap().get("info"));
        assertEquals(standby, CriProcesses.parent(pausePid), "the pause process is the adopted standby's child");
        assertEquals(standby, CriProcesses.parent(sleeperPid), "the sleeper is the adopted standby's child");
        assertEquals(Path.of(cri.containerd().state().toString(), "io.containerd.runtime.v2.task",
                CriContainerd.NAMESPACE, pod), Files.readSymbolicLink(Path.of("/proc/" + standby + "/cwd")),
                "the adopted daemon works in the pod's bundle, as one booted for it");

        // the second pod's start booted the next standby, of the same key: one standby, none left of another
        int next = CriProcesses.awaitStandby(cri.socket(), WAIT);
        assertEquals(List.of(next), CriProcesses.standbyPids(cri.socket()), "one standby for this containerd");

        client.stopPodSandbox(pod);
        client.removePodSandbox(pod);
        CriProcesses.awaitGone(standby, WAIT);
    }

    private static List<String> launchLines() throws Exception {
        return Files.exists(launchLog) ? Files.readAllLines(launchLog) : List.of();
    }

    /** The pid in a CRI verbose info JSON ({@code {"pid": 1234, ...}}). */
    private static int pid(String infoJson) {
        return JsonParser.parseString(infoJson).getAsJsonObject().get("pid").getAsInt();
    }
}
