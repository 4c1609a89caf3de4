package io.jshim.ttrpc;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Set once when a call's connection goes away (or the server is closed). */
final class Cancellation {
    private static final Logger log = LoggerFactory.getLogger(Cancellation.class);

    private volatile boolean cancelled;
    /** Guarded by {@code this}; null once cancelled (callbacks have been taken to run). */
    private List<Runnable> callbacks = new ArrayList<>(0);

    boolean isCancelled() {
        return cancelled;
    }

    void onCancel(Runnable callback) {
        synchronized (this) {
            if (callbacks != null) {
                callbacks.add(callback);
                return;
            }
        }
        run(callback);
    }

    void cancel() {
        List<Runnable> toRun;
        synchronized (this) {
            if (callbacks == null) {
                return;
            }
            cancelled = true;
            toRun = callbacks;
            callbacks = null;
        }
        toRun.forEach(Cancellation::run);
    }

    private static void run(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            log.warn("cancellation callback failed", e);
        }
    }
}
