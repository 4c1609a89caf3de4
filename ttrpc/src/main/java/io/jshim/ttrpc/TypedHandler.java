package io.jshim.ttrpc;

import io.jshim.proto.wire.ProtoMessage;

/** A {@link UnaryHandler} on parsed messages; see {@code TtrpcServer.Builder.register}. */
@FunctionalInterface
public interface TypedHandler<Req extends ProtoMessage, Resp extends ProtoMessage> {
    Resp handle(CallContext ctx, Req request) throws TtrpcException;
}
