package io.jshim.proto.wire;

/** A generated message's builder, as far as JSON reading needs it: scalar fields set by proto name. */
public interface ProtoBuilder<T extends ProtoMessage> {

    /**
     * Sets the scalar field with this proto name from a JSON value ({@code String}, {@code Boolean} or
     * {@code Number}); false when the message has no such scalar field.
     *
     * @throws IllegalArgumentException when the value does not fit the field's type
     */
    boolean setField(String protoName, Object value);

    T build();
}
