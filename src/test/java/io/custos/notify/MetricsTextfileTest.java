package io.custos.notify;

import static io.custos.testing.Harness.bytes;
import static io.custos.testing.Harness.mtime;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.catalog.Catalog;
import io.custos.testing.Harness;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code metrics.textfile}: valid exposition text, the catalog's numbers, replaced atomically. */
class MetricsTextfileTest {
    private static final long NOW = 1_767_236_400_000L; // 2026-01-01T03:00:00Z

    @TempDir
    Path tmp;

    @Test
    void theMetricsAreTheCatalogsNumbers() throws Exception {
        // given: two roots scanned for real, one photo rotted and found by verify
        Requirements.par2();
        Harness h = new Harness(tmp);
        Path photos = h.root("photos");
        Path docs = h.root("docs");
        for (int i = 0; i < 5; i++) {
            write(photos.resolve("img" + i + ".jpg"), bytes(70_000 + i, i));
        }
        write(docs.resolve("a.txt"), "alpha");
        write(docs.resolve("sub/b.txt"), "bravo!");
        assertThat(h.scan().exit()).isZero();
        Path victim = photos.resolve("img0.jpg");
        FileTime before = mtime(victim);
        flip(victim, 1000);
        mtime(victim, before);
        assertThat(h.run("--json", "verify", "--all").exit()).isEqualTo(1);
        // and verification times, a failed scan and a killed repair set by hand
        long scanFinished = h.queryLong("SELECT finished_at FROM runs WHERE command = 'scan'");
        try (Connection c = h.db();
                Statement st = c.createStatement()) {
            st.executeUpdate("UPDATE files SET last_verified = NULL WHERE root_id = (SELECT id FROM roots"
                    + " WHERE name = 'docs')");
            st.executeUpdate("UPDATE files SET last_verified = NULL WHERE path = CAST('img1.jpg' AS BLOB)");
            st.executeUpdate(
                    "UPDATE files SET last_verified = " + (NOW - 300_000) + " WHERE path = CAST('img2.jpg' AS BLOB)");
            st.executeUpdate(
                    "UPDATE files SET last_verified = " + (NOW - 200_000) + " WHERE path = CAST('img3.jpg' AS BLOB)");
            st.executeUpdate(
                    "UPDATE files SET last_verified = " + (NOW - 100_500) + " WHERE path = CAST('img4.jpg' AS BLOB)");
            st.executeUpdate("INSERT INTO runs (command, host, started_at, finished_at, exit_code)"
                    + " VALUES ('scan', 'h', " + (NOW - 60_000) + ", " + (NOW - 30_000) + ", 5)");
            st.executeUpdate("INSERT INTO runs (command, host, started_at) VALUES ('repair', 'h', " + NOW + ")");
        }
        Path file = tmp.resolve("textfile/custos.prom");
        // when
        try (Catalog catalog = Catalog.open(Catalog.fileIn(h.parity()))) {
            MetricsTextfile.write(file, catalog, NOW);
        }
        // then: valid text
        Map<String, Double> m = parse(Files.readString(file));
        // files and bytes per root and status, as the catalog holds them
        for (String root : List.of("photos", "docs")) {
            for (String status : List.of("ok", "damaged", "truncated", "deleted")) {
                String where = " FROM files JOIN roots ON roots.id = root_id WHERE name = '" + root + "' AND status = '"
                        + status + "'";
                assertThat(value(m, "custos_files", "root", root, "status", status))
                        .isEqualTo(h.queryLong("SELECT count(*)" + where));
                assertThat(value(m, "custos_files_bytes", "root", root, "status", status))
                        .isEqualTo(h.queryLong("SELECT coalesce(sum(size), 0)" + where));
            }
        }
        assertThat(value(m, "custos_files", "root", "photos", "status", "ok")).isEqualTo(4);
        assertThat(value(m, "custos_files_bytes", "root", "docs", "status", "ok"))
                .isEqualTo(11);
        // damaged, in all and per root
        assertThat(value(m, "custos_damaged_files")).isEqualTo(1);
        assertThat(value(m, "custos_root_damaged_files", "root", "photos")).isEqualTo(1);
        assertThat(value(m, "custos_root_damaged_files", "root", "docs")).isEqualTo(0);
        // verification: ok files only; median of 300, 200, 100.5 s
        assertThat(value(m, "custos_never_verified_files", "root", "photos")).isEqualTo(1);
        assertThat(value(m, "custos_never_verified_files", "root", "docs")).isEqualTo(2);
        assertThat(value(m, "custos_verification_oldest_age_seconds", "root", "photos"))
                .isEqualTo(300);
        assertThat(value(m, "custos_verification_median_age_seconds", "root", "photos"))
                .isEqualTo(200);
        assertThat(m).doesNotContainKey(key("custos_verification_oldest_age_seconds", "root", "docs"));
        assertThat(m).doesNotContainKey(key("custos_verification_median_age_seconds", "root", "docs"));
        assertThat(value(m, "custos_root_last_scan_timestamp_seconds", "root", "docs"))
                .isEqualTo(h.queryLong("SELECT last_scan_at FROM roots WHERE name = 'docs'") / 1000.0);
        // runs: the failed scan is the last scan; the successful one is the last success
        assertThat(value(m, "custos_last_run_exit_code", "command", "scan")).isEqualTo(5);
        assertThat(value(m, "custos_last_run_duration_seconds", "command", "scan"))
                .isEqualTo(30);
        assertThat(value(m, "custos_last_run_start_timestamp_seconds", "command", "scan"))
                .isEqualTo((NOW - 60_000) / 1000.0);
        assertThat(value(m, "custos_last_success_timestamp_seconds", "command", "scan"))
                .isEqualTo(scanFinished / 1000.0);
        // verify found damage (exit 1): it ran to its end, a success
        long verifyFinished = h.queryLong("SELECT finished_at FROM runs WHERE command = 'verify'");
        long verifyStarted = h.queryLong("SELECT started_at FROM runs WHERE command = 'verify'");
        assertThat(value(m, "custos_last_run_exit_code", "command", "verify")).isEqualTo(1);
        assertThat(value(m, "custos_last_success_timestamp_seconds", "command", "verify"))
                .isEqualTo(verifyFinished / 1000.0);
        assertThat(value(m, "custos_last_run_duration_seconds", "command", "verify"))
                .isEqualTo((verifyFinished - verifyStarted) / 1000.0);
        assertThat(value(m, "custos_last_run_finished", "command", "verify")).isEqualTo(1);
        // the killed repair: started, never finished, no exit code, never succeeded
        assertThat(value(m, "custos_last_run_finished", "command", "repair")).isEqualTo(0);
        assertThat(value(m, "custos_last_run_start_timestamp_seconds", "command", "repair"))
                .isEqualTo(NOW / 1000.0);
        assertThat(m).doesNotContainKey(key("custos_last_run_exit_code", "command", "repair"));
        assertThat(m).doesNotContainKey(key("custos_last_success_timestamp_seconds", "command", "repair"));
        // parity, as recorded
        assertThat(value(m, "custos_parity_sets", "location", "by_hash"))
                .isEqualTo(h.queryLong("SELECT count(*) FROM parity WHERE trashed_at IS NULL"))
                .isEqualTo(5);
        assertThat(value(m, "custos_parity_bytes", "location", "by_hash"))
                .isEqualTo(h.queryLong("SELECT sum(bytes) FROM parity WHERE trashed_at IS NULL"))
                .isPositive();
        assertThat(value(m, "custos_parity_sets", "location", "trash")).isEqualTo(0);
        assertThat(value(m, "custos_parity_bytes", "location", "trash")).isEqualTo(0);
        assertThat(value(m, "custos_parity_owed_contents")).isEqualTo(0);
        assertThat(value(m, "custos_metrics_written_timestamp_seconds")).isEqualTo(1_767_236_400.0);
    }

