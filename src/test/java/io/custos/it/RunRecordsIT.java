package io.custos.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.custos.it.CustosProcess.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SPEC §3: {@code _logs/} holds one JSON summary per run; {@code _db/backups/} the last N catalog copies. */
class RunRecordsIT {
    @TempDir
    Path tmp;

    @Test
    void everyRunLeavesTheSameJsonObjectItPrintedInLogs() throws IOException {
        // given a root with a file
        TestNas nas = new TestNas(tmp);
        Path a = nas.file("a.txt", "alpha");
        List<JsonNode> printed = new ArrayList<>();

        // when it is scanned twice, with a change in between
        printed.add(scanJson(nas));
        Files.writeString(a, "alpha, changed");
        nas.file("b.txt", "beta");
        printed.add(scanJson(nas));

        // then _logs holds one file per run, named after the run, holding the object the run printed
        List<Path> logs = nas.logs();
        assertThat(logs).hasSize(2);
        for (JsonNode run : printed) {
            String suffix = "-" + run.get("run_id").asLong() + ".json";
            List<Path> mine = logs.stream()
                    .filter(p -> p.getFileName().toString().endsWith(suffix))
                    .toList();
            assertThat(mine)
                    .as("the log of run %s in %s", run.get("run_id"), logs)
                    .hasSize(1);
            assertThat(CustosProcess.JSON.readTree(mine.get(0).toFile())).isEqualTo(run);
        }
        assertThat(printed.get(1).get("stats").get("files_new").asLong()).isEqualTo(1);
    }

    @Test
    void backupsKeepOnlyTheNewestCatalogBackupsCopies() {
        // given catalog_backups = 2
        TestNas nas = new TestNas(tmp);
        nas.settings().put("catalog_backups", 2);
        nas.writeConfig();
        nas.file("a.txt", "alpha");

        // when three scans run, each finding a new file (a run that changes nothing adds no backup)
        for (int i = 0; i < 3; i++) {
            nas.file("new" + i + ".txt", "file " + i);
            scanJson(nas);
        }

        // then two backups are left, sound SQLite catalogs of the two latest runs
        List<Path> backups = nas.backups();
        assertThat(backups).as("%s", backups).hasSize(2);
        List<Long> runsInBackups = new ArrayList<>();
        List<Long> filesInBackups = new ArrayList<>();
        for (Path b : backups) {
            CatalogDb copy = new CatalogDb(b);
            assertThat(copy.integrityCheck()).as(b.toString()).isEqualTo("ok");
            filesInBackups.add(copy.liveFiles());
            runsInBackups.add(copy.count("SELECT count(*) FROM runs WHERE finished_at IS NOT NULL"));
        }
        assertThat(runsInBackups).containsExactlyInAnyOrder(2L, 3L);
        assertThat(filesInBackups).as("a.txt plus the files found by then").containsExactlyInAnyOrder(3L, 4L);
    }

    private static JsonNode scanJson(TestNas nas) {
        Result r = nas.custos("--json", "scan").run();
        assertThat(r.exitCode()).as(r.describe()).isZero();
        return r.json();
    }
}
