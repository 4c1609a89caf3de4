package io.jshim.shim.grpc;

import io.jshim.events.Topics;
import io.jshim.proto.stream.StreamedEvent;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.wire.ProtoJson;
import io.jshim.proto.wkt.Any;
import java.time.Instant;

/** One event as one readable line: {@code seq time topic namespace {json}}. */
public final class EventText {

    private EventText() {}

    public static String line(StreamedEvent e) {
        Instant at = Instant.ofEpochSecond(e.getTimestamp().getSeconds(), e.getTimestamp().getNanos());
        return e.getSequence() + " " + at + " " + e.getTopic() + " " + e.getNamespace() + " " + body(e.getEvent());
    }

    /** The event as compact JSON (proto field names), or its type and size when the type is not a task event. */
    static String body(Any any) {
        String url = any.getTypeUrl();
        String type = url.substring(url.lastIndexOf('/') + 1);
        if (!Topics.isTaskEvent(type)) {
            return "{\"@type\":\"" + url + "\",\"bytes\":" + any.getValue().size() + "}";
        }
        try {
            return ProtoJson.print(Topics.unpack(any.toBuilder().setTypeUrl(type).build()));
        } catch (InvalidProtoException e) {
            return "{\"@type\":\"" + url + "\",\"error\":\"" + e.getMessage().replace("\"", "'") + "\"}";
        }
    }
}
