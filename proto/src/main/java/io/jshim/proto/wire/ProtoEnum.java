package io.jshim.proto.wire;

/** A generated protobuf enum: its number on the wire; {@code UNRECOGNIZED} (-1) for numbers this build does not know. */
public interface ProtoEnum {
    int getNumber();
}
