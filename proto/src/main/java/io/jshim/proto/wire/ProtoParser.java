package io.jshim.proto.wire;

/** Decodes one message type; every generated message has one ({@code M.parser()}). */
@FunctionalInterface
public interface ProtoParser<T extends ProtoMessage> {

    /** Reads the fields up to the reader's limit. */
    T read(ProtoReader in) throws InvalidProtoException;

    default T parseFrom(byte[] bytes) throws InvalidProtoException {
        return parseFrom(bytes, 0, bytes.length);
    }

    default T parseFrom(byte[] bytes, int offset, int length) throws InvalidProtoException {
        return read(new ProtoReader(bytes, offset, length));
    }

    default T parseFrom(Bytes bytes) throws InvalidProtoException {
        return parseFrom(bytes.array(), 0, bytes.size());
    }
}
