package io.jshim.shim.runc;

/** runc failed; the message is runc's own last error (from its JSON log), else its stderr. */
public final class RuncException extends Exception {
    private final int exitStatus;

    public RuncException(String message, int exitStatus) {
        super(message);
        this.exitStatus = exitStatus;
    }

    public int exitStatus() {
        return exitStatus;
    }

    /** runc says the container or process is gone, in any of the ways it phrases that. */
    public boolean isNotRunning() {
        String m = getMessage().toLowerCase();
        return m.contains("process already finished") || m.contains("container not running")
                || m.contains("no such process") || m.contains("esrch");
    }

    public boolean isNotExist() {
        return getMessage().toLowerCase().contains("does not exist");
    }
}
