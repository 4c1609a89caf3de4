package io.jshim.shim.face;

import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.wire.ProtoParser;

/**
 * One method of the Task API, whatever the protocol: its name, its request and response types (prototypes, for
 * parsers and marshallers) and the call into the Task service. {@code namespace} is what the caller's metadata
 * said (null if nothing); the service falls back to the shim's own. {@code neverBlocks}: the call only reads or
 * updates the service's memory under short locks (no runc, no waiting, no disk), so a face may run it where it
 * must not block (ttrpc: on the event loop).
 */
public record TaskMethod<Req extends ProtoMessage, Resp extends ProtoMessage>(String name, Req requestPrototype,
        Resp responsePrototype, Call<Req, Resp> call, boolean neverBlocks) {

    public TaskMethod(String name, Req requestPrototype, Resp responsePrototype, Call<Req, Resp> call) {
        this(name, requestPrototype, responsePrototype, call, false);
    }

    /** The same method, declared never to block. */
    public TaskMethod<Req, Resp> neverBlocking() {
        return new TaskMethod<>(name, requestPrototype, responsePrototype, call, true);
    }

    @FunctionalInterface
    public interface Call<Req, Resp> {
        /** Throws {@link io.jshim.shim.ShimException} for an answer with a status code. */
        Resp apply(String namespace, Req request);
    }

    @SuppressWarnings("unchecked")
    public ProtoParser<Req> parser() {
        return (ProtoParser<Req>) requestPrototype.getParserForType();
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(TaskMethod.class);

    /**
     * Calls the service with the same debug log lines on every face. State, which containerd and ctr ask several
     * times around every other call, is logged at trace: at debug its lines drowned a container's story, and each
     * line is a write to the log fifo that containerd reads and logs again.
     */
    public Resp invoke(String namespace, Req request) {
        boolean quiet = "State".equals(name);
        String who = (quiet ? log.isTraceEnabled() : log.isDebugEnabled()) ? RequestIds.of(request) : null;
        if (who != null) {
            if (quiet) {
                log.trace("{} {}", who, name);
            } else {
                log.debug("{} {}", who, name);
            }
        }
        try {
            return call.apply(namespace, request);
        } catch (io.jshim.shim.ShimException e) {
            log.debug("{} {}: {} {}", RequestIds.of(request), name, e.code(), e.getMessage());
            throw e;
        }
    }
}