    @Test
    void labelValuesAreEscaped() throws IOException {
        // given: a root whose name holds a quote, a backslash and a line feed
        String name = "we\"ird\\na\nme";
        try (Catalog catalog = Catalog.open(tmp.resolve("catalog.db"))) {
            catalog.roots().ensure(name, "/srv/x");
            // when
            String text = MetricsTextfile.render(catalog, NOW);
            // then
            assertThat(text).contains("custos_files{root=\"we\\\"ird\\\\na\\nme\",status=\"ok\"} 0\n");
            assertThat(value(parse(text), "custos_files", "root", name, "status", "ok"))
                    .isEqualTo(0);
        }
    }

    @Test
    void anEmptyCatalogGivesValidText() throws IOException {
        try (Catalog catalog = Catalog.open(tmp.resolve("catalog.db"))) {
            Map<String, Double> m = parse(MetricsTextfile.render(catalog, NOW + 1));
            assertThat(m)
                    .containsOnlyKeys(
                            key("custos_damaged_files"),
                            key("custos_parity_sets", "location", "by_hash"),
                            key("custos_parity_sets", "location", "trash"),
                            key("custos_parity_bytes", "location", "by_hash"),
                            key("custos_parity_bytes", "location", "trash"),
                            key("custos_parity_owed_contents"),
                            key("custos_metrics_written_timestamp_seconds"));
            assertThat(value(m, "custos_metrics_written_timestamp_seconds")).isEqualTo(1_767_236_400.001);
        }
    }

