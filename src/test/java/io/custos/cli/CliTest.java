package io.custos.cli;

import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.custos.run.ExitCode;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import io.custos.testing.SpecNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
    @TempDir
    Path tmp;

    Harness h;
    Path data;

    @BeforeEach
    void setUp() {
        h = new Harness(tmp);
        data = h.root("data");
    }

    @Test
    void scanJsonCarriesTheSpecFields() {
        write(data.resolve("a.txt"), "a");
        Result r = h.scan();
        JsonNode j = r.json();
        assertThat(j.get("command").asText()).isEqualTo("scan");
        assertThat(j.get("run_id").asLong()).isPositive();
        assertThat(j.get("exit_code").asInt()).isZero();
        assertThat(Instant.parse(j.get("started_at").asText()))
                .isBeforeOrEqualTo(Instant.parse(j.get("finished_at").asText()));
        List<String> names = new ArrayList<>();
        j.get("stats").fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactlyElementsOf(SpecNames.SCAN_STATS);
        j.get("stats").forEach(v -> assertThat(v.isIntegralNumber()).isTrue());
        assertThat(j.get("problems").isArray()).isTrue();
        assertThat(j.get("roots").get(0).get("name").asText()).isEqualTo("data");
        // stdout holds exactly one JSON object; logs went to stderr
        assertThat(r.out().trim().lines().count()).isEqualTo(1);
        assertThat(r.err()).contains("hashing 1 files");
    }

    @Test
    void problemsCarryRootPathKindAndMessage() {
        Path f = write(data.resolve("x.txt"), "content");
        h.scan();
        write(f, "");
        Result r = h.scan();
        JsonNode p = r.json().get("problems").get(0);
        assertThat(p.get("root").asText()).isEqualTo("data");
        assertThat(p.get("path").asText()).isEqualTo("x.txt");
        assertThat(p.get("kind").asText()).isEqualTo("truncated");
        assertThat(p.get("message").asText()).contains("empty");
    }

    @Test
    void configErrorExitsTwoNamingTheKeyAndStillPrintsJson() {
        h.config().putObject("hash").put("workers", -1);
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("hash.workers").contains("from 0 to 256");
        assertThat(r.json().get("exit_code").asInt()).isEqualTo(2);
        assertThat(r.json().get("error").asText()).contains("hash.workers");
        assertThat(Files.exists(h.parity())).isFalse();
    }

    @Test
    void errorsPrintNoStackTraceUnlessAsked() {
        h.config().putObject("hash").put("workers", -1);
        assertThat(h.run("scan").err()).doesNotContain("\tat io.custos");
        assertThat(h.run("--stacktrace", "scan").err()).contains("\tat io.custos");
    }

    @Test
    void helpListsTheCommandsAndTheExitCodeTable() {
        Result r = h.runRaw("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out())
                .contains("scan")
                .contains("status")
                .contains("history")
                .contains("events")
                .contains("completion")
                .contains("Exit status:");
        String flat = r.out().replaceAll("\\s+", " ");
        for (ExitCode c : ExitCode.values()) {
            assertThat(flat).contains(c.code() + " " + c.meaning());
        }
        assertThat(h.runRaw("scan", "--help").out())
                .contains("--accept-changes")
                .contains("Exit status:");
    }

    @Test
    void unknownCommandOrOptionIsAUsageError() {
        assertThat(h.runRaw("frobnicate").exit()).isEqualTo(2);
        Result r = h.runRaw("scan", "--no-such-flag");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("--no-such-flag");
    }

    @Test
    void verifyAmountsAreCheckedBeforeAnythingIsTouched() {
        assertThat(h.run("verify", "--percent", "101").exit()).isEqualTo(2);
        Result both = h.run("verify", "--all", "--percent", "5");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
        assertThat(h.run("verify", "no-such-root").exit()).isEqualTo(2);
        assertThat(java.nio.file.Files.exists(h.parity().resolve("_db/catalog.db")))
                .isFalse();
    }

    @Test
    void helpOfVerifyAndRepairNamesTheirOptions() {
        assertThat(h.runRaw("verify", "--help").out()).contains("--percent", "--all", "--path", "--repair");
        assertThat(h.runRaw("repair", "--help").out()).contains("--path", "--dry-run", "_quarantine");
    }

    @Test
    void parseErrorsWithJsonStillPrintOneObject() {
        Result r = h.runRaw("--json", "events", "--limit", "many");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.json().get("exit_code").asInt()).isEqualTo(2);
        assertThat(r.json().get("command").asText()).isEqualTo("events");
        assertThat(r.json().get("error").asText()).contains("--limit");
    }

    @Test
    void backupsKeepTheNewestRunsEvenWithinOneSecond() throws Exception {
        h.clock(Clock.fixed(Instant.parse("2026-03-01T03:00:00Z"), ZoneOffset.UTC));
        h.config().put("catalog_backups", 2);
        write(data.resolve("a.txt"), "a");
        long last = 0;
        for (int i = 0; i < 11; i++) {
            write(data.resolve("f" + i + ".txt"), "run " + i); // a change, so that every run is backed up
            last = h.scan().json().get("run_id").asLong();
        }
        try (var b = Files.list(h.parity().resolve("_db/backups"))) {
            List<String> names = b.map(p -> p.getFileName().toString()).sorted().toList();
            assertThat(names)
                    .containsExactlyInAnyOrder(
                            "catalog-20260301T030000Z-" + last + ".db",
                            "catalog-20260301T030000Z-" + (last - 1) + ".db");
        }
    }

    @Test
    void versionIsPrinted() {
        Result r = h.runRaw("--version");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).startsWith("custos ").doesNotContain("unknown");
    }

    @Test
    void completionPrintsABashScript() {
        Result r = h.runRaw("completion");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("complete -F").contains("scan").contains("history");
    }

    @Test
    void globalOptionsWorkAfterTheCommandToo() {
        write(data.resolve("a.txt"), "a");
        Result r = h.run("scan", "--json", "-q");
        assertThat(r.json().get("command").asText()).isEqualTo("scan");
        assertThat(r.err()).isEmpty();
    }

    @Test
    void statusShowsTotalsPerRootAndTheLastRuns() {
        write(data.resolve("a.txt"), "aaaa");
        write(data.resolve("b.txt"), "bb");
        h.scan();
        Result r = h.run("--json", "status");
        assertThat(r.exit()).isZero();
        JsonNode j = r.json();
        assertThat(j.get("totals").get("files").asLong()).isEqualTo(2);
        assertThat(j.get("totals").get("bytes").asLong()).isEqualTo(6);
        JsonNode root = j.get("roots").get(0);
        assertThat(root.get("name").asText()).isEqualTo("data");
        assertThat(root.get("files").get("ok").get("files").asLong()).isEqualTo(2);
        assertThat(root.get("never_verified").asLong()).isEqualTo(2);
        assertThat(root.get("last_scan_at").isNull()).isFalse();
        assertThat(j.get("last_runs").get(0).get("command").asText()).isEqualTo("scan");
        assertThat(j.get("last_runs").get(0).get("exit_code").asInt()).isZero();
        assertThat(h.run("status").out()).contains("data").contains("ok 2");
    }

    @Test
    void statusExitsOneWhenAFileIsTruncated() {
        Path f = write(data.resolve("a.txt"), "content");
        h.scan();
        write(f, "");
        h.scan();
        Result r = h.run("--json", "status");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.json().get("open_problems").get(0).get("status").asText()).isEqualTo("truncated");
    }

    @Test
    void statusWithoutACatalogSaysToScanAndCreatesNothing() {
        Result r = h.run("status");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("run custos scan");
        assertThat(Files.exists(h.parity())).isFalse();
    }

    @Test
    void historyOfAPathOutsideEveryRootIsAUsageError() {
        write(data.resolve("a.txt"), "a");
        h.scan();
        Result r = h.run("history", "/etc/passwd");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("not under any cataloged root");
    }

    @Test
    void historyAcceptsPathsRelativeToTheWorkingDirectory() {
        write(data.resolve("sub/a.txt"), "a");
        h.scan();
        // the harness runs with the temp dir as working directory
        Result r = h.run("--json", "history", "data/sub/../sub/a.txt");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.json().get("path").asText()).isEqualTo("sub/a.txt");
    }

    @Test
    void eventsFilterBySinceTypeAndRootNewestFirst() throws Exception {
        Path other = h.root("other");
        MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
        h.clock(clock);
        write(data.resolve("old.txt"), "old");
        write(other.resolve("o.txt"), "o");
        h.scan();
        clock.now = Instant.parse("2026-01-10T00:00:00Z");
        write(data.resolve("new.txt"), "new");
        write(data.resolve("keep.txt"), "keep");
        Files.delete(data.resolve("old.txt"));
        h.scan();
        clock.now = Instant.parse("2026-01-11T00:00:00Z");

        JsonNode all = h.run("--json", "events").json().get("events");
        assertThat(all).hasSize(5);
        assertThat(Instant.parse(all.get(0).get("time").asText()))
                .isAfterOrEqualTo(Instant.parse(all.get(4).get("time").asText()));

        JsonNode recent = h.run("--json", "events", "--since", "2d").json().get("events");
        assertThat(recent).hasSize(3);
        JsonNode byDate =
                h.run("--json", "events", "--since", "2026-01-05").json().get("events");
        assertThat(byDate).hasSize(3);
        JsonNode deleted = h.run("--json", "events", "--type", "deleted").json().get("events");
        assertThat(deleted).hasSize(1);
        assertThat(deleted.get(0).get("path").asText()).isEqualTo("old.txt");
        JsonNode ofOther = h.run("--json", "events", "--root", "other").json().get("events");
        assertThat(ofOther).hasSize(1);
        assertThat(h.run("--json", "events", "--limit", "2").json().get("events"))
                .hasSize(2);
        assertThat(h.run("events", "--type", "nonsense").exit()).isEqualTo(2);
        assertThat(h.run("events", "--since", "yesterday").exit()).isEqualTo(2);
    }

    @Test
    void runSummaryIsWrittenToLogsAndTheCatalogIsBackedUp() throws Exception {
        h.config().put("catalog_backups", 2);
        write(data.resolve("a.txt"), "a");
        Result first = h.scan();
        write(data.resolve("b.txt"), "b");
        h.scan();
        write(data.resolve("c.txt"), "c");
        h.scan();
        try (var logs = Files.list(h.parity().resolve("_logs"))) {
            List<Path> files = logs.sorted().toList();
            assertThat(files).hasSize(3);
            assertThat(Harness.JSON.readTree(files.get(0).toFile())).isEqualTo(first.json());
        }
        try (var backups = Files.list(h.parity().resolve("_db/backups"))) {
            assertThat(backups.filter(p -> p.getFileName().toString().endsWith(".db"))
                            .count())
                    .isEqualTo(2);
        }
    }

    @Test
    void aRunThatChangesNothingAddsNoBackup() throws Exception {
        write(data.resolve("a.txt"), "a");
        h.scan();
        h.scan();
        h.scan();
        try (var backups = Files.list(h.parity().resolve("_db/backups"))) {
            assertThat(backups.count())
                    .as("only the first run changed the catalog")
                    .isEqualTo(1);
        }
        write(data.resolve("b.txt"), "b");
        h.scan();
        try (var backups = Files.list(h.parity().resolve("_db/backups"))) {
            assertThat(backups.count()).isEqualTo(2);
        }
    }

    @Test
    void dataDirFromTheEnvironmentMakesRoots() throws Exception {
        Harness env = new Harness(tmp.resolve("envcase"));
        Files.createDirectories(tmp.resolve("envcase/data/photos"));
        write(tmp.resolve("envcase/data/photos/p.jpg"), "p");
        write(tmp.resolve("envcase/data/docs/d.txt"), "d");
        env.env().put("CUSTOS_DATA_DIR", tmp.resolve("envcase/data").toString());
        env.env().put("CUSTOS_PARITY_ROOT", tmp.resolve("envcase/parity").toString());
        Result r = env.runRaw("--json", "scan");
        assertThat(r.exit()).as(r.toString()).isZero();
        List<String> roots = new ArrayList<>();
        r.json().get("roots").forEach(x -> roots.add(x.get("name").asText()));
        assertThat(roots).containsExactly("docs", "photos");
        assertThat(Files.exists(tmp.resolve("envcase/parity/_db/catalog.db"))).isTrue();
    }

    @Test
    void rootGoneFromDataDirTripsTheGuardUntilAccepted() throws Exception {
        Path dd = tmp.resolve("dd");
        write(dd.resolve("usb/a.txt"), "a");
        write(dd.resolve("main/b.txt"), "b");
        h.config().remove("roots");
        h.config().put("data_dir", dd.toString());
        assertThat(h.scan().exit()).isZero();
        Harness.sh("rm", "-rf", dd.resolve("usb").toString());
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(4);
        assertThat(h.queryLong("SELECT count(*) FROM files WHERE status = 'ok'"))
                .isEqualTo(2);
        Result ok = h.scan("--accept-changes");
        assertThat(ok.exit()).as(ok.toString()).isZero();
        assertThat(ok.stat("files_deleted")).isEqualTo(1);
    }

    @Test
    void filesCustosCreatesFollowTheConfiguredUmask() throws Exception {
        h.config().putObject("process").put("umask", "077").put("nice", 0).put("ionice_idle", false);
        write(data.resolve("a.txt"), "a");
        assertThat(h.scan().exit()).isZero();
        assertThat(mode(h.parity().resolve("_db"))).isEqualTo("rwx------");
        assertThat(mode(h.parity().resolve("_db/catalog.db"))).isEqualTo("rw-------");
        try (var logs = Files.list(h.parity().resolve("_logs"))) {
            assertThat(mode(logs.findFirst().orElseThrow())).isEqualTo("rw-------");
        }
        try (var b = Files.list(h.parity().resolve("_db/backups"))) {
            assertThat(mode(b.findFirst().orElseThrow())).isEqualTo("rw-------");
        }
    }

    private static String mode(Path p) throws java.io.IOException {
        return java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void noRootsConfiguredIsAUsageError() {
        h.config().putArray("roots");
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("no roots configured");
    }

    /** A clock the test moves by hand. */
    static final class MutableClock extends Clock {
        Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }
}
