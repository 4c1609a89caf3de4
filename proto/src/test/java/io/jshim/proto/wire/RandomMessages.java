package io.jshim.proto.wire;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Random protobuf-java messages of any schema: every field kind, the edges of each number type (negative int32 and
 * int64, uint32 and uint64 above the signed range, NaN, -0.0), UTF-8 of 1 to 4 bytes, empty and non-empty strings,
 * several repeated elements (defaults among them), maps, nested messages, optional fields present with their default,
 * and enum numbers the schema does not know.
 */
final class RandomMessages {

    private static final int MAX_DEPTH = 4;

    /** Characters of every UTF-8 length: ASCII, NUL, 2-byte, 3-byte (incl. U+FFFF, U+2028), 4-byte (pairs). */
    private static final String[] CHARS = {
            "a", "Z", "0", " ", "\"", "\\", "/", "<", "&", "'", "=", "\n", "\t", "\u0000", "\u001f", "\u007f",
            "é", "ß", "\u07ff", "中", "\u0800", "\u2028", "\u2029", "\uffff", "\ufeff",
            "😀", "\ud800\udc00", "\udbff\udfff", "𝄞"};

    private final Random rnd;

    RandomMessages(long seed) {
        this.rnd = new Random(seed);
    }

    DynamicMessage message(Descriptor d) {
        return message(d, 0);
    }

    private DynamicMessage message(Descriptor d, int depth) {
        DynamicMessage.Builder b = DynamicMessage.newBuilder(d);
        for (FieldDescriptor f : d.getFields()) {
            if (f.isMapField()) {
                int n = count();
                Set<String> keys = new HashSet<>();
                Descriptor entry = f.getMessageType();
                for (int i = 0; i < n; i++) {
                    String key = string();
                    if (keys.add(key)) {
                        b.addRepeatedField(f, DynamicMessage.newBuilder(entry)
                                .setField(entry.findFieldByNumber(1), key)
                                .setField(entry.findFieldByNumber(2), string()).build());
                    }
                }
            } else if (f.isRepeated()) {
                if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE && depth >= MAX_DEPTH) {
                    continue;
                }
                int n = count();
                for (int i = 0; i < n; i++) {
                    b.addRepeatedField(f, value(f, depth));
                }
            } else if (f.hasPresence()) { // messages and proto3 optional: present, perhaps with the default
                if (rnd.nextInt(10) < 6 && (f.getJavaType() != FieldDescriptor.JavaType.MESSAGE || depth < MAX_DEPTH)) {
                    b.setField(f, rnd.nextInt(5) == 0 ? defaultOf(f) : value(f, depth));
                }
            } else if (rnd.nextInt(10) < 7) {
                Object v;
                do {
                    v = value(f, depth);
                } while (v.equals(f.getDefaultValue()));
                b.setField(f, v);
            }
        }
        return b.build();
    }

    /** Mostly a few elements, sometimes none or many. */
    private int count() {
        int r = rnd.nextInt(10);
        return r < 2 ? 0 : r < 8 ? 1 + rnd.nextInt(4) : 5 + rnd.nextInt(20);
    }

    private Object defaultOf(FieldDescriptor f) {
        if (f.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
            return DynamicMessage.getDefaultInstance(f.getMessageType());
        }
        return f.getDefaultValue();
    }

    private Object value(FieldDescriptor f, int depth) {
        return switch (f.getType()) {
            case INT32, SINT32, SFIXED32 -> int32();
            case UINT32, FIXED32 -> rnd.nextBoolean() ? int32() : rnd.nextInt(4) == 0 ? -1 : Integer.MIN_VALUE | rnd.nextInt();
            case INT64, SINT64, SFIXED64 -> int64();
            case UINT64, FIXED64 -> rnd.nextBoolean() ? int64() : rnd.nextInt(4) == 0 ? -1L : Long.MIN_VALUE | rnd.nextLong();
            case BOOL -> rnd.nextBoolean();
            case FLOAT -> switch (rnd.nextInt(8)) {
                case 0 -> Float.NaN;
                case 1 -> rnd.nextBoolean() ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
                case 2 -> -0.0f;
                case 3 -> rnd.nextBoolean() ? Float.MIN_VALUE : Float.MAX_VALUE;
                case 4 -> (float) rnd.nextInt(1000);
                default -> (rnd.nextFloat() - 0.5f) * (float) Math.pow(10, rnd.nextInt(40) - 20);
            };
            case DOUBLE -> switch (rnd.nextInt(8)) {
                case 0 -> Double.NaN;
                case 1 -> rnd.nextBoolean() ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
                case 2 -> -0.0d;
                case 3 -> rnd.nextBoolean() ? Double.MIN_VALUE : Double.MAX_VALUE;
                case 4 -> (double) rnd.nextInt(1000);
                default -> (rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextInt(600) - 300);
            };
            case STRING -> string();
            case BYTES -> {
                byte[] b = new byte[rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 300 : 16)];
                rnd.nextBytes(b);
                yield ByteString.copyFrom(b);
            }
            case ENUM -> enumValue(f.getEnumType());
            case MESSAGE -> message(f.getMessageType(), depth + 1);
            case GROUP -> throw new AssertionError("no groups in proto3");
        };
    }

    private int int32() {
        return switch (rnd.nextInt(6)) {
            case 0 -> rnd.nextInt();
            case 1 -> -1 - rnd.nextInt(200);
            case 2 -> rnd.nextBoolean() ? Integer.MIN_VALUE : Integer.MAX_VALUE;
            case 3 -> 1 << rnd.nextInt(32);
            default -> rnd.nextInt(300);
        };
    }

    private long int64() {
        return switch (rnd.nextInt(6)) {
            case 0 -> rnd.nextLong();
            case 1 -> -1 - rnd.nextInt(200);
            case 2 -> rnd.nextBoolean() ? Long.MIN_VALUE : Long.MAX_VALUE;
            case 3 -> 1L << rnd.nextInt(64);
            default -> rnd.nextInt(300);
        };
    }

    private Object enumValue(EnumDescriptor e) {
        if (rnd.nextInt(8) == 0) { // an enum number this schema does not know: kept, as proto3 enums are open
            return e.findValueByNumberCreatingIfUnknown(rnd.nextBoolean() ? 1000 + rnd.nextInt(100) : -3 - rnd.nextInt(5));
        }
        List<com.google.protobuf.Descriptors.EnumValueDescriptor> values = e.getValues();
        return values.get(rnd.nextInt(values.size()));
    }

    String string() {
        if (rnd.nextInt(5) == 0) {
            return "";
        }
        StringBuilder s = new StringBuilder();
        int n = 1 + rnd.nextInt(rnd.nextInt(10) == 0 ? 200 : 12);
        for (int i = 0; i < n; i++) {
            s.append(rnd.nextInt(3) == 0 ? CHARS[rnd.nextInt(CHARS.length)] : String.valueOf((char) ('a' + rnd.nextInt(26))));
        }
        return s.toString();
    }
}
