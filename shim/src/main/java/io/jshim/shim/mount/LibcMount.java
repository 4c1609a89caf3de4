package io.jshim.shim.mount;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * mount(2) and umount2(2), which the JDK does not expose, bound with the FFM API. As with a C caller, a failed
 * call's errno is read afterwards with {@link #errno()} on the same thread (it is kept per thread).
 */
public final class LibcMount {
    public interface C {
        int mount(String source, String target, String fstype, long flags, String data);

        int umount2(String target, int flags);
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = ERRNO_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    /** errno of this thread's last failed call (0 after a successful one). */
    private static final ThreadLocal<int[]> LAST_ERRNO = ThreadLocal.withInitial(() -> new int[1]);

    static final C LIBC = new Ffm();

    private LibcMount() {}

    static int errno() {
        return LAST_ERRNO.get()[0];
    }

    private static final class Ffm implements C {
        private static final MethodHandle MOUNT = libc("mount",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
        private static final MethodHandle UMOUNT2 = libc("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));

        @Override
        public int mount(String source, String target, String fstype, long flags, String data) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = arena.allocate(ERRNO_STATE);
                int r = (int) MOUNT.invokeExact(errno, string(arena, source), string(arena, target),
                        string(arena, fstype), flags, string(arena, data));
                return remember(r, errno);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("mount failed to run", t);
            }
        }

        @Override
        public int umount2(String target, int flags) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = arena.allocate(ERRNO_STATE);
                return remember((int) UMOUNT2.invokeExact(errno, string(arena, target), flags), errno);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("umount2 failed to run", t);
            }
        }

        private static MemorySegment string(Arena arena, String s) {
            return s == null ? MemorySegment.NULL : arena.allocateFrom(s);
        }

        private static int remember(int result, MemorySegment errno) {
            LAST_ERRNO.get()[0] = result == 0 ? 0 : (int) ERRNO.get(errno, 0L);
            return result;
        }

        private static MethodHandle libc(String name, FunctionDescriptor descriptor) {
            MemorySegment symbol = LINKER.defaultLookup().find(name)
                    .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
            return LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"));
        }
    }
}
