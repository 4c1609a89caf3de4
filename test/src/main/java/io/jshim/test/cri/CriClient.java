package io.jshim.test.cri;

import com.google.protobuf.Message;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.jshim.test.cri.v1.ContainerConfig;
import io.jshim.test.cri.v1.ContainerStatus;
import io.jshim.test.cri.v1.ContainerStatusRequest;
import io.jshim.test.cri.v1.ContainerStatusResponse;
import io.jshim.test.cri.v1.CreateContainerRequest;
import io.jshim.test.cri.v1.ExecSyncRequest;
import io.jshim.test.cri.v1.ExecSyncResponse;
import io.jshim.test.cri.v1.ImageSpec;
import io.jshim.test.cri.v1.ImageStatusRequest;
import io.jshim.test.cri.v1.ImageStatusResponse;
import io.jshim.test.cri.v1.ListContainersRequest;
import io.jshim.test.cri.v1.ListPodSandboxRequest;
import io.jshim.test.cri.v1.PodSandbox;
import io.jshim.test.cri.v1.PodSandboxConfig;
import io.jshim.test.cri.v1.PodSandboxStatusRequest;
import io.jshim.test.cri.v1.PodSandboxStatusResponse;
import io.jshim.test.cri.v1.RemoveContainerRequest;
import io.jshim.test.cri.v1.RemovePodSandboxRequest;
import io.jshim.test.cri.v1.RunPodSandboxRequest;
import io.jshim.test.cri.v1.StartContainerRequest;
import io.jshim.test.cri.v1.StatusRequest;
import io.jshim.test.cri.v1.StatusResponse;
import io.jshim.test.cri.v1.StopContainerRequest;
import io.jshim.test.cri.v1.StopPodSandboxRequest;
import io.jshim.test.cri.v1.VersionRequest;
import io.jshim.test.cri.v1.VersionResponse;
import io.jshim.shim.grpc.EventLoops;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A CRI v1 client, as the kubelet is one: unary gRPC calls to containerd's CRI plugin over containerd's unix
 * socket, each with a deadline. Failures surface as grpc-java's {@link io.grpc.StatusRuntimeException}.
 */
public final class CriClient implements AutoCloseable {
    /** The client's own I/O thread, shared by every client of this JVM (a daemon, never shut down). */
    private static final EventLoopGroup IO = EventLoops.newGroup("cri-client");

    private final ManagedChannel channel;
    private final Duration timeout;

    private CriClient(ManagedChannel channel, Duration timeout) {
        this.channel = channel;
        this.timeout = timeout;
    }

    /** A client of the CRI served on {@code socket}; every call fails after {@code timeout}. */
    public static CriClient connect(Path socket, Duration timeout) {
        ManagedChannel channel = NettyChannelBuilder.forAddress(new DomainSocketAddress(socket.toString()))
                .channelType(EpollDomainSocketChannel.class)
                .eventLoopGroup(IO)
                .usePlaintext()
                .maxInboundMessageSize(16 << 20)
                .build();
        return new CriClient(channel, timeout);
    }

    private <Q extends Message, R extends Message> R call(MethodDescriptor<Q, R> method, Q request) {
        return ClientCalls.blockingUnaryCall(channel, method,
                CallOptions.DEFAULT.withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS), request);
    }

    public VersionResponse version() {
        return call(CriMethods.VERSION, VersionRequest.newBuilder().setVersion("v1").build());
    }

    public StatusResponse status() {
        return call(CriMethods.STATUS, StatusRequest.getDefaultInstance());
    }

    /** RunPodSandbox under runtime handler {@code handler}; the sandbox id. */
    public String runPodSandbox(PodSandboxConfig config, String handler) {
        return call(CriMethods.RUN_POD_SANDBOX, RunPodSandboxRequest.newBuilder().setConfig(config)
                .setRuntimeHandler(handler).build()).getPodSandboxId();
    }

    public void stopPodSandbox(String podId) {
        call(CriMethods.STOP_POD_SANDBOX, StopPodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
    }

    public void removePodSandbox(String podId) {
        call(CriMethods.REMOVE_POD_SANDBOX, RemovePodSandboxRequest.newBuilder().setPodSandboxId(podId).build());
    }

    /** The sandbox's status with the runtime's verbose {@code info} (JSON: its pid, runtime handler, spec). */
    public PodSandboxStatusResponse podSandboxStatus(String podId) {
        return call(CriMethods.POD_SANDBOX_STATUS, PodSandboxStatusRequest.newBuilder().setPodSandboxId(podId)
                .setVerbose(true).build());
    }

    public List<PodSandbox> listPodSandboxes() {
        return call(CriMethods.LIST_POD_SANDBOX, ListPodSandboxRequest.getDefaultInstance()).getItemsList();
    }

    /** CreateContainer in pod {@code podId} (created with {@code podConfig}); the container id. */
    public String createContainer(String podId, ContainerConfig config, PodSandboxConfig podConfig) {
        return call(CriMethods.CREATE_CONTAINER, CreateContainerRequest.newBuilder().setPodSandboxId(podId)
                .setConfig(config).setSandboxConfig(podConfig).build()).getContainerId();
    }

    public void startContainer(String containerId) {
        call(CriMethods.START_CONTAINER, StartContainerRequest.newBuilder().setContainerId(containerId).build());
    }

    public void stopContainer(String containerId, long timeoutSeconds) {
        call(CriMethods.STOP_CONTAINER, StopContainerRequest.newBuilder().setContainerId(containerId)
                .setTimeout(timeoutSeconds).build());
    }

    public void removeContainer(String containerId) {
        call(CriMethods.REMOVE_CONTAINER, RemoveContainerRequest.newBuilder().setContainerId(containerId).build());
    }

    public List<io.jshim.test.cri.v1.Container> listContainers() {
        return call(CriMethods.LIST_CONTAINERS, ListContainersRequest.getDefaultInstance()).getContainersList();
    }

    public ContainerStatus containerStatus(String containerId) {
        return containerStatusVerbose(containerId).getStatus();
    }

    /** The container's status with the runtime's verbose {@code info} (JSON: its pid among others). */
    public ContainerStatusResponse containerStatusVerbose(String containerId) {
        return call(CriMethods.CONTAINER_STATUS, ContainerStatusRequest.newBuilder().setContainerId(containerId)
                .setVerbose(true).build());
    }

    /** ExecSync of {@code cmd} in the container, the command killed after {@code timeoutSeconds} (0: none). */
    public ExecSyncResponse execSync(String containerId, long timeoutSeconds, String... cmd) {
        return call(CriMethods.EXEC_SYNC, ExecSyncRequest.newBuilder().setContainerId(containerId)
                .addAllCmd(List.of(cmd)).setTimeout(timeoutSeconds).build());
    }

    /** The image's status; an image the runtime does not have gives a response without an image. */
    public ImageStatusResponse imageStatus(String ref) {
        return call(CriMethods.IMAGE_STATUS, ImageStatusRequest.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage(ref)).build());
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow();
        channel.awaitTermination(10, TimeUnit.SECONDS);
    }
}
