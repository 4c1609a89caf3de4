package io.jshim.proto.wire;

/**
 * One set field of a message: its proto name and its value: {@code String}, {@code Boolean}, {@code Integer} or
 * {@code Long} (with {@code unsigned} for uint32/uint64/fixed), {@code Float}, {@code Double}, {@link Bytes}, an
 * enum's constant ({@link ProtoEnum}), a {@link ProtoMessage}, a {@code java.util.List} of these (repeated), or a
 * {@code java.util.Map<String, String>} (map fields).
 */
@FunctionalInterface
public interface FieldVisitor {
    void field(String protoName, Object value, boolean unsigned);
}
