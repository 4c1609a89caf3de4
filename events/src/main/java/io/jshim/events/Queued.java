package io.jshim.events;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.eventsvc.Envelope;
import java.time.Instant;

/**
 * An event waiting for delivery to containerd: its place in the one order, its topic, and its envelope exactly as
 * containerd gets it, serialized once when the event was published. The forwarder sends these bytes as they are:
 * decoding them into an {@link Event} only to serialize it again cost each event a protobuf parse and two
 * serializations, run interpreted by a young shim.
 */
public record Queued(long sequence, String topic, Bytes envelope) {

    /** The event as it was published, decoded afresh (for tests and diagnostics). */
    public Event event() {
        try {
            Envelope env = Envelope.parseFrom(envelope);
            return new Event(sequence, Instant.ofEpochSecond(env.getTimestamp().getSeconds(), env.getTimestamp().getNanos()),
                    env.getNamespace(), env.getTopic(), Topics.unpack(env.getEvent()));
        } catch (InvalidProtoException impossible) {
            throw new IllegalStateException("event seq=" + sequence + " unreadable in the backlog", impossible);
        }
    }

    /** The container the event names ({@code container_id}), "" if none; decodes the envelope (diagnostics only). */
    public String containerId() {
        try {
            io.jshim.proto.wire.ProtoMessage m = event().message();
            String id = m.stringField("container_id");
            return id == null ? "" : id;
        } catch (RuntimeException e) {
            return "";
        }
    }
}
