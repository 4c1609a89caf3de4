package io.jshim.shim.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.util.JsonFormat;
import io.jshim.proto.events.TaskCreate;
import io.jshim.proto.stream.StreamedEvent;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/** One event as one readable line: {@code seq time topic namespace {json}}. */
public final class EventText {
    private static final Map<String, Descriptor> TYPES = new HashMap<>();

    static {
        for (Descriptor d : TaskCreate.getDescriptor().getFile().getMessageTypes()) {
            TYPES.put(d.getFullName(), d);
        }
    }

    private EventText() {}

    public static String line(StreamedEvent e) {
        Instant at = Instant.ofEpochSecond(e.getTimestamp().getSeconds(), e.getTimestamp().getNanos());
        return e.getSequence() + " " + at + " " + e.getTopic() + " " + e.getNamespace() + " " + body(e.getEvent());
    }

    /** The event as compact JSON (proto field names), or its type and size when the type is not a task event. */
    static String body(Any any) {
        String url = any.getTypeUrl();
        Descriptor d = TYPES.get(url.substring(url.lastIndexOf('/') + 1));
        if (d == null) {
            return "{\"@type\":\"" + url + "\",\"bytes\":" + any.getValue().size() + "}";
        }
        try {
            return JsonFormat.printer().omittingInsignificantWhitespace().preservingProtoFieldNames()
                    .print(DynamicMessage.parseFrom(d, any.getValue()));
        } catch (InvalidProtocolBufferException e) {
            return "{\"@type\":\"" + url + "\",\"error\":\"" + e.getMessage().replace("\"", "'") + "\"}";
        }
    }
}
