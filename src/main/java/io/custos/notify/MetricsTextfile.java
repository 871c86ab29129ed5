package io.custos.notify;

import io.custos.catalog.Catalog;
import io.custos.catalog.FileStatus;
import io.custos.catalog.FileTable;
import io.custos.catalog.RootRow;
import io.custos.catalog.RunRow;
import io.custos.config.Config;
import io.custos.fs.AtomicFiles;
import io.custos.fs.RawPaths;
import io.custos.run.Log;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * {@code metrics.textfile}: what the catalog says, in the Prometheus text exposition format, for
 * node_exporter's textfile collector. Rewritten atomically after every run (readers see the old
 * file or the new one, never half of one). The metrics are described in {@code
 * docs/logs-and-metrics.md}.
 */
public final class MetricsTextfile {
    private MetricsTextfile() {}

    /**
     * After a run, with its catalog still open: writes {@code metrics.textfile} when configured. A
     * failure is logged as a warning and never changes the run's outcome.
     */
    public static void afterRun(Config config, Catalog catalog, long nowMillis, Log log) {
        if (config.metrics() == null || config.metrics().textfile() == null) {
            return;
        }
        Path file = RawPaths.path(config.metrics().textfile());
        try {
            write(file, catalog, nowMillis);
        } catch (IOException | RuntimeException e) {
            log.warn("cannot write the metrics file %s: %s", file, e.getMessage());
        }
    }

    /** Replaces {@code file} atomically with the metrics of {@code catalog} at {@code nowMillis}. */
    public static void write(Path file, Catalog catalog, long nowMillis) throws IOException {
        // Not fsynced: the next run writes it again, and the catalog is the record.
        AtomicFiles.write(file, render(catalog, nowMillis).getBytes(StandardCharsets.UTF_8), false);
    }

    /** The metrics as exposition text, ending with a newline. */
    public static String render(Catalog catalog, long nowMillis) {
        Text t = new Text();
        runs(t, catalog);
        roots(t, catalog, nowMillis);
        parity(t, catalog);
        t.family(
                "custos_metrics_written_timestamp_seconds",
                "When custos wrote this file (end of its last run), seconds since the epoch.");
        t.sample(seconds(nowMillis));
        return t.toString();
    }

    private static void runs(Text t, Catalog catalog) {
        List<RunRow> latest = catalog.runs().latestPerCommand();
        t.family(
                "custos_last_run_start_timestamp_seconds",
                "Start of the latest run of the command, seconds since the epoch.");
        for (RunRow r : latest) {
            t.sample(seconds(r.startedAt()), "command", r.command());
        }
        t.family(
                "custos_last_run_finished",
                "1 when the latest run of the command recorded its end, 0 when it never did (killed, power cut).");
        for (RunRow r : latest) {
            t.sample(r.finishedAt() == null ? "0" : "1", "command", r.command());
        }
        t.family("custos_last_run_exit_code", "Exit code of the latest run of the command (when it finished).");
        for (RunRow r : latest) {
            if (r.finishedAt() != null && r.exitCode() != null) {
                t.sample(Long.toString(r.exitCode()), "command", r.command());
            }
        }
        t.family("custos_last_run_duration_seconds", "How long the latest run of the command took (when it finished).");
        for (RunRow r : latest) {
            if (r.finishedAt() != null) {
                t.sample(seconds(Math.max(0, r.finishedAt() - r.startedAt())), "command", r.command());
            }
        }
        t.family(
                "custos_last_success_timestamp_seconds",
                "End of the latest run of the command that ran to its end (exit 0, or 1: finished but found"
                        + " problems), seconds since the epoch.");
        for (RunRow r : catalog.runs().latestCompletedPerCommand()) {
            t.sample(seconds(r.finishedAt()), "command", r.command());
        }
    }

