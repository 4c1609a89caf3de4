package io.jshim.ttrpc;

/** Where the server runs a method's handler; chosen per method when it is registered. */
public enum Execution {
    /** On a virtual thread of its own: the handler may block (an OCI runtime call, a wait, disk). The default. */
    VIRTUAL_THREAD,
    /**
     * On the I/O thread ({@link IoLoop}), as soon as the request is read, and its answer written from there: for
     * handlers that only read or update memory under short locks, and never block (no connection is read
     * meanwhile). It saves the hand-off to a virtual thread: a thread wake-up on the path of every call
     * (containerd asks a shim's State several times around every exec). The I/O thread is an event loop.
     */
    EVENT_LOOP
}
