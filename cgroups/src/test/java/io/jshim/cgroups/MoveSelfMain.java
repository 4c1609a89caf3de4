package io.jshim.cgroups;

import java.nio.file.Files;
import java.nio.file.Path;

/** Run in a child JVM by CgroupPlacementTest: moves itself, then prints /proc/self/cgroup. */
public final class MoveSelfMain {

    private MoveSelfMain() {}

    public static void main(String[] args) throws Exception {
        Cgroup.moveSelfTo(args[0]);
        System.out.print(Files.readString(Path.of("/proc/self/cgroup")));
    }
}
