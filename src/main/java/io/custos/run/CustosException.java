package io.custos.run;

/**
 * The one error a user sees: a message and an exit code, printed without a stack trace (unless
 * {@code --stacktrace}). A subclass only lets a caller tell one cause from another by type (a
 * qBittorrent that cannot be reached) instead of by wording.
 */
public class CustosException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final ExitCode exitCode;

    public CustosException(ExitCode exitCode, String message) {
        super(message);
        this.exitCode = exitCode;
    }

    public CustosException(ExitCode exitCode, String message, Throwable cause) {
        super(message, cause);
        this.exitCode = exitCode;
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    public static CustosException usage(String message) {
        return new CustosException(ExitCode.USAGE, message);
    }

    public static CustosException environment(String message, Throwable cause) {
        return new CustosException(ExitCode.ENVIRONMENT, message, cause);
    }
}
