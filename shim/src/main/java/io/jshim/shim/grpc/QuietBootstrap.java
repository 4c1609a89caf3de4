package io.jshim.shim.grpc;

import org.slf4j.LoggerFactory;

/**
 * grpc-java sets SO_KEEPALIVE on every connection, which a unix socket does not have: Netty's bootstraps then warn
 * on each connection. Those two loggers are raised to ERROR (when logback is the backend) so the shim's log keeps
 * only what matters.
 */
final class QuietBootstrap {
    private QuietBootstrap() {}

    static void apply() {
        for (String name : new String[] {"io.netty.bootstrap.ServerBootstrap", "io.netty.bootstrap.Bootstrap"}) {
            if (LoggerFactory.getLogger(name) instanceof ch.qos.logback.classic.Logger logback) {
                logback.setLevel(ch.qos.logback.classic.Level.ERROR);
            }
        }
    }
}
