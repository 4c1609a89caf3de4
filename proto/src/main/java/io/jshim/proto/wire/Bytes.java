package io.jshim.proto.wire;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** An immutable byte string: a bytes field's value. */
public final class Bytes {

    public static final Bytes EMPTY = new Bytes(new byte[0]);

    private final byte[] bytes; // never written after construction, never handed out

    private Bytes(byte[] bytes) {
        this.bytes = bytes;
    }

    public static Bytes copyFrom(byte[] bytes) {
        return copyFrom(bytes, 0, bytes.length);
    }

    public static Bytes copyFrom(byte[] bytes, int offset, int length) {
        return length == 0 ? EMPTY : new Bytes(Arrays.copyOfRange(bytes, offset, offset + length));
    }

    public static Bytes copyFromUtf8(String text) {
        return wrap(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Takes the array without a copy: the caller must never write it again. */
    public static Bytes wrap(byte[] bytes) {
        return bytes.length == 0 ? EMPTY : new Bytes(bytes);
    }

    public int size() {
        return bytes.length;
    }

    public boolean isEmpty() {
        return bytes.length == 0;
    }

    public byte byteAt(int index) {
        return bytes[index];
    }

    public byte[] toByteArray() {
        return bytes.clone();
    }

    public String toStringUtf8() {
        return new String(bytes, StandardCharsets.UTF_8);
    }

    /** The array itself, for this package's encoder and decoder only. */
    byte[] array() {
        return bytes;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Bytes b && Arrays.equals(bytes, b.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    @Override
    public String toString() {
        return "Bytes[size=" + bytes.length + "]";
    }
}
