package io.custos.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.fs.Permissions;
import io.custos.fs.RawPaths;
import io.custos.testing.Harness;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PublisherTest {
    private static final List<String> ONE_GENERATION =
            List.of(".state.json", "ABCD.zip", "ABCD.zip.md5", "ABCD.zip.sha256", "metadata.json");
    private static final List<String> TWO_GENERATIONS = List.of(
            ".state.json",
            "ABCD.prev.zip",
            "ABCD.prev.zip.md5",
            "ABCD.prev.zip.sha256",
            "ABCD.zip",
            "ABCD.zip.md5",
            "ABCD.zip.sha256",
            "metadata.json",
            "metadata.prev.json");

    @TempDir
    Path tmp;

    final List<Path> immutable = new ArrayList<>();

    @AfterEach
    void mutableAgain() {
        for (Path p : immutable) {
            Programs.run(tmp, "chattr", "-i", p.toString());
        }
    }

    @Test
    void theFirstPublishWritesTheZipItsSidecarsMetadataAndState() throws Exception {
        Programs.need("sha256sum", "coreutils");
        Publisher publisher = new Publisher(new Permissions(027));
        Path dir = tmp.resolve("target/ABCD");
        // when
        publish(publisher, dir, 1, 2);
        // then
        assertThat(names(dir)).containsExactlyElementsOf(ONE_GENERATION);
        assertThat(Files.readString(dir.resolve("ABCD.zip"))).isEqualTo("zip 1");
        assertThat(Files.readString(dir.resolve("ABCD.zip.sha256")))
                .isEqualTo(hex("SHA-256", "zip 1") + "  ABCD.zip\n");
        assertThat(Files.readString(dir.resolve("metadata.json"))).isEqualTo("{\"generation\":1}");
        assertThat(Files.readString(dir.resolve(".state.json"))).isEqualTo("{\"state\":1}");
        assertSidecarsCheck(dir);
        // and every file and the directory have the mode process.umask gives
        for (String name : ONE_GENERATION) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(name))))
                    .as(name)
                    .isEqualTo("rw-r-----");
        }
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)))
                .isEqualTo("rwxr-x---");
    }

    @Test
    void theSecondPublishMakesTheCurrentGenerationThePreviousOne() throws Exception {
        Programs.need("sha256sum", "coreutils");
        Publisher publisher = new Publisher(new Permissions(022));
        Path dir = tmp.resolve("ABCD");
        publish(publisher, dir, 1, 2);
        // when
        publish(publisher, dir, 2, 2);
        // then the first generation is the previous one, its sidecars naming ABCD.prev.zip
        assertThat(names(dir)).containsExactlyElementsOf(TWO_GENERATIONS);
        assertThat(Files.readString(dir.resolve("ABCD.zip"))).isEqualTo("zip 2");
        assertThat(Files.readString(dir.resolve("ABCD.prev.zip"))).isEqualTo("zip 1");
        assertThat(Files.readString(dir.resolve("ABCD.prev.zip.md5")))
                .isEqualTo(hex("MD5", "zip 1") + "  ABCD.prev.zip\n");
        assertThat(Files.readString(dir.resolve("ABCD.prev.zip.sha256")))
                .isEqualTo(hex("SHA-256", "zip 1") + "  ABCD.prev.zip\n");
        assertThat(Files.readString(dir.resolve("metadata.prev.json"))).isEqualTo("{\"generation\":1}");
        assertThat(Files.readString(dir.resolve("metadata.json"))).isEqualTo("{\"generation\":2}");
        assertThat(Files.readString(dir.resolve(".state.json"))).isEqualTo("{\"state\":2}");
        assertSidecarsCheck(dir);
    }

    @Test
    void theThirdPublishKeepsOnlyTwoGenerations() throws Exception {
        Programs.need("sha256sum", "coreutils");
        Publisher publisher = new Publisher(new Permissions(022));
        Path dir = tmp.resolve("ABCD");
        for (int g = 1; g <= 3; g++) {
            publish(publisher, dir, g, 2);
            assertSidecarsCheck(dir);
        }
        assertThat(names(dir)).containsExactlyElementsOf(TWO_GENERATIONS);
        assertThat(Files.readString(dir.resolve("ABCD.zip"))).isEqualTo("zip 3");
        assertThat(Files.readString(dir.resolve("ABCD.prev.zip"))).isEqualTo("zip 2");
        assertThat(Files.readString(dir.resolve("metadata.prev.json"))).isEqualTo("{\"generation\":2}");
    }

    @Test
    void keepOneKeepsNoPreviousGeneration() throws Exception {
        Programs.need("sha256sum", "coreutils");
        Publisher publisher = new Publisher(new Permissions(022));
        Path dir = tmp.resolve("ABCD");
        publish(publisher, dir, 1, 1);
        publish(publisher, dir, 2, 1);
        assertThat(names(dir)).containsExactlyElementsOf(ONE_GENERATION);
        assertThat(Files.readString(dir.resolve("ABCD.zip"))).isEqualTo("zip 2");
        assertSidecarsCheck(dir);
        // a folder that had two generations loses the previous one when keep becomes 1
        publish(publisher, dir, 3, 2);
        assertThat(names(dir)).containsExactlyElementsOf(TWO_GENERATIONS);
        publish(publisher, dir, 4, 1);
        assertThat(names(dir)).containsExactlyElementsOf(ONE_GENERATION);
        assertThat(Files.readString(dir.resolve("ABCD.zip"))).isEqualTo("zip 4");
        assertSidecarsCheck(dir);
    }

    @Test
    void otherFilesInTheFolderAreLeftAlone() throws Exception {
        Publisher publisher = new Publisher(new Permissions(022));
        Path dir = tmp.resolve("ABCD");
        Harness.write(dir.resolve("README.txt"), "mine");
        publish(publisher, dir, 1, 2);
        publish(publisher, dir, 2, 1);
        assertThat(Files.readString(dir.resolve("README.txt"))).isEqualTo("mine");
    }

    @Test
    void aFailureAtAnyStepRestoresThePreviousStateByteForByte() throws Exception {
        Programs.need("sha256sum", "coreutils");
        Publisher plain = new Publisher(new Permissions(022));
        Path dir = tmp.resolve("ABCD");
        publish(plain, dir, 1, 2);
        publish(plain, dir, 2, 2);
        Map<String, String> before = contents(dir);
        // given the steps of the next publish
        List<String> steps = new ArrayList<>();
        publish(new Publisher(new Permissions(022), steps::add), tmp.resolve("other/ABCD"), 1, 2);
        publish(new Publisher(new Permissions(022), s -> {}), tmp.resolve("other/ABCD"), 2, 2);
        steps.clear();
        publish(new Publisher(new Permissions(022), steps::add), tmp.resolve("other/ABCD"), 3, 2);
        assertThat(steps)
                .startsWith("stage", "journal")
                .contains("sync", "commit", "clean up")
                .anyMatch(s -> s.startsWith("rename ") && s.endsWith(" -> ABCD.prev.zip"));
        int failing = steps.indexOf("clean up");
        // when each step in turn fails, the folder is as it was, without temp files
        for (int i = 0; i < failing; i++) {
            String step = steps.get(i);
            Publisher failsThere = new Publisher(new Permissions(022), atStep(i, () -> new IOException("injected")));
            assertThatThrownBy(() -> publish(failsThere, dir, 3, 2))
                    .as(step)
                    .isInstanceOf(IOException.class)
                    .hasMessage("injected");
            assertThat(contents(dir)).as("after a failure at " + step).isEqualTo(before);
        }
        assertSidecarsCheck(dir);
        // and a failure to delete the old generation's backups after the commit is no failure:
        // the next prepare() deletes them
        publish(
                new Publisher(new Permissions(022), s -> {
                    if (s.equals("clean up")) {
                        throw new IOException("cannot delete");
                    }
                }),
                dir,
                3,
                2);
        assertThat(names(dir)).anyMatch(n -> n.startsWith(Publisher.BAK_PREFIX));
        plain.prepare(dir);
        assertThat(names(dir)).containsExactlyElementsOf(TWO_GENERATIONS);
        assertThat(Files.readString(dir.resolve("ABCD.zip"))).isEqualTo("zip 3");
        assertSidecarsCheck(dir);
    }

    @Test
    void aFailedFirstPublishLeavesAnEmptyFolder() throws Exception {
        Path dir = tmp.resolve("ABCD");
        Publisher failsAtTheLastRename = new Publisher(new Permissions(022), s -> {
            if (s.endsWith("-> .state.json")) {
                throw new IOException("injected");
            }
        });
        assertThatThrownBy(() -> publish(failsAtTheLastRename, dir, 1, 2)).hasMessage("injected");
        assertThat(names(dir)).isEmpty();
    }

    @Test
    void anImmutableFileFailsThePublishMidWayAndTheStateIsRestored() throws Exception {
        Requirements.root("chattr +i");
        Programs.need("chattr", "e2fsprogs");
        Publisher publisher = new Publisher(new Permissions(022));
        Path dir = tmp.resolve("ABCD");
        publish(publisher, dir, 1, 2);
        publish(publisher, dir, 2, 2);
        Map<String, String> before = contents(dir);
        // given metadata.prev.json cannot be renamed (the renames of the older files come first)
        Path locked = dir.resolve("metadata.prev.json");
        Programs.ok(tmp, "chattr", "+i", locked.toString());
        immutable.add(locked);
        // when
        assertThatThrownBy(() -> publish(publisher, dir, 3, 2))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("metadata.prev.json");
        // then
        assertThat(contents(dir)).isEqualTo(before);
        Programs.ok(tmp, "chattr", "-i", locked.toString());
        immutable.clear();
        publish(publisher, dir, 3, 2);
        assertThat(Files.readString(dir.resolve("ABCD.prev.zip"))).isEqualTo("zip 2");
    }

    @Test
    void aCrashMidPublishIsUndoneByTheNextPrepare() throws Exception {
        Programs.need("sha256sum", "coreutils");
        Path dir = tmp.resolve("ABCD");
        Publisher plain = new Publisher(new Permissions(022));
        publish(plain, dir, 1, 2);
        publish(plain, dir, 2, 2);
        Map<String, String> before = contents(dir);
        List<String> steps = new ArrayList<>();
        publish(new Publisher(new Permissions(022), steps::add), tmp.resolve("other/ABCD"), 1, 2);
        publish(plain, tmp.resolve("other/ABCD"), 2, 2);
        steps.clear();
        publish(new Publisher(new Permissions(022), steps::add), tmp.resolve("other/ABCD"), 3, 2);
        int commit = steps.indexOf("commit");
        for (int i = 0; i <= commit; i++) {
            String step = steps.get(i);
            // given the process dies at this step (no undo in process: the journal is all there is)
            Publisher dies = new Publisher(new Permissions(022), atStep(i, Crash::new));
            assertThatThrownBy(() -> publish(dies, dir, 3, 2)).isInstanceOf(Crash.class);
            // when the next run prepares the folder
            plain.prepare(dir);
            // then it is as before
            assertThat(contents(dir)).as("after a crash at " + step).isEqualTo(before);
        }
        // a crash after the commit leaves the new state, and prepare() only removes the leftovers
        Publisher diesAfterCommit = new Publisher(new Permissions(022), s -> {
            if (s.equals("clean up")) {
                throw new Crash();
            }
        });
        assertThatThrownBy(() -> publish(diesAfterCommit, dir, 3, 2)).isInstanceOf(Crash.class);
        plain.prepare(dir);
        assertThat(names(dir)).containsExactlyElementsOf(TWO_GENERATIONS);
        assertThat(Files.readString(dir.resolve("ABCD.zip"))).isEqualTo("zip 3");
        assertSidecarsCheck(dir);
    }

    @Test
    void theCurrentSidecarMissingIsRecomputedForThePreviousGeneration() throws Exception {
        Programs.need("sha256sum", "coreutils");
        Publisher publisher = new Publisher(new Permissions(022));
        Path dir = tmp.resolve("ABCD");
        publish(publisher, dir, 1, 2);
        Files.delete(dir.resolve("ABCD.zip.md5"));
        Files.writeString(dir.resolve("ABCD.zip.sha256"), "garbage\n");
        publish(publisher, dir, 2, 2);
        assertThat(Files.readString(dir.resolve("ABCD.prev.zip.md5")))
                .isEqualTo(hex("MD5", "zip 1") + "  ABCD.prev.zip\n");
        assertSidecarsCheck(dir);
    }

    @Test
    void sidecarsOfOddNamesPassTheCheck() throws Exception {
        Programs.need("sha256sum", "coreutils");
        Publisher publisher = new Publisher(new Permissions(022));
        for (String name : List.of("My Photos", "back\\slash", "été")) {
            Path dir = tmp.resolve("t").resolve(name);
            publish(publisher, dir, 1, 2);
            publish(publisher, dir, 2, 2);
            assertThat(Files.exists(dir.resolve(name + ".prev.zip"))).isTrue();
            assertSidecarsCheck(dir);
        }
        assertThat(new String(Publisher.sidecar("ab", RawPaths.path("x/a\\b\nc.zip")), StandardCharsets.ISO_8859_1))
                .isEqualTo("\\ab  a\\\\b\\nc.zip\n");
    }

    @Test
    void prepareRemovesLeftoverTempFiles() throws Exception {
        Publisher publisher = new Publisher(new Permissions(022));
        Path dir = tmp.resolve("ABCD");
        publish(publisher, dir, 1, 2);
        Harness.write(publisher.stagingZip(dir), "half a zip");
        Harness.write(dir.resolve(Publisher.BAK_PREFIX + "1-2-ABCD.zip"), "old");
        publisher.prepare(dir);
        assertThat(names(dir)).containsExactlyElementsOf(ONE_GENERATION);
    }

    // --- helpers

    /** A hook that throws at its {@code index}-th call (steps are named after temp files, which differ per publish). */
    private static Publisher.StepHook atStep(int index, java.util.function.Supplier<Throwable> failure) {
        int[] calls = {0};
        return s -> {
            if (calls[0]++ == index) {
                Throwable t = failure.get();
                if (t instanceof IOException io) {
                    throw io;
                }
                throw (Error) t;
            }
        };
    }

    /** A simulated process death: an Error, which publish() does not catch. */
    private static final class Crash extends Error {
        private static final long serialVersionUID = 1L;
    }

    /** Publishes generation {@code g}: a "zip" whose content is {@code zip <g>}, with its metadata and state. */
    private static void publish(Publisher publisher, Path dir, int g, int keep) throws Exception {
        publisher.prepare(dir);
        Path staged = publisher.stagingZip(dir);
        Files.writeString(staged, "zip " + g);
        publisher.publish(
                dir,
                new Publisher.Generation(
                        staged,
                        hex("MD5", "zip " + g),
                        hex("SHA-256", "zip " + g),
                        ("{\"generation\":" + g + "}").getBytes(StandardCharsets.UTF_8),
                        ("{\"state\":" + g + "}").getBytes(StandardCharsets.UTF_8)),
                keep);
    }

    /** md5sum -c and sha256sum -c pass on every sidecar in the folder, run in the folder. */
    private static void assertSidecarsCheck(Path dir) throws IOException {
        List<String> sidecars = names(dir).stream()
                .filter(n -> n.endsWith(".md5") || n.endsWith(".sha256"))
                .toList();
        assertThat(sidecars).isNotEmpty();
        for (String s : sidecars) {
            String program = s.endsWith(".md5") ? "md5sum" : "sha256sum";
            Programs.Run r = Programs.run(dir, program, "-c", "--strict", s);
            assertThat(r.exit()).as(program + " -c " + s + ": " + r).isZero();
            assertThat(r.text()).contains(": OK");
        }
    }

    private static List<String> names(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** Every entry of the folder with its content and mode: what "byte for byte" compares. */
    private static Map<String, String> contents(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                out.put(
                        p.getFileName().toString(),
                        hex("SHA-256", Files.readString(p)) + " "
                                + PosixFilePermissions.toString(
                                        Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS))
                                + " " + Files.getLastModifiedTime(p));
            }
        }
        return out;
    }

    private static String hex(String algorithm, String content) {
        try {
            return HexFormat.of()
                    .formatHex(MessageDigest.getInstance(algorithm).digest(content.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
