/**
 * Child processes for the shim: the one reaper, spawning, and running commands.
 *
 * <ul>
 * <li>{@link io.jshim.reaper.Reaper#get()} makes the JVM a child subreaper and starts the
 * "jshim-reaper" thread, which reaps every child and orphaned descendant.</li>
 * <li>{@link io.jshim.reaper.Reaper#spawn} starts a process (a clone of our C library, CloneSpawn; posix_spawnp
 * without it) and returns a
 * {@link io.jshim.reaper.Child} whose {@code onExit()} never misses an early exit.</li>
 * <li>{@link io.jshim.reaper.Reaper#subscribe} sees every exit, including those of container
 * processes nobody spawned directly.</li>
 * <li>{@link io.jshim.reaper.Monitor#run} runs a command (runc) to completion with its output.</li>
 * <li>{@link io.jshim.reaper.Posix} has the native calls other modules need on fds, fifos, ptys.</li>
 * </ul>
 *
 * <p>Never start processes any other way (ProcessBuilder, Runtime.exec): the
 * reaper would steal their exit statuses, or miss children created behind its back. A build test
 * (NoProcessBuilderTest) enforces the first two across the repository.
 */
package io.jshim.reaper;
