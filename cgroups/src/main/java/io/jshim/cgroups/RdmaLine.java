package io.jshim.cgroups;

import java.util.ArrayList;
import java.util.List;

/**
 * One line of rdma.current / rdma.max ("mlx4_0 hca_handle=2 hca_object=2000"), the same in v1
 * and v2; "max" reads as the u32 maximum as containerd does.
 */
record RdmaLine(String device, int hcaHandles, int hcaObjects) {

    static List<RdmaLine> parse(List<String> lines) {
        List<RdmaLine> out = new ArrayList<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length != 3) {
                continue;
            }
            int handles = 0;
            int objects = 0;
            for (int i = 1; i < 3; i++) {
                String[] kv = f[i].split("=", 2);
                if (kv.length != 2) {
                    continue;
                }
                int value;
                try {
                    value = kv[1].equals("max") ? -1 : (int) Long.parseLong(kv[1]);
                } catch (NumberFormatException e) {
                    continue;
                }
                switch (kv[0]) {
                    case "hca_handle" -> handles = value;
                    case "hca_object" -> objects = value;
                    default -> { }
                }
            }
            out.add(new RdmaLine(f[0], handles, objects));
        }
        return out;
    }
}
