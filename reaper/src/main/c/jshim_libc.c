/*
 * libjshim_libc.so: the native half of io.jshim.reaper.LibcCall (see LibcJni.java for why it exists).
 *
 * One trampoline calls any libc function of up to six integer or pointer arguments, as LibcCall's FFM handle
 * does (each argument in its own 64-bit register whatever its C type; a callee ignores the registers it does not
 * take), and stores the errno it left where the caller asked, before anything else on this thread can change it.
 */
#include <jni.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>

typedef long (*libc_function)(long, long, long, long, long, long);

JNIEXPORT jlong JNICALL Java_io_jshim_reaper_LibcJni_call(JNIEnv *env, jclass cls, jlong function, jlong errno_out,
                                                           jlong a1, jlong a2, jlong a3, jlong a4, jlong a5,
                                                           jlong a6) {
    (void) env;
    (void) cls;
    long result = ((libc_function) (intptr_t) function)(a1, a2, a3, a4, a5, a6);
    if (errno_out != 0) {
        *(int *) (intptr_t) errno_out = errno;
    }
    return result;
}

/* The address of a function the process has loaded (libc's), or 0. */
JNIEXPORT jlong JNICALL Java_io_jshim_reaper_LibcJni_symbol(JNIEnv *env, jclass cls, jstring name) {
    (void) cls;
    const char *utf = (*env)->GetStringUTFChars(env, name, NULL);
    if (utf == NULL) {
        return 0; /* OutOfMemoryError pending */
    }
    void *address = dlsym(RTLD_DEFAULT, utf);
    (*env)->ReleaseStringUTFChars(env, name, utf);
    return (jlong) (intptr_t) address;
}
