package io.jshim.shim.process;

import io.jshim.shim.ShimException;
import io.jshim.proto.json.Json;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The OCI process spec of an exec as runc must get it. A client commonly takes the container's process spec for
 * an exec and sets only the request's {@code terminal}; runc refuses a console socket with {@code terminal: false}
 * ("cannot use console socket if runc will not detach or allocate tty") and wants one with {@code terminal: true}.
 * So the spec's {@code terminal} is set from the request, as containerd's runc shim does ({@code spec.Terminal =
 * r.Terminal} in pkg/process/init.go's exec).
 */
public final class ExecSpec {
    private ExecSpec() {}

    /** {@code processJson} with its {@code terminal} set to {@code terminal}; InvalidArgument unless a JSON object. */
    public static byte[] withTerminal(byte[] processJson, boolean terminal) {
        Object spec;
        try {
            spec = Json.parse(new String(processJson, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw ShimException.invalidArgument("exec process spec: " + e.getMessage());
        }
        if (!(spec instanceof Map<?, ?>)) {
            throw ShimException.invalidArgument("exec process spec: a JSON object expected");
        }
        if (Boolean.valueOf(terminal).equals(Json.object(spec).get("terminal"))) {
            return processJson; // already right: handed to runc byte for byte
        }
        Map<String, Object> process = new LinkedHashMap<>(Json.object(spec));
        process.put("terminal", terminal);
        return Json.write(process).getBytes(StandardCharsets.UTF_8);
    }
}
