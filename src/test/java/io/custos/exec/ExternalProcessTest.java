package io.custos.exec;

import static io.custos.exec.ExternalProcess.arg;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.fs.RawPaths;
import io.custos.run.CancelToken;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExternalProcessTest {
    private static final Duration LONG = Duration.ofSeconds(20);

    /** Every byte the shell decoder has to get right: not UTF-8, quotes, $, backslash, trailing newlines. */
    private static final byte[] AWKWARD = {
        'a',
        (byte) 0xff,
        ' ',
        '"',
        '\'',
        '$',
        'H',
        'O',
        'M',
        'E',
        '\\',
        '0',
        '1',
        '0',
        '1',
        '%',
        's',
        '*',
        '\t',
        '\n',
        '\n'
    };

    @TempDir
    Path tmp;

    @Test
    void argumentBytesReachTheProgramExactly() throws Exception {
        // given an argument no String could carry, and one that is printable but full of shell syntax
        byte[] printable = "a b \"c\" 'd' $HOME \\0101 %s `x` ;".getBytes(StandardCharsets.US_ASCII);
        for (byte[] value : List.of(AWKWARD, printable, new byte[0])) {
            Path out = tmp.resolve("out");
            // when a program writes its first argument back
            ExternalProcess.Outcome o = ExternalProcess.run(
                    List.of(arg("sh"), arg("-c"), arg("printf %s \"$1\" > \"$2\""), arg("sh"), value, arg(out)),
                    LONG,
                    new CancelToken());
            // then it got exactly those bytes
            assertThat(o.ok()).as(o.output()).isTrue();
            assertThat(Files.readAllBytes(out)).isEqualTo(value);
        }
    }

    @Test
    void fileNamesThatAreNotUtf8CanBeCopied() throws Exception {
        // given a file whose name has a 0xff byte and ends in a newline
        Path source = RawPaths.resolve(tmp, AWKWARD);
        Files.writeString(source, "content");
        byte[] copyName = {'c', (byte) 0xfe, '\n'};
        Path copy = RawPaths.resolve(tmp, copyName);
        // when cp gets both names as path arguments
        ExternalProcess.Outcome o =
                ExternalProcess.run(List.of(arg("cp"), arg(source), arg(copy)), LONG, new CancelToken());
        // then the copy exists under exactly that name
        assertThat(o.ok()).as(o.output()).isTrue();
        assertThat(Files.readString(copy)).isEqualTo("content");
        try (var names = Files.list(tmp)) {
            assertThat(names.map(p -> RawPaths.bytes(p.getFileName())))
                    .anySatisfy(n -> assertThat(n).isEqualTo(copyName));
        }
    }

    @Test
    void exitCodesPassThrough() throws Exception {
        ExternalProcess.Outcome seven = sh("exit 7");
        assertThat(seven.exitCode()).isEqualTo(7);
        assertThat(seven.ok()).isFalse();
        assertThat(seven.timedOut()).isFalse();
        assertThat(seven.cancelled()).isFalse();

        ExternalProcess.Outcome zero = sh("true");
        assertThat(zero.exitCode()).isZero();
        assertThat(zero.ok()).isTrue();
    }

    @Test
    void aTimeoutKillsTheProgramAndItsChildren() throws Exception {
        // given a shell that starts a grandchild and waits for it
        Path pids = tmp.resolve("pids");
        String script = "sleep 30 & echo $$ $! > " + pids + "; wait";
        // when it runs out of time
        ExternalProcess.Outcome o = ExternalProcess.run(
                List.of(arg("sh"), arg("-c"), arg(script)), Duration.ofMillis(300), new CancelToken());
        // then it comes back soon, marked timed out, and neither process is left running
        assertThat(o.timedOut()).isTrue();
        assertThat(o.cancelled()).isFalse();
        assertThat(o.exitCode()).isEqualTo(-1);
        assertThat(o.ok()).isFalse();
        assertThat(o.millis()).isBetween(250L, 2000L);
        for (String pid : Files.readString(pids).trim().split(" ")) {
            assertThat(running(Long.parseLong(pid))).as("process %s", pid).isFalse();
        }
    }

    @Test
    void aCancelledTokenStopsTheProgram() throws Exception {
        // given a long program and a token that is cancelled after 200 ms
        CancelToken cancel = new CancelToken();
        ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
        try {
            timer.schedule(cancel::cancel, 200, TimeUnit.MILLISECONDS);
            // when it runs
            ExternalProcess.Outcome o = ExternalProcess.run(List.of(arg("sleep"), arg("30")), LONG, cancel);
            // then it stops soon after the cancel
            assertThat(o.cancelled()).isTrue();
            assertThat(o.timedOut()).isFalse();
            assertThat(o.exitCode()).isEqualTo(-1);
            assertThat(o.millis()).isLessThan(2000L);
        } finally {
            timer.shutdownNow();
        }
    }

    @Test
    void outputIsMergedAndKeepsItsLastLine() throws Exception {
        ExternalProcess.Outcome o = sh("echo first; echo second >&2; printf '\\377 last line \\n\\n'");
        assertThat(o.output()).isEqualTo("first\nsecond\n\uFFFD last line \n\n");
        assertThat(o.lastLine()).isEqualTo("\uFFFD last line");
        assertThat(sh("true").lastLine()).isEmpty();
    }

    @Test
    void aChattyProgramNeverBlocksAndOnlyTheTailIsKept() throws Exception {
        // given a program that writes 20 MB to stdout and then a marker to stderr
        ExternalProcess.Outcome o = sh("head -c 20000000 /dev/zero | tr '\\0' a; printf END >&2");
        // then it finishes, and the output is the last 16 KiB
        assertThat(o.ok()).isTrue();
        assertThat(o.output()).hasSize(16 * 1024).endsWith("aaaEND");
    }

    @Test
    void aMissingProgramCannotBeStarted() {
        assertThatThrownBy(() -> ExternalProcess.run(List.of(arg("custos-no-such-program")), LONG, new CancelToken()))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("custos-no-such-program");
        assertThatThrownBy(() -> ExternalProcess.run(List.of(arg(tmp.resolve("nothing"))), LONG, new CancelToken()))
                .isInstanceOf(IOException.class);
    }

    @Test
    void findLooksOnThePathAndAtPaths() throws Exception {
        // given a directory with an executable and a plain file
        Path bin = Files.createDirectory(tmp.resolve("bin"));
        Path tool = Files.writeString(bin.resolve("tool"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path plain = Files.writeString(bin.resolve("plain"), "data");
        Files.setPosixFilePermissions(plain, PosixFilePermissions.fromString("rw-r--r--"));
        Map<String, String> env = new HashMap<>();
        env.put("PATH", "/nonexistent::" + bin);

        assertThat(ExternalProcess.find("tool", env)).isEqualTo(tool);
        assertThat(ExternalProcess.find(tool.toString(), Map.of())).isEqualTo(tool);
        assertThat(ExternalProcess.find("plain", env)).isNull();
        assertThat(ExternalProcess.find(plain.toString(), Map.of())).isNull();
        assertThat(ExternalProcess.find("missing", env)).isNull();
        assertThat(ExternalProcess.find(bin.toString(), Map.of()))
                .as("a directory")
                .isNull();
        // with no PATH the standard one applies
        assertThat(ExternalProcess.find("sh", Map.of())).isNotNull();
        env.put("PATH", "");
        assertThat(ExternalProcess.find("sh", env)).isNotNull();
    }

    private static ExternalProcess.Outcome sh(String script) throws IOException {
        return ExternalProcess.run(List.of(arg("sh"), arg("-c"), arg(script)), LONG, new CancelToken());
    }

    /** A killed orphan stays a zombie where init does not reap (as in some containers): that is not running. */
    private static boolean running(long pid) throws IOException {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (!Files.exists(stat)) {
            return false;
        }
        String s = Files.readString(stat, StandardCharsets.ISO_8859_1);
        return s.charAt(s.lastIndexOf(')') + 2) != 'Z';
    }
}
