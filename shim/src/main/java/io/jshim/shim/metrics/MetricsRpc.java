package io.jshim.shim.metrics;

import io.jshim.proto.wire.Bytes;
import io.jshim.proto.wire.InvalidProtoException;
import io.jshim.proto.metrics.GetRequest;
import io.jshim.proto.metrics.GetResponse;
import io.jshim.ttrpc.Code;
import io.jshim.ttrpc.TtrpcException;

/** {@code jshim.metrics.v1.Metrics/Get} over ttrpc: the daemon's metrics as Prometheus text. */
public final class MetricsRpc {
    public static final String SERVICE = "jshim.metrics.v1.Metrics";
    public static final String GET = "Get";

    private MetricsRpc() {}

    public static Bytes get(DaemonMetrics metrics, Bytes payload) throws TtrpcException {
        try {
            GetRequest.parseFrom(payload);
        } catch (InvalidProtoException e) {
            throw new TtrpcException(Code.INVALID_ARGUMENT, "metrics: bad GetRequest: " + e.getMessage(), e);
        }
        return GetResponse.newBuilder().setText(metrics.text()).build().toByteString();
    }
}
