package io.custos.archive;

import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.custos.config.Config;
import io.custos.config.ConfigLoader;
import io.custos.run.CancelToken;
import io.custos.run.Findings;
import io.custos.run.Log;
import io.custos.run.Progress;
import io.custos.run.RunContext;
import io.custos.run.Stats;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import io.custos.testing.ZfsPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The archive job reading from real ZFS snapshots (zfs-fuse on a file-backed pool). */
class ZipZfsTest {
    @TempDir
    Path tmp;

    ZfsPool pool;
    Harness h;
    Path source;
    Path target;
    ObjectNode job;

    @BeforeEach
    void setUp() {
        Programs.need("unzip", "unzip");
        pool = ZfsPool.create(tmp);
        source = pool.dataset("office");
        h = new Harness(tmp);
        target = tmp.resolve("target");
        job = h.section("zip").putArray("jobs").addObject();
        job.put("name", "office")
                .put("source_path", source.toString())
                .put("target_path", target.toString())
                .put("retry_backoff_seconds", 0);
        job.putObject("snapshot").put("mode", "zfs").put("prefix", "auto-zip").put("retention", 2);
    }

    @AfterEach
    void tearDown() {
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void aRunZipsFromItsSnapshotLeavesNoCloneAndKeepsOnlyTheNewestSnapshots() throws IOException {
        write(source.resolve("ABCD/a.txt"), "alpha");
        pool.zfs("snapshot", pool.name() + "/office@manual-1");
        for (int run = 0; run < 3; run++) {
            write(source.resolve("ABCD/run" + run + ".txt"), "run " + run);
            Result r = h.run("--json", "zip");
            assertThat(r.exit()).as(r.toString()).isZero();
            String snap = r.json().get("jobs").get(0).get("snapshot").asText();
            assertThat(snap).matches("auto-zip-\\d{14}");
            JsonNode meta =
                    Harness.JSON.readTree(target.resolve("ABCD/metadata.json").toFile());
            assertThat(meta.get("snapshot").asText()).isEqualTo(snap);
            sleepPastSecond();
        }
        String snaps = pool.zfs("list", "-H", "-t", "snapshot", "-o", "name");
        assertThat(snaps.lines().filter(l -> l.contains("@auto-zip-"))).hasSize(2);
        assertThat(snaps).contains("@manual-1");
        assertThat(pool.zfs("list", "-H", "-o", "name").lines()).noneMatch(l -> l.contains("custos-zip"));
        Programs.ok(target.resolve("ABCD"), "unzip", "-tq", "ABCD.zip");
    }

    @Test
    void aFileWrittenAfterTheSnapshotIsNotInTheZip() throws Exception {
        write(source.resolve("ABCD/before.txt"), "there when the snapshot was taken");
        Config config = ConfigLoader.parse(Harness.JSON.writeValueAsString(h.config()));
        Log log = new Log(System.err, Clock.systemUTC(), Log.Level.INFO);
        RunContext ctx = new RunContext(
                config,
                null,
                h.parity(),
                null,
                0,
                Clock.systemUTC(),
                log,
                new CancelToken(),
                new Findings(log, Stats.ZIP),
                Progress.off(log));
        Archiver archiver = new Archiver(ctx, Map.of("PATH", System.getenv("PATH")));
        Config.ZipJob zipJob = config.zip().jobs().get(0);
        try (SourceView view = archiver.open(zipJob, false)) {
            write(source.resolve("ABCD/after.txt"), "written after the snapshot");
            Path src = view.dir().resolve("ABCD");
            archiver.zipAndPublish(
                    zipJob,
                    view,
                    src,
                    target.resolve("ABCD"),
                    "ABCD",
                    Harness.JSON
                            .createObjectNode()
                            .put("source", source + "/ABCD")
                            .put("host", "test"),
                    FolderManifest.of(src),
                    new CancelToken());
        }
        try (ZipFile z = new ZipFile(target.resolve("ABCD/ABCD.zip").toFile())) {
            assertThat(z.stream().map(e -> e.getName())).containsExactly("before.txt");
        }
        assertThat(pool.zfs("list", "-H", "-o", "name").lines()).noneMatch(l -> l.contains("custos-zip"));
    }

    @Test
    void dryRunMakesNoSnapshotAndNamesTheOneItWouldMake() throws IOException {
        write(source.resolve("ABCD/a.txt"), "alpha");
        Result r = h.run("--json", "zip", "--dry-run");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.json().get("jobs").get(0).get("snapshot").asText()).matches("auto-zip-\\d{14}");
        assertThat(pool.zfs("list", "-H", "-t", "snapshot", "-o", "name").lines())
                .isEmpty();
        assertThat(Files.exists(target)).isFalse();
    }

    @Test
    void modeZfsOffZfsIsAnEnvironmentError() throws IOException {
        Path plain = tmp.resolve("plain");
        write(plain.resolve("ABCD/a.txt"), "alpha");
        job.put("source_path", plain.toString());
        Result r = h.run("--json", "zip");
        assertThat(r.exit()).as(r.toString()).isEqualTo(5);
        assertThat(r.json().get("problems").toString()).contains("not on a ZFS dataset");
        assertThat(Files.exists(target)).isFalse();
    }

    @Test
    void twoJobsSnapshottingOneDatasetWithOnePrefixAreRefused() throws IOException {
        write(source.resolve("ABCD/a.txt"), "alpha");
        ObjectNode second = ((com.fasterxml.jackson.databind.node.ArrayNode)
                        h.config().get("zip").get("jobs"))
                .addObject();
        second.put("name", "office2")
                .put("source_path", source.toString())
                .put("target_path", tmp.resolve("t2").toString());
        second.putObject("snapshot").put("mode", "zfs").put("prefix", "auto-zip");
        Result r = h.run("--json", "zip", "office");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(r.json().get("error").asText()).contains("office2").contains("snapshot.prefix");
        assertThat(pool.zfs("list", "-H", "-t", "snapshot", "-o", "name").lines())
                .isEmpty();
    }

    private static void sleepPastSecond() {
        long second = System.currentTimeMillis() / 1000;
        while (System.currentTimeMillis() / 1000 == second) {
            Thread.onSpinWait();
        }
    }
}
