package io.jshim.shim.runc;

import io.jshim.proto.wkt.Any;
import io.jshim.proto.runc.Options;
import io.jshim.proto.runc.legacy.CreateOptions;
import io.jshim.proto.runc.legacy.RuncOptions;
import java.io.IOException;

/**
 * The runtime options the shim honours, from whichever type containerd sent: {@code containerd.runc.v1.Options},
 * the legacy {@code containerd.linux.runc.CreateOptions} (containerd's Go client sends it to any runtime not
 * named {@code io.containerd.runc.*}), {@code containerd.linux.runc.RuncOptions}, or CRI's
 * {@code runtimeoptions.v1.Options} (a CRI handler's {@code options} table, see {@link CriRuntimeOptions}). Always held as the v1 message,
 * which is also what {@code options.json} records.
 */
public final class RuncOptionsParser {
    public static final String V1 = "containerd.runc.v1.Options";
    public static final String LEGACY_CREATE = "containerd.linux.runc.CreateOptions";
    public static final String LEGACY_RUNC = "containerd.linux.runc.RuncOptions";

    private RuncOptionsParser() {}

    /** Empty options for an absent Any; IllegalArgumentException for an unknown type or bytes that do not parse. */
    public static Options parse(Any any) {
        if (any == null || (any.getTypeUrl().isEmpty() && any.getValue().isEmpty())) {
            return Options.getDefaultInstance();
        }
        String type = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
        try {
            return switch (type) {
                case V1 -> Options.parseFrom(any.getValue());
                case LEGACY_CREATE -> fromLegacy(CreateOptions.parseFrom(any.getValue()));
                case LEGACY_RUNC -> fromLegacy(RuncOptions.parseFrom(any.getValue()));
                case CriRuntimeOptions.TYPE -> CriRuntimeOptions.parse(any.getValue());
                default -> throw new IllegalArgumentException("unsupported runtime options type " + any.getTypeUrl());
            };
        } catch (IOException e) { // InvalidProtoException: the bytes do not parse
            throw new IllegalArgumentException("malformed runtime options " + type + ": " + e.getMessage(), e);
        }
    }

    static Options fromLegacy(CreateOptions o) {
        return Options.newBuilder()
                .setNoPivotRoot(o.getNoPivotRoot())
                .setNoNewKeyring(o.getNoNewKeyring())
                .setShimCgroup(o.getShimCgroup())
                .setIoUid(o.getIoUid())
                .setIoGid(o.getIoGid())
                .setCriuWorkPath(o.getCriuWorkPath())
                .setCriuImagePath(o.getCriuImagePath())
                .build();
    }

    static Options fromLegacy(RuncOptions o) {
        return Options.newBuilder()
                .setBinaryName(o.getRuntime())
                .setRoot(o.getRuntimeRoot())
                .setCriuPath(o.getCriuPath())
                .setSystemdCgroup(o.getSystemdCgroup())
                .build();
    }
}
