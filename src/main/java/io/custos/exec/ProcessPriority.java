package io.custos.exec;

import io.custos.config.Config;
import io.custos.run.Log;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Lowers custos' own CPU and I/O priority at the start of a run ({@code process.nice},
 * {@code process.ionice_idle}) so that a NAS stays responsive. Linux keeps both per thread and a
 * new thread inherits its creator's, so every thread that exists now is changed; the walk and hash
 * threads are created later and inherit it. Best effort: a failure is logged, never fatal.
 */
public final class ProcessPriority {
    private ProcessPriority() {}

    public static void apply(Config.Process p, Log log) {
        if (p.nice() <= 0 && !p.ioniceIdle()) {
            return;
        }
        List<String> tids = threads();
        if (tids.isEmpty()) {
            return;
        }
        // One child for both: each process start costs tens of milliseconds of a short run.
        StringBuilder script = new StringBuilder();
        String ids = String.join(" ", tids);
        if (p.nice() > 0) {
            script.append("renice -n ")
                    .append(p.nice())
                    .append(" -p ")
                    .append(ids)
                    .append(" >/dev/null; ");
        }
        if (p.ioniceIdle()) {
            script.append("ionice -c 3 -p ").append(ids).append("; ");
        }
        run(List.of("sh", "-c", script.toString()), log);
    }

    private static List<String> threads() {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/task"))) {
            for (Path p : ds) {
                out.add(p.getFileName().toString());
            }
        } catch (IOException | RuntimeException e) {
            return List.of();
        }
        return out;
    }

    private static void run(List<String> cmd, Log log) {
        try {
            Process proc = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!proc.waitFor(5, TimeUnit.SECONDS)) {
                proc.destroyForcibly();
                log.debug("%s timed out", cmd.get(0));
            } else if (proc.exitValue() != 0) {
                log.debug("%s exited %d", cmd.get(0), proc.exitValue());
            }
        } catch (IOException e) {
            log.debug("%s not available: %s", cmd.get(0), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