    @Test
    void secondsAreExactAndNeverInExponentNotation() {
        assertThat(MetricsTextfile.seconds(0)).isEqualTo("0");
        assertThat(MetricsTextfile.seconds(1_500)).isEqualTo("1.5");
        assertThat(MetricsTextfile.seconds(NOW)).isEqualTo("1767236400");
        assertThat(MetricsTextfile.seconds(NOW + 7)).isEqualTo("1767236400.007");
    }

    @Test
    void aReaderNeverSeesAHalfWrittenFile() throws Exception {
        // given: a catalog with rows in it, and the file written once
        Path file = tmp.resolve("custos.prom");
        try (Catalog catalog = Catalog.open(tmp.resolve("catalog.db"))) {
            for (int i = 0; i < 50; i++) {
                catalog.roots().ensure("root" + i, "/srv/" + i);
            }
            MetricsTextfile.write(file, catalog, NOW);
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger reads = new AtomicInteger();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Pattern last = Pattern.compile("(?s).*\ncustos_metrics_written_timestamp_seconds [0-9.]+\n");
            Thread reader = new Thread(() -> {
                try {
                    while (!done.get()) {
                        String text = Files.readString(file);
                        parse(text);
                        if (!last.matcher(text).matches()) {
                            throw new AssertionError("does not end with the last metric: " + text);
                        }
                        reads.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            reader.start();
            // when: rewritten many times while it reads
            for (int i = 1; i <= 300 && failure.get() == null; i++) {
                MetricsTextfile.write(file, catalog, NOW + i);
            }
            done.set(true);
            reader.join();
            // then
            assertThat(failure.get()).isNull();
            assertThat(reads.get()).isPositive();
            assertThat(value(parse(Files.readString(file)), "custos_metrics_written_timestamp_seconds"))
                    .isEqualTo(1_767_236_400.3);
            try (var s = Files.list(tmp)) {
                assertThat(s.map(p -> p.getFileName().toString()).filter(n -> n.contains("prom")))
                        .containsExactly("custos.prom");
            }
        }
    }

    @Test
    void theCheckerRejectsWhatPrometheusWould() {
        String ok = "# HELP a_b x\n# TYPE a_b gauge\na_b{l=\"v\"} 1\n";
        assertThat(parse(ok)).containsEntry("a_b{l=\"v\"}", 1.0);
        for (String bad : List.of(
                "a_b 1\n", // no HELP/TYPE
                "# HELP a_b x\n# TYPE a_b gauge\na_b 1", // no final newline
                "# HELP a_b x\n# TYPE a_b gauge\na_b 1\na_b 2\n", // duplicate
                "# HELP a_b x\n# TYPE a_b gauge\na_b{l=\"v} 1\n", // open quote
                "# HELP a_b x\n# TYPE a_b gauge\na_b{l=\"\\t\"} 1\n", // bad escape
                "# HELP a_b x\n# TYPE a_b gauge\na_b one\n", // not a number
                "# HELP 1a x\n# TYPE 1a gauge\n1a 1\n", // bad name
                "# HELP a x\n# TYPE a gauge\n# HELP b x\n# TYPE b gauge\na 1\n")) { // sample of another family
            assertThatThrownBy(() -> parse(bad)).as(bad).isInstanceOf(AssertionError.class);
        }
    }

    // ---- a strict reader of the text exposition format -----------------------------------------

    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern SAMPLE = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (\\S+)");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    /**
     * Every sample as {@code name{label="unescaped value",...}} (labels sorted) → value. Fails on
     * anything Prometheus' text parser would refuse, and on what this file must not do: a sample
     * before its family's HELP and TYPE, a family split in two, a duplicate, a missing final newline.
     */
    static Map<String, Double> parse(String text) {
        if (!text.endsWith("\n")) {
            throw new AssertionError("no newline at the end");
        }
        Map<String, Double> out = new HashMap<>();
        Set<String> helped = new HashSet<>();
        Set<String> typed = new HashSet<>();
        Set<String> closed = new HashSet<>();
        String current = null;
        for (String line : text.substring(0, text.length() - 1).split("\n", -1)) {
            if (line.startsWith("# HELP ") || line.startsWith("# TYPE ")) {
                String[] parts = line.substring(7).split(" ", 2);
                String name = parts[0];
                if (!NAME.matcher(name).matches() || parts.length < 2) {
                    throw new AssertionError("bad comment: " + line);
                }
                if (!name.equals(current)) {
                    if (current != null) {
                        closed.add(current);
                    }
                    if (closed.contains(name)) {
                        throw new AssertionError("family split: " + name);
                    }
                    current = name;
                }
                if (line.startsWith("# HELP ")) {
                    if (!helped.add(name) || typed.contains(name)) {
                        throw new AssertionError("HELP twice, or after TYPE: " + line);
                    }
                } else if (!TYPES.contains(parts[1]) || !typed.add(name)) {
                    throw new AssertionError("bad or second TYPE: " + line);
                }
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                throw new AssertionError("not a sample: " + line);
            }
            String name = m.group(1);
            if (!name.equals(current) || !helped.contains(name) || !typed.contains(name)) {
                throw new AssertionError("sample without its HELP and TYPE before it: " + line);
            }
            Map<String, String> labels = m.group(2) == null ? Map.of() : labels(m.group(2), line);
            double v;
            try {
                v = Double.parseDouble(m.group(3));
            } catch (NumberFormatException e) {
                throw new AssertionError("not a number: " + line, e);
            }
            String k = key(name, labels);
            if (out.put(k, v) != null) {
                throw new AssertionError("duplicate sample: " + line);
            }
        }
        return out;
    }

    private static Map<String, String> labels(String s, String line) {
        Map<String, String> out = new TreeMap<>();
        int i = 0;
        while (i < s.length()) {
            int eq = s.indexOf("=\"", i);
            if (eq < 0 || !LABEL_NAME.matcher(s.substring(i, eq)).matches()) {
                throw new AssertionError("bad label name: " + line);
            }
            String name = s.substring(i, eq);
            StringBuilder v = new StringBuilder();
            int j = eq + 2;
            for (; ; j++) {
                if (j >= s.length()) {
                    throw new AssertionError("unterminated label value: " + line);
                }
                char c = s.charAt(j);
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    char e = j + 1 < s.length() ? s.charAt(++j) : 0;
                    switch (e) {
                        case '\\' -> v.append('\\');
                        case '"' -> v.append('"');
                        case 'n' -> v.append('\n');
                        default -> throw new AssertionError("bad escape: " + line);
                    }
                } else {
                    v.append(c);
                }
            }
            if (out.put(name, v.toString()) != null) {
                throw new AssertionError("label twice: " + line);
            }
            i = j + 1;
            if (i < s.length()) {
                if (s.charAt(i) != ',') {
                    throw new AssertionError("labels not separated by a comma: " + line);
                }
                i++;
            }
        }
        return out;
    }

    private static String key(String name, Map<String, String> labels) {
        if (labels.isEmpty()) {
            return name;
        }
        List<String> parts = new ArrayList<>();
        labels.forEach((k, v) -> parts.add(k + "=\"" + v + "\""));
        return name + "{" + String.join(",", parts) + "}";
    }

    static String key(String name, String... labels) {
        Map<String, String> l = new TreeMap<>();
        for (int i = 0; i < labels.length; i += 2) {
            l.put(labels[i], labels[i + 1]);
        }
        return key(name, l);
    }

    static double value(Map<String, Double> m, String name, String... labels) {
        String k = key(name, labels);
        if (!m.containsKey(k)) {
            throw new AssertionError("no sample " + k + " in " + new TreeMap<>(m).keySet());
        }
        return m.get(k);
    }

    private static void flip(Path f, long at) throws IOException {
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(at);
            int b = raf.read();
            raf.seek(at);
            raf.write(b ^ 0xFF);
        }
    }
}
