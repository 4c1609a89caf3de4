/*
 * The spawn of io.jshim.reaper.CloneSpawn (see there for why): posix_spawnp's work plus the parent-death signal,
 * in one clone(CLONE_VM | CLONE_VFORK) child, so that a runc call costs one exec instead of two (setpriv, then runc).
 *
 * The child shares our memory and runs on its own small stack while the calling thread waits (CLONE_VFORK), as
 * glibc's posix_spawn does; it makes only system calls (no malloc, no locks) and reports a failure before exec in
 * spawn.error. Every signal is blocked in the calling thread around the clone, so no handler of the JVM's runs in
 * the child before it has set every signal back to its default.
 */
#define _GNU_SOURCE
#include <jni.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Flags, as io.jshim.reaper.CloneSpawn passes them. */
#define SPAWN_SETSID 1
#define SPAWN_PDEATHSIG 2
#define SPAWN_WORKDIR 4

#define CHILD_STACK (64 * 1024)
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* The kernel's sigaction and signal set (64 signals): the raw calls reach glibc's internal signals 32 and 33 too. */
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

struct spawn {
    const char *path;       /* the program, resolved on our PATH */
    char **argv;
    char **envp;
    const char *workdir;    /* or NULL */
    const int *fds;         /* nfds pairs: child fd, our fd */
    int nfds;
    int flags;
    pid_t parent;
    volatile int error;     /* set by the child when it fails before exec */
};

static int is_target(const struct spawn *s, int fd) {
    for (int i = 0; i < s->nfds; i++) {
        if (s->fds[2 * i] == fd) {
            return 1;
        }
    }
    return 0;
}

static void close_from(int low) {
    if (syscall(SYS_close_range, (unsigned) low, ~0U, 0) == 0) {
        return;
    }
    struct rlimit limit; /* a kernel older than 5.9: close them one by one */
    long high = syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &limit) == 0 ? (long) limit.rlim_cur : 65536;
    for (long fd = low; fd < high; fd++) {
        syscall(SYS_close, (int) fd);
    }
}

static int child(void *arg) {
    struct spawn *s = arg;
    struct kernel_sigaction dfl = {0};
    for (int sig = 1; sig <= 64; sig++) {
        if (sig != SIGKILL && sig != SIGSTOP) {
            syscall(SYS_rt_sigaction, sig, &dfl, NULL, sizeof(unsigned long));
        }
    }
    if ((s->flags & SPAWN_SETSID) && setsid() < 0) {
        goto fail;
    }
    if (s->flags & SPAWN_PDEATHSIG) {
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
            goto fail;
        }
        if (getppid() != s->parent) { /* we died before the signal was armed: follow at once */
            _exit(128 + SIGKILL);
        }
    }
    if (s->workdir != NULL && chdir(s->workdir) < 0) {
        goto fail;
    }
    /* Every source to a scratch fd above all sources and targets, then each scratch fd to its target: a target
       that is another mapping's source is copied before it is overwritten, and dup2 never keeps FD_CLOEXEC. */
    int highest = 2;
    for (int i = 0; i < 2 * s->nfds; i++) {
        highest = s->fds[i] > highest ? s->fds[i] : highest;
    }
    int max_target = 2;
    for (int i = 0; i < s->nfds; i++) {
        if (dup2(s->fds[2 * i + 1], highest + 1 + i) < 0) {
            goto fail;
        }
    }
    for (int i = 0; i < s->nfds; i++) {
        int target = s->fds[2 * i];
        if (dup2(highest + 1 + i, target) < 0) {
            goto fail;
        }
        max_target = target > max_target ? target : max_target;
    }
    for (int std = 0; std <= 2; std++) {
        if (!is_target(s, std)) {
            int fd = open("/dev/null", O_RDWR);
            if (fd < 0 || (fd != std && (dup2(fd, std) < 0 || close(fd) < 0))) {
                goto fail;
            }
        }
    }
    for (int fd = 3; fd <= max_target; fd++) {
        if (!is_target(s, fd)) {
            close(fd);
        }
    }
    close_from(max_target + 1);
    unsigned long none = 0;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof none);
    execve(s->path, s->argv, s->envp);
fail:
    s->error = errno;
    _exit(127);
}

