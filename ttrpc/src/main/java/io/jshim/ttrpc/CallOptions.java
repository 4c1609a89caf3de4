package io.jshim.ttrpc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Per-call options for {@link TtrpcClient#call}.
 *
 * @param timeout  how long the caller waits; sent as timeout_nano and enforced locally (the call
 *                 fails with DEADLINE_EXCEEDED, a late answer is dropped). Null: no deadline.
 * @param metadata key/value pairs sent in order; a key may repeat. Keys are expected lowercase.
 */
public record CallOptions(Duration timeout, List<Map.Entry<String, String>> metadata) {
    public static final CallOptions DEFAULT = new CallOptions(null, List.of());

    public CallOptions {
        metadata = metadata == null ? List.of() : List.copyOf(metadata);
    }

    public static CallOptions withTimeout(Duration timeout) {
        return new CallOptions(timeout, List.of());
    }

    /** A copy with another timeout. */
    public CallOptions timeout(Duration newTimeout) {
        return new CallOptions(newTimeout, metadata);
    }

    /** A copy with one more metadata pair appended. */
    public CallOptions withMetadata(String key, String value) {
        List<Map.Entry<String, String>> more = new ArrayList<>(metadata.size() + 1);
        more.addAll(metadata);
        more.add(Map.entry(key, value));
        return new CallOptions(timeout, more);
    }
}
