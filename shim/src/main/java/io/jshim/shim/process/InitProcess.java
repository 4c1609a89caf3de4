package io.jshim.shim.process;

import io.jshim.stdio.StdioSpec;

/** A container's init process. */
public final class InitProcess extends TaskProcess {
    private final Container container;

    InitProcess(Container container, StdioSpec stdio, ProcessStatus initial) {
        super(container.id(), stdio, initial);
        this.container = container;
    }

    @Override
    public boolean isInit() {
        return true;
    }

    @Override
    public Container container() {
        return container;
    }
}
