package io.jshim.proto.wire;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * Protobuf's binary decoding from an array. Generated code loops over {@link #readTag()} until it returns 0, reads the
 * fields it knows and {@link #skip skips} the rest (unknown fields, and known ones with another wire type, as
 * protobuf-java does). Every length is checked against the limit; nesting is bounded.
 */
public final class ProtoReader {

    private static final int MAX_DEPTH = 100;

    private final byte[] buf;
    private int pos;
    private int limit;
    private int depth;

    public ProtoReader(byte[] buf, int offset, int length) {
        if (offset < 0 || length < 0 || length > buf.length - offset) { // not offset + length: it may overflow
            throw new IndexOutOfBoundsException("offset " + offset + ", length " + length + " of " + buf.length);
        }
        this.buf = buf;
        this.pos = offset;
        this.limit = offset + length;
    }

    /** The next tag, or 0 at the end of the message. */
    public int readTag() throws InvalidProtoException {
        if (pos == limit) {
            return 0;
        }
        int tag = (int) varint64();
        if ((tag >>> 3) == 0) {
            throw new InvalidProtoException("invalid tag " + tag + " (field number 0)");
        }
        return tag;
    }

    public int int32() throws InvalidProtoException { return (int) varint64(); }
    public int uint32() throws InvalidProtoException { return (int) varint64(); }
    public int sint32() throws InvalidProtoException { int v = (int) varint64(); return (v >>> 1) ^ -(v & 1); }
    public long int64() throws InvalidProtoException { return varint64(); }
    public long uint64() throws InvalidProtoException { return varint64(); }
    public long sint64() throws InvalidProtoException { long v = varint64(); return (v >>> 1) ^ -(v & 1); }
    public boolean bool() throws InvalidProtoException { return varint64() != 0; }
    public int enumValue() throws InvalidProtoException { return (int) varint64(); }
    public int fixed32() throws InvalidProtoException { need(4); int v = le32(pos); pos += 4; return v; }
    public int sfixed32() throws InvalidProtoException { return fixed32(); }
    public long fixed64() throws InvalidProtoException {
        need(8);
        long v = (le32(pos) & 0xFFFFFFFFL) | ((long) le32(pos + 4) << 32);
        pos += 8;
        return v;
    }
    public long sfixed64() throws InvalidProtoException { return fixed64(); }
    public float floatValue() throws InvalidProtoException { return Float.intBitsToFloat(fixed32()); }
    public double doubleValue() throws InvalidProtoException { return Double.longBitsToDouble(fixed64()); }

    /** A string field: proto3 requires valid UTF-8, and protobuf-java and Go reject anything else. */
    public String string() throws InvalidProtoException {
        int n = length();
        if (!validUtf8(buf, pos, pos + n)) {
            throw new InvalidProtoException("string field is not valid UTF-8");
        }
        String s = new String(buf, pos, n, StandardCharsets.UTF_8);
        pos += n;
        return s;
    }

    public Bytes bytes() throws InvalidProtoException {
        int n = length();
        Bytes b = Bytes.copyFrom(buf, pos, n);
        pos += n;
        return b;
    }

    public <T extends ProtoMessage> T message(ProtoParser<T> parser) throws InvalidProtoException {
        int n = length();
        if (++depth > MAX_DEPTH) {
            throw new InvalidProtoException("message nested deeper than " + MAX_DEPTH);
        }
        int outer = limit;
        limit = pos + n;
        T m = parser.read(this);
        if (pos != limit) {
            throw new InvalidProtoException("embedded message ended early");
        }
        limit = outer;
        depth--;
        return m;
    }

    /** One entry of a {@code map<string, string>} into the map (a later entry for a key replaces an earlier). */
    public void stringMapEntry(Map<String, String> into) throws InvalidProtoException {
        int n = length();
        int outer = limit;
        limit = pos + n;
        String key = "", value = "";
        for (int tag; (tag = readTag()) != 0; ) {
            switch (tag) {
                case 10 -> key = string();
                case 18 -> value = string();
                default -> skip(tag);
            }
        }
        limit = outer;
        into.put(key, value);
    }

    /** A packed run of varints (a repeated int64/uint64) appended to the list. */
    public void packedVarint64(List<Long> into) throws InvalidProtoException {
        int n = length();
        int end = pos + n;
        while (pos < end) {
            into.add(varint64Within(end));
        }
    }

    /** A packed run of varints (a repeated int32/uint32/enum) appended to the list. */
    public void packedVarint32(List<Integer> into) throws InvalidProtoException {
        int n = length();
        int end = pos + n;
        while (pos < end) {
            into.add((int) varint64Within(end));
        }
    }

    /** Skips the field this tag introduced. */
    public void skip(int tag) throws InvalidProtoException {
        switch (tag & 7) {
            case 0 -> varint64();
            case 1 -> { need(8); pos += 8; }
            case 2 -> { int n = length(); pos += n; }
            case 5 -> { need(4); pos += 4; }
            case 3 -> skipGroup(tag >>> 3);
            default -> throw new InvalidProtoException("invalid wire type " + (tag & 7) + " (field " + (tag >>> 3) + ")");
        }
    }

    private void skipGroup(int field) throws InvalidProtoException {
        if (++depth > MAX_DEPTH) {
            throw new InvalidProtoException("group nested deeper than " + MAX_DEPTH);
        }
        for (int tag; ; ) {
            tag = readTag();
            if (tag == 0) {
                throw new InvalidProtoException("group of field " + field + " not ended");
            }
            if ((tag & 7) == 4) {
                if ((tag >>> 3) != field) {
                    throw new InvalidProtoException("group of field " + field + " ended by field " + (tag >>> 3));
                }
                depth--;
                return;
            }
            skip(tag);
        }
    }

    private int length() throws InvalidProtoException {
        long n = varint64();
        if (n < 0 || n > limit - pos) {
            throw new InvalidProtoException("length " + n + " beyond the end of the message");
        }
        return (int) n;
    }

    private void need(int n) throws InvalidProtoException {
        if (limit - pos < n) {
            throw new InvalidProtoException("truncated message");
        }
    }

    private long varint64() throws InvalidProtoException {
        return varint64Within(limit);
    }

    private long varint64Within(int end) throws InvalidProtoException {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= end) {
                throw new InvalidProtoException("truncated message");
            }
            byte b = buf[pos++];
            v |= (long) (b & 0x7F) << shift;
            if (b >= 0) {
                return v;
            }
        }
        throw new InvalidProtoException("malformed varint");
    }

    private int le32(int at) {
        return (buf[at] & 0xFF) | (buf[at + 1] & 0xFF) << 8 | (buf[at + 2] & 0xFF) << 16 | (buf[at + 3] & 0xFF) << 24;
    }

    static boolean validUtf8(byte[] b, int from, int to) {
        int i = from;
        while (i < to) {
            int c = b[i] & 0xFF;
            if (c < 0x80) {
                i++;
                continue;
            }
            int n;
            int min;
            if (c >= 0xC2 && c <= 0xDF) { n = 1; min = 0x80; }
            else if (c >= 0xE0 && c <= 0xEF) { n = 2; min = 0x800; }
            else if (c >= 0xF0 && c <= 0xF4) { n = 3; min = 0x10000; }
            else return false;
            if (i + n >= to) return false; // the sequence runs past the end
            int cp = c & (0x3F >> n);
            for (int k = 1; k <= n; k++) {
                int cc = b[i + k] & 0xFF;
                if ((cc & 0xC0) != 0x80) return false;
                cp = (cp << 6) | (cc & 0x3F);
            }
            if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
            i += n + 1;
        }
        return true;
    }
}
