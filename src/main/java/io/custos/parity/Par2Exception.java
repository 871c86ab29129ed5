package io.custos.parity;

/**
 * par2 failed, timed out or was cancelled. The message says how, with par2's last line of output;
 * the fields let a caller tell a timeout or a cancel from a failure.
 */
public final class Par2Exception extends Exception {
    private static final long serialVersionUID = 1L;
    private final int exitCode;
    private final boolean timedOut;
    private final boolean cancelled;

    public Par2Exception(String message, int exitCode, boolean timedOut, boolean cancelled, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
        this.timedOut = timedOut;
        this.cancelled = cancelled;
    }

    /** par2's exit code; -1 when it did not exit by itself or never ran. */
    public int exitCode() {
        return exitCode;
    }

    public boolean timedOut() {
        return timedOut;
    }

    public boolean cancelled() {
        return cancelled;
    }
}
