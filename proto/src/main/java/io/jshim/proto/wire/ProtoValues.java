package io.jshim.proto.wire;

import java.util.Base64;

/** JSON values into a field's type, by protobuf's JSON mapping (64-bit integers may be strings). */
public final class ProtoValues {
    private ProtoValues() {}

    public static String string(Object v) {
        if (v instanceof String s) {
            return s;
        }
        throw new IllegalArgumentException("expected a string, got " + v);
    }

    public static boolean bool(Object v) {
        if (v instanceof Boolean b) {
            return b;
        }
        throw new IllegalArgumentException("expected true or false, got " + v);
    }

    public static Bytes bytes(Object v) {
        try {
            return Bytes.wrap(Base64.getDecoder().decode(string(v)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("expected base64, got " + v);
        }
    }

    public static double number(Object v) {
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        if (v instanceof String s) {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                // below
            }
        }
        throw new IllegalArgumentException("expected a number, got " + v);
    }

    public static int int32(Object v, boolean unsigned) {
        long n = int64(v, false);
        if (unsigned ? n < 0 || n > 0xFFFF_FFFFL : n < Integer.MIN_VALUE || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("out of range for a 32-bit " + (unsigned ? "unsigned " : "") + "integer: " + v);
        }
        return (int) n;
    }

    public static long int64(Object v, boolean unsigned) {
        String text = v instanceof String s ? s
                : v instanceof Long || v instanceof Integer || v instanceof java.math.BigInteger ? v.toString() : null;
        if (text == null && v instanceof Double d && d == Math.rint(d) && Math.abs(d) < 0x1p53) {
            text = Long.toString(d.longValue());
        }
        if (text != null) {
            try {
                return unsigned ? Long.parseUnsignedLong(text) : Long.parseLong(text);
            } catch (NumberFormatException e) {
                // below
            }
        }
        throw new IllegalArgumentException("expected an integer, got " + v);
    }
}
