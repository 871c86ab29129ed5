package io.custos.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.custos.it.CustosProcess.Result;
import io.custos.it.CustosProcess.Running;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SPEC §5.5: one run at a time per parity root; another one exits 3 naming the holder. */
class RunLockIT {
    private static final int FILES = 2000;

    @TempDir
    Path tmp;

    @Test
    void aSecondScanWhileOneRunsExits3NamingTheHolderAndTheFirstCompletes() {
        // given a scan on host "first-host" that runs for several seconds
        TestNas nas = new TestNas(tmp);
        nas.settings().putObject("hash").put("workers", 1);
        nas.writeConfig();
        nas.sparseTree(FILES, 1 << 20);
        Path lockFile = nas.parity.resolve("_db").resolve("run.lock");
        try (Running first =
                nas.custos("--json", "scan").env("HOSTNAME", "first-host").start()) {
            CustosProcess.await(
                    "the first scan to take the lock",
                    Duration.ofSeconds(30),
                    () -> read(lockFile).contains("first-host") || !first.isAlive());

            // when a second scan starts against the same parity root
            Result second =
                    nas.custos("--json", "scan").env("HOSTNAME", "second-host").run();

            // then it exits 3, names the holder (pid, host, command) and prints its JSON object
            assertThat(first.isAlive())
                    .as("the first scan was still running while the second tried")
                    .isTrue();
            assertThat(second.exitCode()).as(second.describe()).isEqualTo(3);
            assertThat(second.stderr())
                    .contains(String.valueOf(first.pid()))
                    .contains("first-host")
                    .contains("scan");
            JsonNode json = second.json();
            assertThat(json.get("exit_code").asInt()).isEqualTo(3);
            assertThat(json.get("error").asText()).contains(String.valueOf(first.pid()));

            // and the first completes normally, having cataloged everything
            Result done = first.waitFor(CustosProcess.TIMEOUT);
            assertThat(done.exitCode()).as(done.describe()).isZero();
            assertThat(done.json().get("stats").get("files_new").asLong()).isEqualTo(FILES);
        }

        // and the refused run recorded nothing, and the lock is free again
        assertThat(nas.catalog().count("SELECT count(*) FROM runs"))
                .as("runs recorded")
                .isEqualTo(1);
        Result later = nas.custos("scan").run();
        assertThat(later.exitCode()).as(later.describe()).isZero();
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
