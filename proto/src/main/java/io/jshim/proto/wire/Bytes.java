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

    /** Copies the buffer's remaining bytes (its position moves to its limit). */
    public static Bytes copyFrom(java.nio.ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.get(b);
        return wrap(b);
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

    public Bytes concat(Bytes other) {
        if (other.isEmpty()) return this;
        if (isEmpty()) return other;
        byte[] both = Arrays.copyOf(bytes, bytes.length + other.bytes.length);
        System.arraycopy(other.bytes, 0, both, bytes.length, other.bytes.length);
        return new Bytes(both);
    }

    public Bytes substring(int from) {
        return substring(from, bytes.length);
    }

    public Bytes substring(int from, int to) {
        return copyFrom(bytes, from, to - from);
    }

    public java.nio.ByteBuffer asReadOnlyByteBuffer() {
        return java.nio.ByteBuffer.wrap(bytes).asReadOnlyBuffer();
    }

    /** Copies every byte into the target at the offset. */
    public void copyTo(byte[] target, int offset) {
        System.arraycopy(bytes, 0, target, offset, bytes.length);
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
