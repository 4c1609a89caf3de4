package io.jshim.test;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wkt.Empty;
import io.jshim.proto.runc.Options;
import io.jshim.proto.task.CloseIORequest;
import io.jshim.proto.task.CreateTaskRequest;
import io.jshim.proto.task.CreateTaskResponse;
import io.jshim.proto.task.DeleteRequest;
import io.jshim.proto.task.DeleteResponse;
import io.jshim.proto.task.ExecProcessRequest;
import io.jshim.proto.task.KillRequest;
import io.jshim.proto.task.PidsRequest;
import io.jshim.proto.task.PidsResponse;
import io.jshim.proto.task.StartRequest;
import io.jshim.proto.task.StartResponse;
import io.jshim.proto.task.StateRequest;
import io.jshim.proto.task.StateResponse;
import io.jshim.proto.task.WaitRequest;
import io.jshim.proto.task.WaitResponse;
import io.jshim.ttrpc.TtrpcException;
import java.nio.file.Path;
import java.util.List;

/** Typed Task calls over the harness's ttrpc client, with the runc root private to the test. */
public final class TaskClient {
    /** One unary Task call; the harness's client, or a client of a real shim daemon. */
    public interface Caller {
        <R extends io.jshim.proto.wire.ProtoMessage> R call(String method, io.jshim.proto.wire.ProtoMessage request,
                io.jshim.proto.wire.ProtoParser<R> parser) throws TtrpcException;
    }

    private final Caller shim;
    private final Path runcRoot;

    public TaskClient(ShimHarness shim) {
        this(shim::call, shim.dir().resolve("runc"));
    }

    /** Calls through {@code caller}, with containers under the runc root {@code runcRoot}. */
    public TaskClient(Caller caller, Path runcRoot) {
        this.shim = caller;
        this.runcRoot = runcRoot;
    }

    public Any options() {
        return Any.newBuilder().setTypeUrl("containerd.runc.v1.Options")
                .setValue(Options.newBuilder().setRoot(runcRoot.toString()).build().toByteString()).build();
    }

    public CreateTaskRequest.Builder createRequest(String id, Path bundle) {
        return CreateTaskRequest.newBuilder().setId(id).setBundle(bundle.toString()).setOptions(options());
    }

    public int create(CreateTaskRequest request) throws TtrpcException {
        return shim.call("Create", request, CreateTaskResponse.parser()).getPid();
    }

    public int start(String id) throws TtrpcException {
        return start(id, "");
    }

    public int start(String id, String execId) throws TtrpcException {
        return shim.call("Start", StartRequest.newBuilder().setId(id).setExecId(execId).build(),
                StartResponse.parser()).getPid();
    }

    public WaitResponse await(String id, String execId) throws TtrpcException {
        return shim.call("Wait", WaitRequest.newBuilder().setId(id).setExecId(execId).build(), WaitResponse.parser());
    }

    public DeleteResponse delete(String id, String execId) throws TtrpcException {
        return shim.call("Delete", DeleteRequest.newBuilder().setId(id).setExecId(execId).build(),
                DeleteResponse.parser());
    }

    public StateResponse state(String id, String execId) throws TtrpcException {
        return shim.call("State", StateRequest.newBuilder().setId(id).setExecId(execId).build(),
                StateResponse.parser());
    }

    public void kill(String id, String execId, int signal, boolean all) throws TtrpcException {
        shim.call("Kill", KillRequest.newBuilder().setId(id).setExecId(execId).setSignal(signal).setAll(all).build(),
                Empty.parser());
    }

    public void exec(String id, String execId, List<String> args, String stdin, String stdout, String stderr,
                     boolean terminal) throws TtrpcException {
        exec(id, execId, args, stdin, stdout, stderr, terminal, terminal);
    }

    /** An exec whose process spec says {@code specTerminal} and whose request says {@code terminal}. */
    public void exec(String id, String execId, List<String> args, String stdin, String stdout, String stderr,
                     boolean terminal, boolean specTerminal) throws TtrpcException {
        shim.call("Exec", ExecProcessRequest.newBuilder().setId(id).setExecId(execId)
                .setStdin(stdin).setStdout(stdout).setStderr(stderr).setTerminal(terminal)
                .setSpec(Any.newBuilder().setTypeUrl("types.containerd.io/opencontainers/runtime-spec/1/Process")
                        .setValue(Bytes.copyFrom(OciBundle.processJson(args, specTerminal))))
                .build(), Empty.parser());
    }

    public void exec(String id, String execId, String... args) throws TtrpcException {
        exec(id, execId, List.of(args), "", "", "", false);
    }

    public PidsResponse pids(String id) throws TtrpcException {
        return shim.call("Pids", PidsRequest.newBuilder().setId(id).build(), PidsResponse.parser());
    }

    public void closeStdin(String id, String execId) throws TtrpcException {
        shim.call("CloseIO", CloseIORequest.newBuilder().setId(id).setExecId(execId).setStdin(true).build(),
                Empty.parser());
    }

    /** Kills whatever is left and deletes; for cleanup after a failed assertion. */
    public void forceRemove(String id) {
        try {
            kill(id, "", 9, true);
        } catch (TtrpcException ignored) {
            // already gone
        }
        try {
            await(id, "");
        } catch (TtrpcException ignored) {
            // already gone
        }
        try {
            delete(id, "");
        } catch (TtrpcException ignored) {
            // already gone
        }
    }
}
