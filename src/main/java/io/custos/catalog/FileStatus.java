package io.custos.catalog;

import java.util.Locale;

/** The state of a cataloged file (SPEC §3). */
public enum FileStatus {
    OK,
    DAMAGED,
    TRUNCATED,
    DELETED;

    public String sql() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static FileStatus of(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
