package io.custos.run;

/** The one exit-code table (SPEC §2). Every command uses it; {@code --help} prints it. */
public enum ExitCode {
    OK(0, "success, nothing wrong"),
    PROBLEMS(1, "finished, but found problems (damaged or truncated files, unreadable files, failed actions)"),
    USAGE(2, "usage or configuration error; nothing was done"),
    LOCKED(3, "another custos run holds the lock; nothing was done"),
    GUARD(4, "a safety guard held back destructive work; the rest was done"),
    ENVIRONMENT(5, "environment error (required tool missing, parity root not writable, catalog unreadable)"),
    INTERRUPTED(130, "interrupted (SIGINT/SIGTERM); the catalog is consistent and the next run resumes");

    private final int code;
    private final String meaning;

    ExitCode(int code, String meaning) {
        this.code = code;
        this.meaning = meaning;
    }

    public int code() {
        return code;
    }

    public String meaning() {
        return meaning;
    }

    /** The more serious of two outcomes: interrupted, then usage/lock/environment, then guard, then problems. */
    public ExitCode worst(ExitCode other) {
        return rank() >= other.rank() ? this : other;
    }

    private int rank() {
        return switch (this) {
            case OK -> 0;
            case PROBLEMS -> 1;
            case GUARD -> 2;
            case USAGE, LOCKED, ENVIRONMENT -> 3;
            case INTERRUPTED -> 4;
        };
    }

    /** The table as text, for {@code --help}. */
    public static String table() {
        StringBuilder sb = new StringBuilder();
        for (ExitCode c : values()) {
            sb.append(String.format("  %3d  %s%n", c.code, c.meaning));
        }
        return sb.toString();
    }
}
