package io.custos.archive;

import io.custos.exec.ExternalProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** The real programs the archive tests check against: unzip, md5sum, sha256sum, python3. */
final class Programs {
    private Programs() {}

    /** What a program printed (stdout and stderr merged) and how it exited. */
    record Run(int exit, byte[] output) {
        String text() {
            return new String(output, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "exit " + exit + ": " + text();
        }
    }

    /** Skips the test when {@code program} is missing, except under CI=true, where it fails. */
    static void need(String program, String debianPackage) {
        if (ExternalProcess.find(program, System.getenv()) != null) {
            return;
        }
        String msg = "this test needs " + program + " on PATH (Debian: apt-get install " + debianPackage + ")";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(msg + " (CI=true: required, not skipped)");
        }
        Assumptions.abort(msg);
    }

    /** Runs {@code cmd} in {@code dir}. */
    static Run run(Path dir, String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            return new Run(p.waitFor(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Runs {@code cmd} in {@code dir} and fails the test unless it exits 0. */
    static Run ok(Path dir, String... cmd) {
        Run r = run(dir, cmd);
        if (r.exit() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + r);
        }
        return r;
    }
}
