package io.jshim.events;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.jshim.proto.eventsvc.Envelope;
import java.time.Instant;

/**
 * An event waiting for delivery to containerd: its place in the one order, its topic, and its envelope exactly as
 * containerd gets it, serialized once when the event was published. The forwarder sends these bytes as they are:
 * decoding them into an {@link Event} only to serialize it again cost each event a protobuf parse and two
 * serializations, run interpreted by a young shim.
 */
public record Queued(long sequence, String topic, ByteString envelope) {

    /** The event as it was published, decoded afresh (for tests and diagnostics). */
    public Event event() {
        try {
            Envelope env = Envelope.parseFrom(envelope);
            return new Event(sequence, Instant.ofEpochSecond(env.getTimestamp().getSeconds(), env.getTimestamp().getNanos()),
                    env.getNamespace(), env.getTopic(), Topics.unpack(env.getEvent()));
        } catch (InvalidProtocolBufferException impossible) {
            throw new IllegalStateException("event seq=" + sequence + " unreadable in the backlog", impossible);
        }
    }

    /** The container the event names ({@code container_id}), "" if none; decodes the envelope (diagnostics only). */
    public String containerId() {
        try {
            com.google.protobuf.Message m = event().message();
            com.google.protobuf.Descriptors.FieldDescriptor f = m.getDescriptorForType().findFieldByName("container_id");
            return f == null ? "" : String.valueOf(m.getField(f));
        } catch (RuntimeException e) {
            return "";
        }
    }
}
