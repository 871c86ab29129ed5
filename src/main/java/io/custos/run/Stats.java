package io.custos.run;

import java.util.LinkedHashMap;
import java.util.Map;

/** Integer counters of a run, in a stable order ({@code stats} in the JSON output). */
public final class Stats {
    /** The counters of scan, verify and repair (SPEC §2). */
    public static final String[] SCAN = {
        "files_scanned",
        "files_new",
        "files_unchanged",
        "files_touched",
        "files_modified",
        "files_moved",
        "files_deleted",
        "files_truncated",
        "files_busy",
        "files_verified",
        "files_damaged",
        "files_repaired",
        "parity_created",
        "parity_recreated",
        "parity_trashed",
        "parity_restored",
        "orphan_parity_cleaned",
        "bytes_hashed",
        "errors"
    };

    /** The counters of zip. */
    public static final String[] ZIP = {
        "folders_found",
        "folders_zipped",
        "folders_unchanged",
        "folders_failed",
        "files_zipped",
        "bytes_zipped",
        "errors"
    };

    private final Map<String, Long> values = new LinkedHashMap<>();

    public Stats(String... names) {
        for (String n : names) {
            values.put(n, 0L);
        }
    }

    public synchronized void add(String name, long n) {
        values.merge(name, n, Long::sum);
    }

    public void inc(String name) {
        add(name, 1);
    }

    public synchronized long get(String name) {
        return values.getOrDefault(name, 0L);
    }

    public synchronized Map<String, Long> asMap() {
        return new LinkedHashMap<>(values);
    }
}
