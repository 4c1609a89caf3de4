package io.jshim.shim;

import java.util.ArrayList;
import java.util.List;

/**
 * The fields of a line of a /proc table, split by hand.
 *
 * <p>Why not {@code String.split(" +")}: a pattern of more than one character compiles a regex, and the start and
 * daemon paths read such tables; every class the AOT training loads is loaded at each daemon's boot.
 */
public final class Fields {
    private Fields() {}

    /** {@code line.trim().split(" +")}: the trimmed line's runs of non-spaces (tabs stay inside fields). */
    public static String[] spaceSeparated(String line) {
        String s = line.trim();
        if (s.isEmpty()) {
            return new String[] {""};
        }
        List<String> out = new ArrayList<>(8);
        int i = 0;
        while (i < s.length()) {
            int start = i;
            while (i < s.length() && s.charAt(i) != ' ') {
                i++;
            }
            out.add(s.substring(start, i));
            while (i < s.length() && s.charAt(i) == ' ') {
                i++;
            }
        }
        return out.toArray(new String[0]);
    }
}
