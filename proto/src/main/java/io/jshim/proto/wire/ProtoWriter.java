package io.jshim.proto.wire;

import java.util.List;
import java.util.Map;

/**
 * Protobuf's binary encoding into an array sized beforehand ({@link ProtoMessage#getSerializedSize()}). Generated
 * code calls a field's writer only for a value that is set (proto3: not the default), and sizes it with the static
 * size method of the same name.
 */
public final class ProtoWriter {

    private static final int VARINT = 0, FIXED64 = 1, LENGTH = 2, FIXED32 = 5;

    private final byte[] buf;
    private int pos;

    public ProtoWriter(byte[] buf, int offset) {
        this.buf = buf;
        this.pos = offset;
    }

    public static byte[] encode(ProtoMessage message) {
        byte[] out = new byte[message.getSerializedSize()];
        ProtoWriter w = new ProtoWriter(out, 0);
        message.writeTo(w);
        if (w.pos != out.length) {
            throw new IllegalStateException(message.typeName() + ": wrote " + w.pos + " of " + out.length + " bytes");
        }
        return out;
    }

    public int position() {
        return pos;
    }

    // ---- fields ----

    public void int32(int field, int v) { tag(field, VARINT); rawVarint64(v); }
    public void uint32(int field, int v) { tag(field, VARINT); rawVarint32(v); }
    public void sint32(int field, int v) { tag(field, VARINT); rawVarint32((v << 1) ^ (v >> 31)); }
    public void int64(int field, long v) { tag(field, VARINT); rawVarint64(v); }
    public void uint64(int field, long v) { tag(field, VARINT); rawVarint64(v); }
    public void sint64(int field, long v) { tag(field, VARINT); rawVarint64((v << 1) ^ (v >> 63)); }
    public void bool(int field, boolean v) { tag(field, VARINT); buf[pos++] = (byte) (v ? 1 : 0); }
    public void enumValue(int field, int v) { int32(field, v); }
    public void fixed32(int field, int v) { tag(field, FIXED32); rawFixed32(v); }
    public void sfixed32(int field, int v) { fixed32(field, v); }
    public void fixed64(int field, long v) { tag(field, FIXED64); rawFixed64(v); }
    public void sfixed64(int field, long v) { fixed64(field, v); }
    public void floatValue(int field, float v) { fixed32(field, Float.floatToRawIntBits(v)); }
    public void doubleValue(int field, double v) { fixed64(field, Double.doubleToRawLongBits(v)); }

    public void string(int field, String s) {
        tag(field, LENGTH);
        rawVarint32(utf8Length(s));
        rawUtf8(s);
    }

    public void bytes(int field, Bytes b) {
        tag(field, LENGTH);
        rawVarint32(b.size());
        System.arraycopy(b.array(), 0, buf, pos, b.size());
        pos += b.size();
    }

    public void message(int field, ProtoMessage m) {
        tag(field, LENGTH);
        rawVarint32(m.getSerializedSize());
        m.writeTo(this);
    }

    /** A map entry of a {@code map<string, string>}: key and value are written even when empty, as protoc's do. */
    public void stringMapEntry(int field, String key, String value) {
        tag(field, LENGTH);
        rawVarint32(stringMapEntryBody(key, value));
        string(1, key);
        string(2, value);
    }

    public void stringMap(int field, Map<String, String> map) {
        for (Map.Entry<String, String> e : map.entrySet()) {
            stringMapEntry(field, e.getKey(), e.getValue());
        }
    }

    /** A packed repeated uint64/int64 (proto3's default for repeated scalars). */
    public void packedVarint64(int field, List<Long> values) {
        tag(field, LENGTH);
        rawVarint32(packedVarint64Body(values));
        for (int i = 0; i < values.size(); i++) {
            rawVarint64(values.get(i));
        }
    }

    /** A packed repeated int32/uint32/enum. */
    public void packedVarint32(int field, List<Integer> values, boolean signExtend) {
        tag(field, LENGTH);
        rawVarint32(packedVarint32Body(values, signExtend));
        for (int i = 0; i < values.size(); i++) {
            int v = values.get(i);
            if (signExtend) rawVarint64(v); else rawVarint32(v);
        }
    }

    // ---- sizes, matching the writers above ----

    public static int sizeInt32(int field, int v) { return tagSize(field) + varint64Size(v); }
    public static int sizeUint32(int field, int v) { return tagSize(field) + varint32Size(v); }
    public static int sizeSint32(int field, int v) { return tagSize(field) + varint32Size((v << 1) ^ (v >> 31)); }
    public static int sizeInt64(int field, long v) { return tagSize(field) + varint64Size(v); }
    public static int sizeUint64(int field, long v) { return tagSize(field) + varint64Size(v); }
    public static int sizeSint64(int field, long v) { return tagSize(field) + varint64Size((v << 1) ^ (v >> 63)); }
    public static int sizeBool(int field, boolean v) { return tagSize(field) + 1; }
    public static int sizeEnumValue(int field, int v) { return sizeInt32(field, v); }
    public static int sizeFixed32(int field, int v) { return tagSize(field) + 4; }
    public static int sizeSfixed32(int field, int v) { return tagSize(field) + 4; }
    public static int sizeFixed64(int field, long v) { return tagSize(field) + 8; }
    public static int sizeSfixed64(int field, long v) { return tagSize(field) + 8; }
    public static int sizeFloatValue(int field, float v) { return tagSize(field) + 4; }
    public static int sizeDoubleValue(int field, double v) { return tagSize(field) + 8; }

