package io.jshim.test.cri;

import com.google.protobuf.Message;
import io.grpc.MethodDescriptor;
import io.grpc.protobuf.ProtoUtils;
import io.jshim.test.cri.v1.ContainerStatusRequest;
import io.jshim.test.cri.v1.ContainerStatusResponse;
import io.jshim.test.cri.v1.CreateContainerRequest;
import io.jshim.test.cri.v1.CreateContainerResponse;
import io.jshim.test.cri.v1.ExecSyncRequest;
import io.jshim.test.cri.v1.ExecSyncResponse;
import io.jshim.test.cri.v1.ImageStatusRequest;
import io.jshim.test.cri.v1.ImageStatusResponse;
import io.jshim.test.cri.v1.ListContainersRequest;
import io.jshim.test.cri.v1.ListContainersResponse;
import io.jshim.test.cri.v1.ListPodSandboxRequest;
import io.jshim.test.cri.v1.ListPodSandboxResponse;
import io.jshim.test.cri.v1.PodSandboxStatusRequest;
import io.jshim.test.cri.v1.PodSandboxStatusResponse;
import io.jshim.test.cri.v1.RemoveContainerRequest;
import io.jshim.test.cri.v1.RemoveContainerResponse;
import io.jshim.test.cri.v1.RemovePodSandboxRequest;
import io.jshim.test.cri.v1.RemovePodSandboxResponse;
import io.jshim.test.cri.v1.RunPodSandboxRequest;
import io.jshim.test.cri.v1.RunPodSandboxResponse;
import io.jshim.test.cri.v1.StartContainerRequest;
import io.jshim.test.cri.v1.StartContainerResponse;
import io.jshim.test.cri.v1.StatusRequest;
import io.jshim.test.cri.v1.StatusResponse;
import io.jshim.test.cri.v1.StopContainerRequest;
import io.jshim.test.cri.v1.StopContainerResponse;
import io.jshim.test.cri.v1.StopPodSandboxRequest;
import io.jshim.test.cri.v1.StopPodSandboxResponse;
import io.jshim.test.cri.v1.VersionRequest;
import io.jshim.test.cri.v1.VersionResponse;

/** The CRI v1 methods the client calls, as gRPC unary method descriptors ({@code /runtime.v1.<Service>/<Method>}). */
final class CriMethods {
    static final String RUNTIME = "runtime.v1.RuntimeService";
    static final String IMAGES = "runtime.v1.ImageService";

    static final MethodDescriptor<VersionRequest, VersionResponse> VERSION =
            unary(RUNTIME, "Version", VersionRequest.getDefaultInstance(), VersionResponse.getDefaultInstance());
    static final MethodDescriptor<StatusRequest, StatusResponse> STATUS =
            unary(RUNTIME, "Status", StatusRequest.getDefaultInstance(), StatusResponse.getDefaultInstance());
    static final MethodDescriptor<RunPodSandboxRequest, RunPodSandboxResponse> RUN_POD_SANDBOX =
            unary(RUNTIME, "RunPodSandbox", RunPodSandboxRequest.getDefaultInstance(),
                    RunPodSandboxResponse.getDefaultInstance());
    static final MethodDescriptor<StopPodSandboxRequest, StopPodSandboxResponse> STOP_POD_SANDBOX =
            unary(RUNTIME, "StopPodSandbox", StopPodSandboxRequest.getDefaultInstance(),
                    StopPodSandboxResponse.getDefaultInstance());
    static final MethodDescriptor<RemovePodSandboxRequest, RemovePodSandboxResponse> REMOVE_POD_SANDBOX =
            unary(RUNTIME, "RemovePodSandbox", RemovePodSandboxRequest.getDefaultInstance(),
                    RemovePodSandboxResponse.getDefaultInstance());
    static final MethodDescriptor<PodSandboxStatusRequest, PodSandboxStatusResponse> POD_SANDBOX_STATUS =
            unary(RUNTIME, "PodSandboxStatus", PodSandboxStatusRequest.getDefaultInstance(),
                    PodSandboxStatusResponse.getDefaultInstance());
    static final MethodDescriptor<ListPodSandboxRequest, ListPodSandboxResponse> LIST_POD_SANDBOX =
            unary(RUNTIME, "ListPodSandbox", ListPodSandboxRequest.getDefaultInstance(),
                    ListPodSandboxResponse.getDefaultInstance());
    static final MethodDescriptor<CreateContainerRequest, CreateContainerResponse> CREATE_CONTAINER =
            unary(RUNTIME, "CreateContainer", CreateContainerRequest.getDefaultInstance(),
                    CreateContainerResponse.getDefaultInstance());
    static final MethodDescriptor<StartContainerRequest, StartContainerResponse> START_CONTAINER =
            unary(RUNTIME, "StartContainer", StartContainerRequest.getDefaultInstance(),
                    StartContainerResponse.getDefaultInstance());
    static final MethodDescriptor<StopContainerRequest, StopContainerResponse> STOP_CONTAINER =
            unary(RUNTIME, "StopContainer", StopContainerRequest.getDefaultInstance(),
                    StopContainerResponse.getDefaultInstance());
    static final MethodDescriptor<RemoveContainerRequest, RemoveContainerResponse> REMOVE_CONTAINER =
            unary(RUNTIME, "RemoveContainer", RemoveContainerRequest.getDefaultInstance(),
                    RemoveContainerResponse.getDefaultInstance());
    static final MethodDescriptor<ListContainersRequest, ListContainersResponse> LIST_CONTAINERS =
            unary(RUNTIME, "ListContainers", ListContainersRequest.getDefaultInstance(),
                    ListContainersResponse.getDefaultInstance());
    static final MethodDescriptor<ContainerStatusRequest, ContainerStatusResponse> CONTAINER_STATUS =
            unary(RUNTIME, "ContainerStatus", ContainerStatusRequest.getDefaultInstance(),
                    ContainerStatusResponse.getDefaultInstance());
    static final MethodDescriptor<ExecSyncRequest, ExecSyncResponse> EXEC_SYNC =
            unary(RUNTIME, "ExecSync", ExecSyncRequest.getDefaultInstance(), ExecSyncResponse.getDefaultInstance());
    static final MethodDescriptor<ImageStatusRequest, ImageStatusResponse> IMAGE_STATUS =
            unary(IMAGES, "ImageStatus", ImageStatusRequest.getDefaultInstance(),
                    ImageStatusResponse.getDefaultInstance());

    private CriMethods() {}

    private static <Q extends Message, R extends Message> MethodDescriptor<Q, R> unary(String service, String method,
            Q request, R response) {
        return MethodDescriptor.<Q, R>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service, method))
                .setRequestMarshaller(ProtoUtils.marshaller(request))
                .setResponseMarshaller(ProtoUtils.marshaller(response))
                .build();
    }
}
