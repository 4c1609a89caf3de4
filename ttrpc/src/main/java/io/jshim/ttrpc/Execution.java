package io.jshim.ttrpc;

/** Where the server runs a method's handler; chosen per method when it is registered. */
public enum Execution {
    /** On a virtual thread of its own: the handler may block (an OCI runtime call, a wait, disk). The default. */
    VIRTUAL_THREAD,
    /**
     * On the connection's event loop, as soon as the request is read, and its answer written from there: for
     * handlers that only read or update memory under short locks, and never block. It saves the hand-off to a
     * virtual thread and the one back to the event loop to write the answer: each is a thread wake-up, together
     * on the path of every call (containerd asks a shim's State several times around every exec).
     */
    EVENT_LOOP
}