    public static int sizeString(int field, String s) {
        int n = utf8Length(s);
        return tagSize(field) + varint32Size(n) + n;
    }

    public static int sizeBytes(int field, Bytes b) {
        return tagSize(field) + varint32Size(b.size()) + b.size();
    }

    public static int sizeMessage(int field, ProtoMessage m) {
        int n = m.getSerializedSize();
        return tagSize(field) + varint32Size(n) + n;
    }

    public static int sizeStringMap(int field, Map<String, String> map) {
        int size = 0;
        for (Map.Entry<String, String> e : map.entrySet()) {
            int body = stringMapEntryBody(e.getKey(), e.getValue());
            size += tagSize(field) + varint32Size(body) + body;
        }
        return size;
    }

    public static int sizePackedVarint64(int field, List<Long> values) {
        int body = packedVarint64Body(values);
        return tagSize(field) + varint32Size(body) + body;
    }

    public static int sizePackedVarint32(int field, List<Integer> values, boolean signExtend) {
        int body = packedVarint32Body(values, signExtend);
        return tagSize(field) + varint32Size(body) + body;
    }

    private static int stringMapEntryBody(String key, String value) {
        return sizeString(1, key) + sizeString(2, value);
    }

    private static int packedVarint64Body(List<Long> values) {
        int n = 0;
        for (int i = 0; i < values.size(); i++) n += varint64Size(values.get(i));
        return n;
    }

    private static int packedVarint32Body(List<Integer> values, boolean signExtend) {
        int n = 0;
        for (int i = 0; i < values.size(); i++) {
            int v = values.get(i);
            n += signExtend ? varint64Size(v) : varint32Size(v);
        }
        return n;
    }

    public static int tagSize(int field) {
        return varint32Size(field << 3);
    }

    public static int varint32Size(int v) {
        if ((v & (~0 << 7)) == 0) return 1;
        if ((v & (~0 << 14)) == 0) return 2;
        if ((v & (~0 << 21)) == 0) return 3;
        if ((v & (~0 << 28)) == 0) return 4;
        return 5;
    }

    public static int varint64Size(long v) {
        int n = 1;
        while ((v & ~0x7FL) != 0) {
            n++;
            v >>>= 7;
        }
        return n;
    }

    /** The UTF-8 length of a string, as {@code String.getBytes(UTF_8)} encodes it (a lone surrogate is '?'). */
    public static int utf8Length(String s) {
        int n = s.length();
        int len = n;
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c >= 0x80) {
                if (c < 0x800) {
                    len += 1;
                } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                    len += 2; // 4 bytes for 2 chars
                    i++;
                } else if (Character.isSurrogate(c)) {
                    // a lone surrogate: one '?' byte, as the JDK's encoder writes it
                } else {
                    len += 2;
                }
            }
        }
        return len;
    }

    // ---- raw ----

    private void tag(int field, int wireType) {
        rawVarint32((field << 3) | wireType);
    }

    private void rawVarint32(int v) {
        while ((v & ~0x7F) != 0) {
            buf[pos++] = (byte) ((v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[pos++] = (byte) v;
    }

    private void rawVarint64(long v) {
        while ((v & ~0x7FL) != 0) {
            buf[pos++] = (byte) (((int) v & 0x7F) | 0x80);
            v >>>= 7;
        }
        buf[pos++] = (byte) v;
    }

    private void rawFixed32(int v) {
        buf[pos++] = (byte) v;
        buf[pos++] = (byte) (v >> 8);
        buf[pos++] = (byte) (v >> 16);
        buf[pos++] = (byte) (v >> 24);
    }

    private void rawFixed64(long v) {
        rawFixed32((int) v);
        rawFixed32((int) (v >> 32));
    }

    private void rawUtf8(String s) {
        int n = s.length();
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                buf[pos++] = (byte) c;
            } else if (c < 0x800) {
                buf[pos++] = (byte) (0xC0 | (c >> 6));
                buf[pos++] = (byte) (0x80 | (c & 0x3F));
            } else if (Character.isHighSurrogate(c) && i + 1 < n && Character.isLowSurrogate(s.charAt(i + 1))) {
                int cp = Character.toCodePoint(c, s.charAt(++i));
                buf[pos++] = (byte) (0xF0 | (cp >> 18));
                buf[pos++] = (byte) (0x80 | ((cp >> 12) & 0x3F));
                buf[pos++] = (byte) (0x80 | ((cp >> 6) & 0x3F));
                buf[pos++] = (byte) (0x80 | (cp & 0x3F));
            } else if (Character.isSurrogate(c)) {
                buf[pos++] = (byte) '?';
            } else {
                buf[pos++] = (byte) (0xE0 | (c >> 12));
                buf[pos++] = (byte) (0x80 | ((c >> 6) & 0x3F));
                buf[pos++] = (byte) (0x80 | (c & 0x3F));
            }
        }
    }
}
