package io.jshim.shim.process;

import io.jshim.stdio.StdioSpec;

/** An additional process run in a container by {@code runc exec}; {@code processJson} is its OCI process spec. */
public final class ExecProcess extends TaskProcess {
    private final Container container;
    private final byte[] processJson;

    ExecProcess(Container container, String execId, StdioSpec stdio, byte[] processJson) {
        super(execId, stdio, ProcessStatus.CREATED);
        this.container = container;
        this.processJson = processJson;
    }

    @Override
    public boolean isInit() {
        return false;
    }

    @Override
    public Container container() {
        return container;
    }

    public byte[] processJson() {
        return processJson.clone();
    }
}