    private static void roots(Text t, Catalog catalog, long now) {
        List<RootRow> roots = catalog.roots().all();
        Map<Long, Map<FileStatus, long[]>> totals = catalog.files().totals();
        t.family("custos_files", "Cataloged files per root and status (deleted: rows kept for history).");
        for (RootRow r : roots) {
            for (FileStatus s : FileStatus.values()) {
                t.sample(Long.toString(total(totals, r, s)[0]), "root", r.name(), "status", s.sql());
            }
        }
        t.family("custos_files_bytes", "Size of the cataloged files per root and status, in bytes.");
        for (RootRow r : roots) {
            for (FileStatus s : FileStatus.values()) {
                t.sample(Long.toString(total(totals, r, s)[1]), "root", r.name(), "status", s.sql());
            }
        }
        t.family("custos_damaged_files", "Damaged or truncated files in all roots.");
        long all = 0;
        for (RootRow r : roots) {
            all += damaged(totals, r);
        }
        t.sample(Long.toString(all));
        t.family("custos_root_damaged_files", "Damaged or truncated files per root.");
        for (RootRow r : roots) {
            t.sample(Long.toString(damaged(totals, r)), "root", r.name());
        }
        List<FileTable.VerificationAges> ages = new ArrayList<>();
        for (RootRow r : roots) {
            ages.add(catalog.files().verificationAges(r.id()));
        }
        t.family("custos_never_verified_files", "Files with status ok that no verification has read yet, per root.");
        for (int i = 0; i < roots.size(); i++) {
            t.sample(
                    Long.toString(ages.get(i).neverVerified()),
                    "root",
                    roots.get(i).name());
        }
        t.family(
                "custos_verification_oldest_age_seconds",
                "Age of the oldest verification among the verified ok files of the root.");
        for (int i = 0; i < roots.size(); i++) {
            Long oldest = ages.get(i).oldest();
            if (oldest != null) {
                t.sample(
                        seconds(Math.max(0, now - oldest)), "root", roots.get(i).name());
            }
        }
        t.family(
                "custos_verification_median_age_seconds",
                "Median age of the last verification of the verified ok files of the root.");
        for (int i = 0; i < roots.size(); i++) {
            Long median = ages.get(i).median();
            if (median != null) {
                t.sample(
                        seconds(Math.max(0, now - median)), "root", roots.get(i).name());
            }
        }
        t.family(
                "custos_root_last_scan_timestamp_seconds",
                "End of the last complete scan of the root, seconds since the epoch.");
        for (RootRow r : roots) {
            if (r.lastScanAt() != null) {
                t.sample(seconds(r.lastScanAt()), "root", r.name());
            }
        }
    }

    private static long[] total(Map<Long, Map<FileStatus, long[]>> totals, RootRow r, FileStatus s) {
        return totals.getOrDefault(r.id(), Map.of()).getOrDefault(s, new long[2]);
    }

    private static long damaged(Map<Long, Map<FileStatus, long[]>> totals, RootRow r) {
        return total(totals, r, FileStatus.DAMAGED)[0] + total(totals, r, FileStatus.TRUNCATED)[0];
    }

    private static void parity(Text t, Catalog catalog) {
        long[] p = catalog.parity().totals(); // [sets, bytes] in by_hash/, then [sets, bytes] in trash
        t.family("custos_parity_sets", "Parity sets in by_hash/ (protecting live content) and in the trash.");
        t.sample(Long.toString(p[0]), "location", "by_hash");
        t.sample(Long.toString(p[2]), "location", "trash");
        t.family("custos_parity_bytes", "Size of the parity sets in by_hash/ and in the trash, in bytes.");
        t.sample(Long.toString(p[1]), "location", "by_hash");
        t.sample(Long.toString(p[3]), "location", "trash");
        t.family("custos_parity_owed_contents", "Contents of live ok files still waiting for a parity set.");
        t.sample(Long.toString(catalog.parity().owedCount()));
    }

    /** Milliseconds as seconds, exactly ("1767236400.5"), never in exponent notation. */
    static String seconds(long millis) {
        return BigDecimal.valueOf(millis, 3).stripTrailingZeros().toPlainString();
    }

    /** Exposition text: {@code # HELP} and {@code # TYPE} (all gauges) before each family's samples. */
    private static final class Text {
        private final StringBuilder sb = new StringBuilder();
        private String family;

        void family(String name, String help) {
            family = name;
            sb.append("# HELP ")
                    .append(name)
                    .append(' ')
                    .append(help.replace("\\", "\\\\").replace("\n", "\\n"))
                    .append('\n');
            sb.append("# TYPE ").append(name).append(" gauge\n");
        }

        /** A sample of the current family; {@code labels}: name, value, name, value… */
        void sample(String value, String... labels) {
            sb.append(family);
            if (labels.length > 0) {
                sb.append('{');
                for (int i = 0; i < labels.length; i += 2) {
                    if (i > 0) {
                        sb.append(',');
                    }
                    sb.append(labels[i])
                            .append("=\"")
                            .append(escape(labels[i + 1]))
                            .append('"');
                }
                sb.append('}');
            }
            sb.append(' ').append(value).append('\n');
        }

        @Override
        public String toString() {
            return sb.toString();
        }
    }

    /** Label values: backslash, double quote and line feed escaped. */
    static String escape(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
