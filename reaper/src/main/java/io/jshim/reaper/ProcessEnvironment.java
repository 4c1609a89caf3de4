package io.jshim.reaper;

import java.util.Map;

/**
 * The environment this shim runs with and hands to every child spawned without one of its own: the JVM's own
 * ({@link System#getenv()}), or the one a warm standby adopted with its group. A JVM cannot change its own
 * environment after boot, so an adopted daemon keeps the start's values here and passes them on explicitly
 * (TTRPC_ADDRESS, NAMESPACE, JSHIM_* ... as runc would have seen them from a daemon that start booted).
 */
public final class ProcessEnvironment {
    /** Written once, at adoption, before the daemon serves its first request; read by every spawn. */
    private static volatile Map<String, String> current = System.getenv();

    private ProcessEnvironment() {}

    public static Map<String, String> current() {
        return current;
    }

    /** A variable of {@link #current()}; null when unset. */
    public static String get(String name) {
        return current.get(name);
    }

    /** Replaces the environment for everything spawned from now on (a standby's adoption). */
    public static void adopt(Map<String, String> env) {
        current = Map.copyOf(env);
        CloneSpawn.environmentChanged();
    }
}
