/**
 * The stdio of container processes, as the runc shim sets it up: OS pipes between runc and the
 * client's fifos or files, file:// logs, binary:// logging binaries, and terminals whose pty master
 * arrives over a console socket. Entry point: {@link io.jshim.stdio.ProcessIO}.
 *
 * <p>Design choices:
 * <ul>
 *   <li>Every stream is copied by one platform thread ({@code io-<container>-<stream>}, 256 KiB
 *       stack, a reused 64 KiB off-heap buffer) parked in poll(2) on its data fd and a stop eventfd.
 *       Reads and writes are non-blocking system calls bound with the FFM API, so a copier can be
 *       stopped without closing an fd under it and never occupies a virtual-thread carrier.</li>
 *   <li>No output is dropped while a sink works: EOF on the process's pipe (all writers closed)
 *       ends a copier, after everything read was written.</li>
 *   <li>A failing sink never blocks the process: a write error (EPIPE, ENOSPC...) is logged once
 *       and the data dropped while the copier keeps draining the pipe. An output fifo that stays
 *       full is probed after a grace period to tell a slow reader (keep waiting) from a reader
 *       that is gone (discard) — see {@link io.jshim.stdio.FifoSink}.</li>
 * </ul>
 */
package io.jshim.stdio;
