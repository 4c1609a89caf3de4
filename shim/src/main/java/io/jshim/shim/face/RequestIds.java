package io.jshim.shim.face;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;

/** "[container exec]" of a Task request, for log lines that follow one container's story. */
final class RequestIds {
    private RequestIds() {}

    static String of(Message request) {
        return "[" + field(request, "id") + (field(request, "exec_id").isEmpty() ? "" : " " + field(request, "exec_id"))
                + "]";
    }

    private static String field(Message m, String name) {
        FieldDescriptor f = m.getDescriptorForType().findFieldByName(name);
        return f == null ? "" : String.valueOf(m.getField(f));
    }
}
