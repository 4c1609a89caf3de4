package io.jshim.reaper;

import java.nio.ByteBuffer;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;
import jnr.ffi.types.size_t;
import jnr.ffi.types.ssize_t;

/**
 * The glibc functions this module binds through jnr-ffi. errno is saved after every call
 * (jnr-ffi's default) and read with {@link Native#errno()} on the same thread.
 *
 * <p>Variadic functions (open, fcntl, ioctl, prctl) are declared with fixed arguments: on x86-64
 * integer and pointer arguments travel the same way either way, which is what jnr-posix relies on too.
 * Struct sizes and offsets used with these functions are those of glibc on x86-64.
 */
public interface LibC {
    int getpid();

    int geteuid();

    int getegid();

    int open(String path, int flags, int mode);

    int close(int fd);

    int pipe2(@Out int[] fds, int flags);

    int fchown(int fd, int uid, int gid);

    int kill(int pid, int signal);

    int mkfifo(String path, int mode);

    /**
     * The buffer is copied in and out (no {@code @Out}): with {@code @Out} alone jnr-ffi copies the
     * whole remaining range back from uninitialised native memory, clobbering the bytes after the
     * ones read.
     */
    @ssize_t long read(int fd, ByteBuffer buf, @size_t long count);

    @ssize_t long write(int fd, @In ByteBuffer buf, @size_t long count);

    int fcntl(int fd, int cmd, int arg);

    int ioctl(int fd, long request, Pointer arg);

    int prctl(int option, long arg2, long arg3, long arg4, long arg5);

    int poll(Pointer fds, long nfds, int timeoutMillis);

    int waitid(int idType, int id, Pointer siginfo, int options);

    int waitpid(int pid, Pointer status, int options);

    String strerror(int errnum);

    int posix_spawnp(Pointer pid, String file, Pointer fileActions, Pointer attr, Pointer argv, Pointer envp);

    int posix_spawn_file_actions_init(Pointer fileActions);

    int posix_spawn_file_actions_destroy(Pointer fileActions);

    int posix_spawn_file_actions_adddup2(Pointer fileActions, int fd, int newFd);

    int posix_spawn_file_actions_addclose(Pointer fileActions, int fd);

    int posix_spawn_file_actions_addopen(Pointer fileActions, int fd, String path, int flags, int mode);

    int posix_spawn_file_actions_addchdir_np(Pointer fileActions, String path);

    int posix_spawn_file_actions_addclosefrom_np(Pointer fileActions, int from);

    int posix_spawnattr_init(Pointer attr);

    int posix_spawnattr_destroy(Pointer attr);

    int posix_spawnattr_setflags(Pointer attr, short flags);

    int posix_spawnattr_setsigmask(Pointer attr, Pointer sigset);

    int posix_spawnattr_setsigdefault(Pointer attr, Pointer sigset);

    int sigemptyset(Pointer sigset);

    int sigfillset(Pointer sigset);
}
