package io.custos.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.custos.it.CustosProcess.Result;
import io.custos.it.CustosProcess.Running;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * SPEC §5.5: a crash loses at most one batch, SIGINT/SIGTERM finish the current batch and exit 130,
 * and the next run continues from there without reading finished files again.
 */
class InterruptedScanIT {
    /** With one hash worker, a first scan of these takes 8–10 s here; it is stopped after about 2 s. */
    private static final int FILES = 3000;

    private static final int FILE_SIZE = 1 << 20;

    @TempDir
    Path tmp;

    @Test
    void aCrashMidScanLosesAtMostOneBatchAndTheNextScanFinishesTheWork() throws Exception {
        // given a tree whose first scan takes several seconds
        TestNas nas = slowToScan();
        List<Path> files = nas.sparseTree(FILES, FILE_SIZE);
        CatalogDb catalog = nas.catalog();

        // when the scan is killed (SIGKILL) after it committed its first batch
        long seenBeforeKill;
        try (Running scan = nas.custos("scan").start()) {
            seenBeforeKill = awaitFirstCommit(scan, catalog);
            scan.sigkill();
            assertThat(scan.waitFor(Duration.ofSeconds(30)).exitCode())
                    .as("killed by SIGKILL")
                    .isEqualTo(137);
        }

        // then the catalog is sound and holds every row committed before the kill, with the right hashes
        assertThat(catalog.integrityCheck()).isEqualTo("ok");
        long committed = catalog.fileRows();
        assertThat(committed)
                .as("rows committed before the kill survive it, and the kill came before the end")
                .isGreaterThanOrEqualTo(seenBeforeKill)
                .isLessThan(FILES);
        assertHashesAreRight(nas, catalog);

        // and the next scan finishes the work without reading the committed files again
        assertNextScanFinishesTheWork(nas, catalog, files, committed);
    }

    enum Signal {
        SIGTERM,
        SIGINT
    }

    @ParameterizedTest
    @EnumSource(Signal.class)
    void aSignalStopsTheScanWithExit130AndTheNextScanResumesWithoutRehashing(Signal signal) throws Exception {
        // given a scan of a tree that takes several seconds, past its first commit
        TestNas nas = slowToScan();
        List<Path> files = nas.sparseTree(FILES, FILE_SIZE);
        CatalogDb catalog = nas.catalog();
        Result stopped;
        long seenBeforeSignal;
        try (Running scan = nas.custos("scan").start()) {
            seenBeforeSignal = awaitFirstCommit(scan, catalog);

            // when it gets SIGTERM (docker stop, systemd) or SIGINT (Ctrl-C)
            if (signal == Signal.SIGTERM) {
                scan.sigterm();
            } else {
                scan.sigint();
            }
            stopped = scan.waitFor(Duration.ofSeconds(30));
        }

        // then it exits 130, says so, and leaves a sound catalog that records the interrupted run
        assertThat(stopped.exitCode()).as(stopped.describe()).isEqualTo(130);
        assertThat(stopped.stderr()).containsIgnoringCase("interrupted");
        assertThat(catalog.integrityCheck()).isEqualTo("ok");
        assertThat(catalog.query("SELECT command, exit_code FROM runs ORDER BY id"))
                .containsExactly(Map.of("command", "scan", "exit_code", 130));
        long committed = catalog.fileRows();
        assertThat(committed)
                .as("the batch under way is committed, and the run stopped before the end")
                .isGreaterThanOrEqualTo(seenBeforeSignal)
                .isLessThan(FILES);
        assertHashesAreRight(nas, catalog);
        List<Path> logs = nas.logs();
        assertThat(logs).as("the interrupted run's summary in _logs").hasSize(1);
        JsonNode summary = CustosProcess.JSON.readTree(logs.get(0).toFile());
        assertThat(summary.get("exit_code").asInt()).isEqualTo(130);
        assertThat(summary.get("stats").get("files_new").asLong())
                .as("every file the run counted as cataloged was committed")
                .isEqualTo(committed);

        // and the next scan resumes: nothing hashed twice
        assertNextScanFinishesTheWork(nas, catalog, files, committed);
    }

    private TestNas slowToScan() {
        TestNas nas = new TestNas(tmp);
        nas.settings().putObject("hash").put("workers", 1);
        // These tests count what the hashing reads: no parity sets, no verification sample.
        ((com.fasterxml.jackson.databind.node.ObjectNode)
                        nas.settings().get("roots").get(0))
                .put("parity", false);
        nas.settings().putObject("verify").put("percent", 0);
        return nas.writeConfig();
    }

    /** Waits until the running scan has committed file rows; returns how many were seen. */
    private static long awaitFirstCommit(Running scan, CatalogDb catalog) {
        long[] seen = {0};
        CustosProcess.await("the scan's first committed batch", Duration.ofSeconds(30), () -> {
            seen[0] = catalog.committedFilesSoFar();
            return seen[0] > 0 || !scan.isAlive();
        });
        assertThat(scan.isAlive())
                .as("the scan is still running after its first commit (else the tree is too small to test this)"
                        + "; stderr:\n" + scan.stderrSoFar())
                .isTrue();
        return seen[0];
    }

    private static void assertNextScanFinishesTheWork(
            TestNas nas, CatalogDb catalog, List<Path> files, long committed) {
        Result next = nas.custos("--json", "scan").run();

        assertThat(next.exitCode()).as(next.describe()).isZero();
        JsonNode stats = next.json().get("stats");
        long remaining = files.size() - committed;
        assertThat(stats.get("files_scanned").asLong()).isEqualTo(files.size());
        assertThat(stats.get("files_unchanged").asLong())
                .as("files committed before are not read again")
                .isEqualTo(committed);
        assertThat(stats.get("files_new").asLong()).isEqualTo(remaining);
        assertThat(stats.get("bytes_hashed").asLong())
                .as("only the files not yet cataloged are read")
                .isEqualTo(remaining * FILE_SIZE);
        assertThat(stats.get("errors").asLong()).isZero();

        assertThat(catalog.integrityCheck()).isEqualTo("ok");
        assertThat(catalog.liveFiles()).as("every file is cataloged").isEqualTo(files.size());
        assertThat(catalog.fileRows()).as("and only once").isEqualTo(files.size());
        assertThat(catalog.distinctLivePaths()).isEqualTo(files.size());
        assertThat(catalog.events("added")).isEqualTo(files.size());
    }

    /** Every cataloged hash equals the file's real SHA-256 (checked on a sample, to stay quick). */
    private static void assertHashesAreRight(TestNas nas, CatalogDb catalog) throws Exception {
        Map<String, String> hashes = catalog.liveHashes();
        List<String> paths = List.copyOf(hashes.keySet());
        for (int i = 0; i < paths.size(); i += Math.max(1, paths.size() / 20)) {
            String rel = paths.get(i);
            assertThat(hashes.get(rel)).as("SHA-256 of %s", rel).isEqualTo(sha256(nas.data.resolve(rel)));
        }
        String last = paths.get(paths.size() - 1);
        assertThat(hashes.get(last)).as("SHA-256 of %s", last).isEqualTo(sha256(nas.data.resolve(last)));
    }

    static String sha256(Path file) throws IOException, NoSuchAlgorithmException {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        byte[] buf = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buf)) > 0; ) {
                md.update(buf, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
