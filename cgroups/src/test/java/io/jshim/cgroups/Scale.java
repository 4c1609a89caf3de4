package io.jshim.cgroups;

/** Counts for -Djshim.scale=small (make test) or full (make stress). */
final class Scale {

    private Scale() {}

    static boolean full() {
        return System.getProperty("jshim.scale", "small").equals("full");
    }

    static int of(int small, int full) {
        return full() ? full : small;
    }
}
