package io.custos.catalog;

import java.util.Locale;

/**
 * Change events recorded per file (SPEC §3), plus {@code large_change} per root and {@code linked}
 * (a duplicate path replaced by a hardlink of the kept copy).
 */
public enum EventType {
    ADDED,
    MODIFIED,
    TOUCHED,
    MOVED,
    DELETED,
    TRUNCATED,
    BUSY,
    VERIFIED,
    DAMAGED,
    REPAIRED,
    REPAIR_FAILED,
    PARITY_CREATED,
    PARITY_RECREATED,
    PARITY_TRASHED,
    PARITY_RESTORED,
    LINKED,
    LARGE_CHANGE;

    public String sql() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static EventType of(String s) {
        return valueOf(s.toUpperCase(Locale.ROOT));
    }
}
