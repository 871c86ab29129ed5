package io.custos.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.custos.it.CustosProcess.Result;
import io.custos.it.CustosProcess.Running;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SPEC §4 process: a run lowers its own CPU priority (nice) and I/O class (idle). */
class ProcessPriorityIT {
    @TempDir
    Path tmp;

    @Test
    void theThreadsThatReadFilesRunWithTheConfiguredNiceAndIdleIoClass() throws Exception {
        // given a scan that hashes for a few seconds, with nice 7 and the idle I/O class
        TestNas nas = new TestNas(tmp);
        nas.settings().putObject("hash").put("workers", 1);
        nas.settings().putObject("process").put("nice", 7).put("ionice_idle", true);
        nas.writeConfig();
        nas.sparseTree(2000, 1 << 20);

        try (Running scan = nas.custos("--json", "scan").start()) {
            // when its hashing thread is at work
            List<Path> hashers = new ArrayList<>();
            CustosProcess.await("a hashing thread", Duration.ofSeconds(30), () -> {
                hashers.clear();
                hashers.addAll(threadsNamed(scan.pid(), "custos-hash"));
                return !hashers.isEmpty() || !scan.isAlive();
            });
            assertThat(hashers).as("hashing threads of the running scan").isNotEmpty();

            // then it runs at nice 7 and in the idle I/O class
            for (Path task : hashers) {
                assertThat(nice(task)).as("nice of %s", task).isEqualTo(7);
                String tid = task.getFileName().toString();
                String io = new String(
                                new ProcessBuilder("ionice", "-p", tid)
                                        .redirectErrorStream(true)
                                        .start()
                                        .getInputStream()
                                        .readAllBytes(),
                                StandardCharsets.UTF_8)
                        .trim();
                assertThat(io).as("I/O class of %s", task).isEqualTo("idle");
            }
            Result done = scan.waitFor(CustosProcess.TIMEOUT);
            assertThat(done.exitCode()).as(done.describe()).isZero();
        }
    }

    private static List<Path> threadsNamed(long pid, String prefix) {
        List<Path> out = new ArrayList<>();
        try (var tasks = Files.list(Path.of("/proc", String.valueOf(pid), "task"))) {
            for (Path t : tasks.toList()) {
                try {
                    if (Files.readString(t.resolve("comm")).startsWith(prefix)) {
                        out.add(t);
                    }
                } catch (IOException e) {
                    // the thread ended meanwhile
                }
            }
        } catch (IOException e) {
            // the process ended meanwhile
        }
        return out;
    }

    /** Field 19 of /proc/PID/task/TID/stat (after the command name in parentheses). */
    private static int nice(Path task) throws IOException {
        String stat = Files.readString(task.resolve("stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Integer.parseInt(f[16]);
    }
}
