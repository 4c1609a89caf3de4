package io.jshim.events;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.wire.ProtoMessage;
import io.jshim.proto.wkt.Timestamp;
import io.jshim.proto.eventsvc.Envelope;
import java.time.Instant;

/**
 * One published event: its place in the shim's single order ({@code sequence}, from 1), when it was
 * published, and the message. Type URLs carry no {@code type.googleapis.com/} prefix, as containerd's
 * typeurl registry names them.
 */
public record Event(long sequence, Instant timestamp, String namespace, String topic, ProtoMessage message) {

    public Any payload() {
        return Any.newBuilder()
                .setTypeUrl(Topics.typeUrl(message))
                .setValue(message.toByteString())
                .build();
    }

    public Envelope envelope() {
        return Envelope.newBuilder()
                .setTimestamp(toTimestamp(timestamp))
                .setNamespace(namespace)
                .setTopic(topic)
                .setEvent(payload())
                .build();
    }

    public static Timestamp toTimestamp(Instant at) {
        return Timestamp.newBuilder().setSeconds(at.getEpochSecond()).setNanos(at.getNano()).build();
    }
}
