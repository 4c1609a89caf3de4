package io.jshim.shim.grpc;

import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.wire.ProtoParser;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;

/** gRPC's marshaller for jshim's messages: their bytes, and bytes that do not parse as an INTERNAL status. */
public final class ProtoMarshaller<T extends ProtoMessage> implements MethodDescriptor.Marshaller<T> {

    private final ProtoParser<T> parser;

    private ProtoMarshaller(ProtoParser<T> parser) {
        this.parser = parser;
    }

    @SuppressWarnings("unchecked")
    public static <T extends ProtoMessage> ProtoMarshaller<T> of(T prototype) {
        return new ProtoMarshaller<>((ProtoParser<T>) prototype.getParserForType());
    }

    @Override
    public InputStream stream(T value) {
        return new ByteArrayInputStream(value.toByteArray());
    }

    @Override
    public T parse(InputStream stream) {
        try {
            return parser.parseFrom(stream.readAllBytes());
        } catch (InvalidProtoException e) {
            throw Status.INTERNAL.withDescription("Invalid protobuf byte sequence: " + e.getMessage()).withCause(e)
                    .asRuntimeException();
        } catch (IOException e) {
            throw Status.INTERNAL.withDescription("cannot read the message: " + e).withCause(e).asRuntimeException();
        }
    }
}
