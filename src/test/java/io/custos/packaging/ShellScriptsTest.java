package io.custos.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.custos.exec.ExternalProcess;
import io.custos.run.CancelToken;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The shell parts of the packaging: the Docker entry point, healthcheck and wrapper pass their
 * shell test (src/test/shell/docker_test.sh, which stubs cron, custos and java), and every shell
 * script in the repository is clean under shellcheck.
 */
class ShellScriptsTest {
    private static final Path REPO = Path.of("").toAbsolutePath();

    @Test
    void dockerEntryPointHealthcheckAndWrapperPassTheirShellTest() throws IOException {
        // given the shell test of docker/*, with stub cron, custos, setpriv and java first on PATH
        Path test = REPO.resolve("src/test/shell/docker_test.sh");

        // when it runs
        ExternalProcess.Outcome r = ExternalProcess.run(
                List.of(ExternalProcess.arg("bash"), ExternalProcess.arg(test)),
                Duration.ofMinutes(2),
                new CancelToken());

        // then every check passed, and there were checks
        assertThat(r.exitCode()).as(r.output()).isZero();
        assertThat(r.output())
                .as(r.output())
                .containsPattern("docker_test: [1-9][0-9]* passed, 0 failed")
                .doesNotContain("not ok");
    }

    @Test
    void everyShellScriptInTheRepositoryIsShellcheckClean() throws IOException {
        // given shellcheck and every shell script of the repository (by .sh name or a sh/bash #! line)
        Path shellcheck = Requirements.shellcheck();
        List<Path> scripts = shellScripts();
        assertThat(scripts)
                .contains(
                        REPO.resolve("scripts/custos"),
                        REPO.resolve("scripts/test"),
                        REPO.resolve(".ci/run"),
                        REPO.resolve("docker/entrypoint.sh"),
                        REPO.resolve("docker/healthcheck.sh"),
                        REPO.resolve("docker/schedule.sh"),
                        REPO.resolve("docker/custos"),
                        REPO.resolve("src/test/shell/docker_test.sh"));

        // when shellcheck reads them all
        List<byte[]> argv = new ArrayList<>();
        argv.add(ExternalProcess.arg(shellcheck));
        for (Path p : scripts) {
            argv.add(ExternalProcess.arg(REPO.relativize(p).toString()));
        }
        ExternalProcess.Outcome r = ExternalProcess.run(argv, Duration.ofMinutes(2), new CancelToken());

        // then it finds nothing to say
        assertThat(r.output()).as("shellcheck " + scripts).isEmpty();
        assertThat(r.exitCode()).isZero();
    }

    /** Files outside .git and target/ named *.sh or starting with a #! line that runs sh or bash. */
    private static List<Path> shellScripts() throws IOException {
        try (Stream<Path> files = Files.walk(REPO)) {
            return files.filter(p -> !REPO.relativize(p).startsWith(".git"))
                    .filter(p -> !REPO.relativize(p).startsWith("target"))
                    .filter(Files::isRegularFile)
                    .filter(ShellScriptsTest::isShellScript)
                    .sorted()
                    .toList();
        }
    }

    private static boolean isShellScript(Path p) {
        if (p.getFileName().toString().endsWith(".sh")) {
            return true;
        }
        byte[] head = new byte[80];
        int n;
        try (InputStream in = Files.newInputStream(p)) {
            n = in.readNBytes(head, 0, head.length);
        } catch (IOException e) {
            return false;
        }
        String first = new String(head, 0, n, StandardCharsets.ISO_8859_1).split("\n", 2)[0];
        return first.matches("#!\\s*/(usr/)?bin/(env\\s+)?(ba)?sh(\\s.*)?");
    }
}