/* The program as execvp would find it on our PATH, into buf; 0 or an errno. */
static int resolve(const char *program, char *buf, size_t size) {
    if (strchr(program, '/') != NULL) {
        if (strlen(program) >= size) {
            return ENAMETOOLONG;
        }
        strcpy(buf, program);
        return 0;
    }
    const char *path = getenv("PATH");
    if (path == NULL) {
        path = DEFAULT_PATH;
    }
    size_t len = strlen(program);
    for (const char *dir = path;; ) {
        const char *end = strchrnul(dir, ':');
        size_t dlen = (size_t) (end - dir);
        if (dlen == 0) { /* an empty entry is the working directory */
            dir = ".";
            dlen = 1;
        }
        if (dlen + 1 + len < size) {
            memcpy(buf, dir, dlen);
            buf[dlen] = '/';
            memcpy(buf + dlen + 1, program, len + 1);
            struct stat st;
            if (stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0) {
                return 0;
            }
        }
        if (*end == '\0') {
            return ENOENT;
        }
        dir = end + 1;
    }
}

/* Splits count NUL-terminated strings off *cursor into a NULL-terminated array. */
static char **split(char **cursor, const char *end, int count) {
    char **array = calloc((size_t) count + 1, sizeof(char *));
    if (array == NULL) {
        return NULL;
    }
    for (int i = 0; i < count; i++) {
        if (*cursor >= end) {
            free(array);
            return NULL;
        }
        array[i] = *cursor;
        *cursor += strlen(*cursor) + 1;
    }
    return array;
}

/*
 * strings: argc arguments, envc environment entries and (with SPAWN_WORKDIR) the working directory, each
 * NUL-terminated; fds: pairs of child fd, our fd. Returns the child's pid, or -errno (the child is reaped here
 * when it failed before exec, as glibc's posix_spawn does).
 */
JNIEXPORT jint JNICALL Java_io_jshim_reaper_LibcJni_spawn(JNIEnv *env, jclass cls, jbyteArray strings, jint argc,
                                                           jint envc, jintArray fds, jint flags) {
    (void) cls;
    jsize size = (*env)->GetArrayLength(env, strings);
    jsize nfds = (*env)->GetArrayLength(env, fds) / 2;
    char *block = malloc((size_t) size + 1);
    int *pairs = malloc(sizeof(int) * (2 * (size_t) nfds + 1));
    char **argv = NULL;
    char **envp = NULL;
    char *path = malloc(4096);
    int result = -ENOMEM;
    if (block == NULL || pairs == NULL || path == NULL) {
        goto out;
    }
    (*env)->GetByteArrayRegion(env, strings, 0, size, (jbyte *) block);
    (*env)->GetIntArrayRegion(env, fds, 0, 2 * nfds, pairs);
    block[size] = '\0';
    char *cursor = block;
    const char *end = block + size;
    argv = split(&cursor, end, argc);
    envp = split(&cursor, end, envc);
    if (argv == NULL || envp == NULL || argc < 1 || ((flags & SPAWN_WORKDIR) && cursor >= end)) {
        result = argv == NULL || envp == NULL ? -ENOMEM : -EINVAL;
        goto out;
    }
    int err = resolve(argv[0], path, 4096);
    if (err != 0) {
        result = -err;
        goto out;
    }
    struct spawn s = {
        .path = path, .argv = argv, .envp = envp, .workdir = (flags & SPAWN_WORKDIR) ? cursor : NULL,
        .fds = pairs, .nfds = nfds, .flags = flags, .parent = getpid(), .error = 0,
    };
    char *stack = mmap(NULL, CHILD_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
        result = -errno;
        goto out;
    }
    unsigned long all = ~0UL;
    unsigned long old;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof all);
    pid_t pid = clone(child, stack + CHILD_STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &s);
    int clone_errno = errno;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, NULL, sizeof old);
    munmap(stack, CHILD_STACK);
    if (pid < 0) {
        result = -clone_errno;
    } else if (s.error != 0) {
        while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR) {
        }
        result = -s.error;
    } else {
        result = pid;
    }
out:
    free(block);
    free(pairs);
    free(argv);
    free(envp);
    free(path);
    return result;
}
