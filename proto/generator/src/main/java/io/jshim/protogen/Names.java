package io.jshim.protogen;

/** protoc's Java naming, so that generated accessors are the names protobuf-java gives them. */
final class Names {
    private Names() {}

    /** protoc's UnderscoresToCamelCase: a letter after '_' or a digit is capitalised; '_' itself is dropped. */
    static String camel(String name, boolean capitalizeFirst) {
        StringBuilder out = new StringBuilder(name.length());
        boolean capNext = capitalizeFirst;
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            if (c >= 'a' && c <= 'z') {
                out.append(capNext ? Character.toUpperCase(c) : c);
                capNext = false;
            } else if (c >= 'A' && c <= 'Z') {
                out.append(i == 0 && !capitalizeFirst ? Character.toLowerCase(c) : c);
                capNext = false;
            } else if (c >= '0' && c <= '9') {
                out.append(c);
                capNext = true;
            } else {
                capNext = true;
            }
        }
        return out.toString();
    }

    /** A Java string literal. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                default -> out.append(c);
            }
        }
        return out.append('"').toString();
    }
}
