package io.jshim.reaper;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;

/**
 * A libc function called through the one FFM downcall handle that every libc call of the shim shares.
 *
 * <p>Why one handle: linking is what FFM costs. Each distinct function shape spins a stub class and a few dozen
 * method-handle forms at run time, and the AOT cache cannot hold them; a cold shim linked a couple of dozen
 * shapes before its first container ran (docs/performance.md). Here there is
 * one shape, {@code long f(long, long, long, long, long, long)} with errno captured, linked once without a target
 * ({@link Linker#downcallHandle(FunctionDescriptor, Linker.Option...)}): a function is then only a symbol, found
 * on first use.
 *
 * <p>That shape calls any libc function of up to six integer or pointer arguments on the 64-bit Linux ABIs this
 * runs on (x86-64 System V and AArch64): each argument travels in its own 64-bit register whatever its C type, a
 * callee ignores the registers it does not take, and variadic integer arguments travel as named ones. What the
 * caller must do instead of the linker: pass a pointer as {@link MemorySegment#address()} of a segment that stays
 * alive during the call (an arena the caller holds open), and narrow an {@code int} result with a cast, since the
 * upper half of the result register is undefined for it.
 *
 * <p>The same shape is also a C trampoline of ours ({@link LibcJni}), which costs nothing to link: it is used
 * whenever its library loads, the FFM handle otherwise. Nothing of the FFM linker (its layouts, its ABI classes,
 * the var handle of the capture state) is touched while the trampoline is loaded: every class a training run loads is
 * loaded again at each daemon's boot from the AOT cache, and costs memory in every pod.
 */
public final class LibcCall {
    /** The errno the trampoline stores: an int at the start of the state segment. */
    private static final long JNI_ERRNO_SIZE = 4;

    /** The FFM handle and its capture-state layout, linked only where {@link LibcJni} is not loaded. */
    private static final class Ffm {
        static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
        static final long ERRNO_OFFSET = ERRNO_STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
        static final Linker LINKER = Linker.nativeLinker();
        /** (target, errno state, six arguments) -> result: the only downcall handle libc calls need. */
        static final MethodHandle ANY = LINKER.downcallHandle(
                FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG),
                Linker.Option.captureCallState("errno"));
    }

    private final String name;
    /** The function's address, 0 until first found. Written once (any thread may find it first: the lookup is
     *  idempotent); volatile for the reading threads. */
    private volatile long symbol;

    private LibcCall(String name) {
        this.name = name;
    }

    /** The libc function {@code name}, looked up when first called. */
    public static LibcCall of(String name) {
        return new LibcCall(name);
    }

    /** A segment for the errno a call leaves behind, from {@code arena}. */
    public static MemorySegment errnoState(Arena arena) {
        return LibcJni.LOADED ? arena.allocate(JNI_ERRNO_SIZE, JNI_ERRNO_SIZE) : arena.allocate(Ffm.ERRNO_STATE);
    }

    /** The errno captured in {@code state} right after the last call given it. */
    public static int errno(MemorySegment state) {
        return state.get(JAVA_INT, LibcJni.LOADED ? 0 : Ffm.ERRNO_OFFSET);
    }

    private long symbol() {
        long s = symbol;
        if (s == 0) {
            s = LibcJni.LOADED ? LibcJni.symbol(name)
                    : Ffm.LINKER.defaultLookup().find(name).map(MemorySegment::address).orElse(0L);
            if (s == 0) {
                throw new UnsatisfiedLinkError("libc has no " + name);
            }
            symbol = s;
        }
        return s;
    }

    /** Whether calls go through jshim's JNI trampoline (else through the FFM handle); for tests. */
    public static boolean usesJni() {
        return LibcJni.LOADED;
    }

    /** Calls the function; its raw 64-bit result, errno in {@code state} (an {@link #errnoState} segment). */
    public long call(MemorySegment state, long a1, long a2, long a3, long a4, long a5, long a6) {
        if (LibcJni.LOADED) {
            if (!state.isNative()) {
                throw new IllegalArgumentException("errno state must be native memory (LibcCall.errnoState)");
            }
            return LibcJni.call(symbol(), state.address(), a1, a2, a3, a4, a5, a6);
        }
        try {
            return (long) Ffm.ANY.invokeExact(MemorySegment.ofAddress(symbol()), state, a1, a2, a3, a4, a5, a6);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(name + " failed", t); // a downcall throws nothing checked
        }
    }

    public long call(MemorySegment state) {
        return call(state, 0, 0, 0, 0, 0, 0);
    }

    public long call(MemorySegment state, long a1) {
        return call(state, a1, 0, 0, 0, 0, 0);
    }

    public long call(MemorySegment state, long a1, long a2) {
        return call(state, a1, a2, 0, 0, 0, 0);
    }

    public long call(MemorySegment state, long a1, long a2, long a3) {
        return call(state, a1, a2, a3, 0, 0, 0);
    }

    public long call(MemorySegment state, long a1, long a2, long a3, long a4) {
        return call(state, a1, a2, a3, a4, 0, 0);
    }

    public long call(MemorySegment state, long a1, long a2, long a3, long a4, long a5) {
        return call(state, a1, a2, a3, a4, a5, 0);
    }

    @Override
    public String toString() {
        return name;
    }
}
