package io.custos.archive;

/**
 * A {@code zfs} command failed, timed out or was cancelled, or answered something custos cannot
 * read. The message names the command and carries zfs's own last line of output.
 */
public final class ZfsException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int exitCode;
    private final boolean timedOut;
    private final boolean cancelled;

    public ZfsException(String message, int exitCode, boolean timedOut, boolean cancelled, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
        this.timedOut = timedOut;
        this.cancelled = cancelled;
    }

    public ZfsException(String message) {
        this(message, -1, false, false, null);
    }

    /** zfs's exit code; -1 when it did not exit by itself, never ran, or its output was the problem. */
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
