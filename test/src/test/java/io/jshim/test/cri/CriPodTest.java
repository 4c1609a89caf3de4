package io.jshim.test.cri;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonParser;
import io.jshim.test.InstalledShim;
import io.jshim.test.cri.v1.ContainerState;
import io.jshim.test.cri.v1.ContainerStatus;
import io.jshim.test.cri.v1.ExecSyncResponse;
import io.jshim.test.cri.v1.PodSandboxConfig;
import io.jshim.test.cri.v1.PodSandboxState;
import io.jshim.test.cri.v1.RuntimeCondition;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kubernetes pods through containerd 1.6's CRI plugin, as the kubelet drives them, under the {@code jshim} runtime
 * handler and, for comparison, under {@code runc} (containerd-shim-runc-v2): a host-network pod with two containers
 * of a busybox image, its sandbox from a pause image, both imported locally.
 */
class CriPodTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static CriContainerd cri;

    @BeforeAll
    static void setUp() throws Exception {
        Path bin = InstalledShim.install(dir.resolve("install"));
        cri = CriContainerd.start(dir.resolve("cri"), bin.toString());
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (cri != null) {
            cri.close();
        }
    }

    @Test
    void theRuntimeIsReadyAndHasTheImages() {
        List<RuntimeCondition> conditions = cri.client().status().getStatus().getConditionsList();
        assertTrue(conditions.stream().anyMatch(c -> c.getType().equals("RuntimeReady") && c.getStatus()),
                conditions.toString());
        assertEquals("v1", cri.client().version().getRuntimeApiVersion());
        assertTrue(cri.client().imageStatus(CriImages.PAUSE).hasImage(), "the pause image is known to the CRI");
        assertTrue(cri.client().imageStatus(CriImages.BUSYBOX).hasImage(), "the busybox image is known to the CRI");
    }

    @ParameterizedTest
    @ValueSource(strings = {CriContainerd.JSHIM, CriContainerd.RUNC})
    void aPodOfTwoContainersRunsUnderOneShimAndLeavesNothing(String handler) throws Exception {
        CriClient client = cri.client();
        PodSandboxConfig podConfig = CriContainerd.hostNetworkPod("two-" + handler);
        String pod = client.runPodSandbox(podConfig, handler);
        assertEquals(PodSandboxState.SANDBOX_READY, client.podSandboxStatus(pod).getStatus().getState());
        assertEquals(handler, client.podSandboxStatus(pod).getStatus().getRuntimeHandler());

        String sleeper = client.createContainer(pod, cri.container("sleeper", "sleep", "100000"), podConfig);
        client.startContainer(sleeper);
        String quitter = client.createContainer(pod, cri.container("quitter", "sh", "-c", "exit 7"), podConfig);
        client.startContainer(quitter);

        // ContainerStatus: the quitter's exit code once it exited, the sleeper running.
        ContainerStatus quit = awaitExited(client, quitter);
        assertEquals(7, quit.getExitCode(), quit.toString());
        // containerd stamps started_at when the start returns, so a quick exit may be stamped just before it
        assertTrue(quit.getFinishedAt() > 0 && quit.getStartedAt() > 0, quit.toString());
        assertEquals(ContainerState.CONTAINER_RUNNING, client.containerStatus(sleeper).getState());

        // One shim process for the whole pod: the sandbox's and both containers' processes are its children.
        List<Integer> shims = CriProcesses.shimPids(cri.socket());
        assertEquals(1, shims.size(), "shims of the pod: " + shims);
        int shim = shims.getFirst();
        int pausePid = pid(client.podSandboxStatus(pod).getInfoMap().get("info"));
        int sleeperPid = pid(client.containerStatusVerbose(sleeper).getInfoMap().get("info"));
        assertEquals(shim, CriProcesses.parent(pausePid), "the pause process is the shim's child");
        assertEquals(shim, CriProcesses.parent(sleeperPid), "the sleeper is the shim's child");
        if (handler.equals(CriContainerd.JSHIM)) {
            assertTrue(CriProcesses.commandLine(shim).contains("java"), "a jshim daemon: "
                    + CriProcesses.commandLine(shim));
        }

        // ExecSync: output and exit code; the exec runs in the pod's pid namespace, beside the sleeper.
        ExecSyncResponse exec = client.execSync(sleeper, 30, "sh", "-c", "echo out-line; echo err-line >&2; exit 3");
        assertEquals(3, exec.getExitCode());
        assertEquals("out-line\n", exec.getStdout().toString(StandardCharsets.UTF_8));
        assertEquals("err-line\n", exec.getStderr().toString(StandardCharsets.UTF_8));
        ExecSyncResponse ok = client.execSync(sleeper, 30, "cat", "/proc/1/cmdline");
        assertEquals(0, ok.getExitCode(), ok.getStderr().toStringUtf8());
        assertEquals("/bin/sleep\0infinity\0", ok.getStdout().toStringUtf8(), "pid 1 of the pod is the pause process");

        // StopContainer: the sleeper is killed (no grace) and reports it.
        client.stopContainer(sleeper, 0);
        ContainerStatus stopped = awaitExited(client, sleeper);
        assertEquals(137, stopped.getExitCode(), stopped.toString());

        Set<String> ids = Set.of(pod, sleeper, quitter);
        client.stopPodSandbox(pod);
        client.removePodSandbox(pod);
        assertTrue(client.listPodSandboxes().stream().noneMatch(p -> p.getId().equals(pod)), "the pod is gone");
        assertTrue(client.listContainers().stream().noneMatch(c -> ids.contains(c.getId())), "its containers too");
        CriProcesses.awaitGone(shim, WAIT);
        assertEquals(List.of(), CriProcesses.shimPids(cri.socket()), "no shim is left");
        assertFalse(CriProcesses.alive(pausePid) || CriProcesses.alive(sleeperPid), "no container process is left");
        Path cd = cri.containerd().state().getParent();
        List<String> mounts = CriProcesses.mountsUnder(cd);
        assertEquals(List.of(), mounts, "no mount is left under containerd's root or state");
        Path bundles = cri.containerd().state().resolve("io.containerd.runtime.v2.task").resolve(CriContainerd.NAMESPACE);
        for (String id : ids) {
            assertFalse(Files.exists(bundles.resolve(id)), "the bundle of " + id + " is removed");
        }
    }

    private static ContainerStatus awaitExited(CriClient client, String id) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            ContainerStatus s = client.containerStatus(id);
            if (s.getState() == ContainerState.CONTAINER_EXITED) {
                return s;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("container " + id + " did not exit in " + WAIT + ": " + s);
            }
            Thread.sleep(20);
        }
    }

    /** The pid in a CRI verbose info JSON ({@code {"pid": 1234, ...}}). */
    private static int pid(String infoJson) {
        return JsonParser.parseString(infoJson).getAsJsonObject().get("pid").getAsInt();
    }
}
