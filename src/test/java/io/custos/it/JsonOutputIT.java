package io.custos.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.custos.it.CustosProcess.Result;
import io.custos.testing.SpecNames;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SPEC §2: {@code --json} prints exactly one object with the documented fields, on success and on error. */
class JsonOutputIT {
    @TempDir
    Path tmp;

    @Test
    void scanJsonIsOneObjectWithTheSpecFields() {
        // given a root with two files
        TestNas nas = new TestNas(tmp);
        nas.file("a.txt", "alpha");
        nas.file("sub/b.txt", "beta");
        Instant before = Instant.now();

        // when it is scanned with --json
        Result scan = nas.custos("--json", "scan").run();

        // then stdout is one JSON object with the common fields and the scan counters
        assertThat(scan.exitCode()).as(scan.describe()).isZero();
        JsonNode json = scan.json();
        assertThat(fieldNames(json))
                .contains("command", "run_id", "exit_code", "started_at", "finished_at", "stats", "problems");
        assertThat(json.get("command").asText()).isEqualTo("scan");
        assertThat(json.get("run_id").isIntegralNumber())
                .as("run_id is an integer: %s", json.get("run_id"))
                .isTrue();
        assertThat(json.get("exit_code").isInt()).isTrue();
        assertThat(json.get("exit_code").asInt()).isZero();

        // ISO-8601 UTC
        Instant started = Instant.parse(json.get("started_at").asText());
        Instant finished = Instant.parse(json.get("finished_at").asText());
        assertThat(json.get("started_at").asText()).endsWith("Z");
        assertThat(json.get("finished_at").asText()).endsWith("Z");
        assertThat(started).isAfterOrEqualTo(before.minusSeconds(1)).isBeforeOrEqualTo(finished);
        assertThat(finished).isBeforeOrEqualTo(Instant.now());

        JsonNode stats = json.get("stats");
        assertThat(fieldNames(stats)).containsAll(SpecNames.SCAN_STATS);
        for (String name : fieldNames(stats)) {
            assertThat(stats.get(name).isIntegralNumber())
                    .as("stats.%s is an integer: %s", name, stats.get(name))
                    .isTrue();
        }
        assertThat(stats.get("files_scanned").asLong()).isEqualTo(2);
        assertThat(stats.get("files_new").asLong()).isEqualTo(2);
        assertThat(stats.get("bytes_hashed").asLong()).isEqualTo("alpha".length() + "beta".length());

        assertThat(json.get("problems").isArray()).isTrue();
        assertThat(json.get("problems")).isEmpty();
    }

    @Test
    void anOutOfRangeSettingExits2NamingTheKeyAndTheAcceptedRange() {
        // given a configuration with hash.workers = -1
        TestNas nas = badConfig();

        // when scan runs
        Result scan = nas.custos("scan").run();

        // then it exits 2, names the key and the accepted range, and touches nothing
        assertThat(scan.exitCode()).as(scan.describe()).isEqualTo(2);
        assertThat(scan.stderr())
                .contains("hash.workers")
                .containsPattern("\\b0\\b.*\\b256\\b")
                .contains("-1");
        assertThat(scan.stdout()).isBlank();
        assertThat(nas.parity).doesNotExist();
    }

    @Test
    void aConfigurationErrorWithJsonStillPrintsOneObjectWithExitCodeAndError() {
        // given a configuration with hash.workers = -1
        TestNas nas = badConfig();

        // when scan runs with --json
        Result scan = nas.custos("--json", "scan").run();

        // then it exits 2 and stdout is still one object, with exit_code 2 and the error
        assertThat(scan.exitCode()).as(scan.describe()).isEqualTo(2);
        JsonNode json = scan.json();
        assertThat(json.get("exit_code").asInt()).isEqualTo(2);
        assertThat(json.get("command").asText()).isEqualTo("scan");
        assertThat(json.path("error").asText()).contains("hash.workers");
        assertThat(scan.stderr()).contains("hash.workers");
        assertThat(nas.parity).doesNotExist();
    }

    private TestNas badConfig() {
        TestNas nas = new TestNas(tmp);
        nas.file("a.txt", "alpha");
        nas.settings().putObject("hash").put("workers", -1);
        return nas.writeConfig();
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
