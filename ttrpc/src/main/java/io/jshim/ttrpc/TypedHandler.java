package io.jshim.ttrpc;

import com.google.protobuf.Message;

/** A {@link UnaryHandler} on parsed messages; see {@code TtrpcServer.Builder.register}. */
@FunctionalInterface
public interface TypedHandler<Req extends Message, Resp extends Message> {
    Resp handle(CallContext ctx, Req request) throws TtrpcException;
}
