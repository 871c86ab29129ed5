package io.custos.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.run.CancelToken;
import io.custos.run.Log;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What OpenZFS (TrueNAS) prints and zfs-fuse cannot: {@code zfs diff}, {@code .zfs/snapshot}.
 * Recorded output in the formats of OpenZFS 2.x ({@code lib/libzfs/libzfs_diff.c}) and of the
 * older three-digit escapes; the snapshot-directory route runs against a stand-in {@code zfs}.
 */
class ZfsParseTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final Instant T0 = Instant.parse("2025-01-01T12:00:00Z");

    @TempDir
    Path tmp;

    // ---- zfs diff -H -F ----

    /** {@code zfs diff -H -F tank/media/photos@auto-zip-20250101120000 tank/media/photos}, OpenZFS 2.2. */
    private static final String DIFF = String.join(
            "\n",
            "M\t/\t/mnt/tank/media/photos/2024/",
            "M\tF\t/mnt/tank/media/photos/2024/A001/IMG_0001.JPG",
            "+\tF\t/mnt/tank/media/photos/2024/A001/IMG\\0040copy.JPG",
            "-\tF\t/mnt/tank/media/photos/2024/A002/old.txt",
            "R\tF\t/mnt/tank/media/photos/2024/A002/a.jpg\t/mnt/tank/media/photos/2024/A003/a.jpg",
            "R\t/\t/mnt/tank/media/photos/2024/Old\\0040Name\t/mnt/tank/media/photos/2024/New\\0040Name",
            "+\tF\t/mnt/tank/media/photos/2024/A001/caf\\0303\\0251.jpg",
            "+\tF\t/mnt/tank/media/photos/2024/A001/back\\0134slash\\0011tab.txt",
            "+\tF\t/mnt/tank/media/photos/2024/A001/latin1-\\0351.txt",
            "+\t@\t/mnt/tank/media/photos/2024/A001/link",
            "M\tF\t/mnt/tank/media/photos/2024/A001/hard.jpg\t(+1)",
            "-\t|\t/mnt/tank/media/photos/2024/fifo",
            "");

    @Test
    void diffLinesOfEveryKindParse() throws Exception {
        List<Zfs.Change> changes = Zfs.parseDiff(stream(DIFF));
        assertThat(changes)
                .containsExactly(
                        change('M', '/', "/mnt/tank/media/photos/2024/", null),
                        change('M', 'F', "/mnt/tank/media/photos/2024/A001/IMG_0001.JPG", null),
                        change('+', 'F', "/mnt/tank/media/photos/2024/A001/IMG copy.JPG", null),
                        change('-', 'F', "/mnt/tank/media/photos/2024/A002/old.txt", null),
                        change(
                                'R',
                                'F',
                                "/mnt/tank/media/photos/2024/A002/a.jpg",
                                "/mnt/tank/media/photos/2024/A003/a.jpg"),
                        change(
                                'R',
                                '/',
                                "/mnt/tank/media/photos/2024/Old Name",
                                "/mnt/tank/media/photos/2024/New Name"),
                        change('+', 'F', "/mnt/tank/media/photos/2024/A001/café.jpg", null),
                        change('+', 'F', "/mnt/tank/media/photos/2024/A001/back\\slash\ttab.txt", null),
                        new Zfs.Change(
                                '+', 'F', latin1Name("/mnt/tank/media/photos/2024/A001/latin1-", 0xe9, ".txt"), null),
                        change('+', '@', "/mnt/tank/media/photos/2024/A001/link", null),
                        change('M', 'F', "/mnt/tank/media/photos/2024/A001/hard.jpg", null),
                        change('-', '|', "/mnt/tank/media/photos/2024/fifo", null));
    }

    @Test
    void theOlderThreeDigitEscapesParseToo() throws Exception {
        // ZFS on Linux 0.7/0.8 and illumos wrote \040 where OpenZFS 2 writes \0040
        String old = "+\tF\t/tank/photos\\0402024/a\\040b\n+\tF\t/tank/x\\0401\n+\tF\t/tank/\\303\\251\n";
        assertThat(Zfs.parseDiff(stream(old)))
                .containsExactly(
                        change('+', 'F', "/tank/photos 2024/a b", null),
                        change('+', 'F', "/tank/x 1", null),
                        change('+', 'F', "/tank/é", null));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "X\tF\t/tank/a",
                "M\tF\trelative/path",
                "R\tF\t/tank/renamed-without-new-name",
                "M\tF\t/tank/a\tjunk",
                "+\tF\t/tank/a\t/tank/b",
                "M\tF",
                "M\tQ\t/tank/a",
                "M F /tank/a"
            })
    void aLineOfAnyOtherShapeIsAnError(String line) {
        assertThatThrownBy(() -> Zfs.parseDiff(stream(line + "\n")))
                .isInstanceOf(ZfsException.class)
                .hasMessageContaining("zfs diff");
    }

    @Test
    void noOutputIsNoChange() throws Exception {
        assertThat(Zfs.parseDiff(stream(""))).isEmpty();
    }

    @Test
    void zfsFuseAnswerMeansDiffIsMissing() {
        assertThat(Zfs.unsupported("unrecognized command 'diff'\nusage: zfs command args ...\n"))
                .isTrue();
        assertThat(Zfs.unsupported("cannot open 'tank/x@y': dataset does not exist"))
                .isFalse();
    }

    // ---- zfs list / zfs get ----

    /** {@code zfs list -H -t filesystem -o name,mountpoint,mounted} on TrueNAS SCALE. */
    private static final String FILESYSTEMS = String.join(
            "\n",
            "boot-pool\tnone\tno",
            "boot-pool/ROOT/24.04.2\tlegacy\tyes",
            "tank\t/mnt/tank\tyes",
            "tank/.system\tlegacy\tyes",
            "tank/backup\t/mnt/tank/backup\tno",
            "tank/media\t/mnt/tank/media\tyes",
            "tank/media/photos\t/mnt/tank/media/photos\tyes",
            "tank/media/photos 2024\t/mnt/tank/media/photos 2024\tyes",
            "tankX\t/mnt/tankX\tyes",
            "");

    @Test
    void mountedFilesystemsParse() throws Exception {
        assertThat(Zfs.parseFilesystems(bytes(FILESYSTEMS)))
                .containsExactly(
                        new Zfs.Dataset("tank", Path.of("/mnt/tank")),
                        new Zfs.Dataset("tank/media", Path.of("/mnt/tank/media")),
                        new Zfs.Dataset("tank/media/photos", Path.of("/mnt/tank/media/photos")),
                        new Zfs.Dataset("tank/media/photos 2024", Path.of("/mnt/tank/media/photos 2024")),
                        new Zfs.Dataset("tankX", Path.of("/mnt/tankX")));
    }

    @Test
    void theLongestMountpointAboveAPathIsItsDataset() throws Exception {
        List<Zfs.Dataset> fs = Zfs.parseFilesystems(bytes(FILESYSTEMS));
        assertThat(Zfs.containing(fs, Path.of("/mnt/tank/media/photos/2024/A001"))
                        .name())
                .isEqualTo("tank/media/photos");
        assertThat(Zfs.containing(fs, Path.of("/mnt/tank/media/photos")).name()).isEqualTo("tank/media/photos");
        assertThat(Zfs.containing(fs, Path.of("/mnt/tank/media/photos 2024/x")).name())
                .isEqualTo("tank/media/photos 2024");
        // a prefix counts by whole names, and a dataset that is not mounted holds nothing
        assertThat(Zfs.containing(fs, Path.of("/mnt/tank/mediaX")).name()).isEqualTo("tank");
        assertThat(Zfs.containing(fs, Path.of("/mnt/tank/backup/x")).name()).isEqualTo("tank");
        assertThat(Zfs.containing(fs, Path.of("/mnt/tankX/y")).name()).isEqualTo("tankX");
        assertThat(Zfs.containing(fs, Path.of("/srv/data"))).isNull();
    }

    /**
     * {@code zfs get -H -p -r -d 1 -o name,property,value creation,createtxg tank/media/photos}: the
     * dataset, a child, a bookmark, a periodic-task snapshot and custos's, in name order.
     */
    private static final String SNAPSHOTS = String.join(
            "\n",
            "tank/media/photos\tcreation\t1700000000",
            "tank/media/photos\tcreatetxg\t120",
            "tank/media/photos#nightly\tcreation\t1735000000",
            "tank/media/photos#nightly\tcreatetxg\t4000",
            "tank/media/photos/2024\tcreation\t1704067200",
            "tank/media/photos/2024\tcreatetxg\t900",
            "tank/media/photos@auto-2025-01-01_00-00\tcreation\t1735689600",
            "tank/media/photos@auto-2025-01-01_00-00\tcreatetxg\t5000",
            "tank/media/photos@auto-zip-20250101120000\tcreation\t1735732800",
            "tank/media/photos@auto-zip-20250101120000\tcreatetxg\t5100",
            "tank/media/photos@auto-zip-20250102120000\tcreation\t1735819200",
            "tank/media/photos@auto-zip-20250102120000\tcreatetxg\t5300",
            "tank/media/photos@before-upgrade\tcreation\t1735800000",
            "tank/media/photos@before-upgrade\tcreatetxg\t5200",
            "");

    @Test
    void snapshotsOfTheDatasetParseInTheOrderTheyWereMade() throws Exception {
        assertThat(Zfs.parseSnapshots("tank/media/photos", bytes(SNAPSHOTS)))
                .containsExactly(
                        new Zfs.Snapshot(
                                "tank/media/photos@auto-2025-01-01_00-00", "auto-2025-01-01_00-00", 1735689600L),
                        new Zfs.Snapshot(
                                "tank/media/photos@auto-zip-20250101120000", "auto-zip-20250101120000", 1735732800L),
                        new Zfs.Snapshot("tank/media/photos@before-upgrade", "before-upgrade", 1735800000L),
                        new Zfs.Snapshot(
                                "tank/media/photos@auto-zip-20250102120000", "auto-zip-20250102120000", 1735819200L));
    }

    @Test
    void aSnapshotWithoutItsNumbersIsAnError() {
        assertThatThrownBy(() -> Zfs.parseSnapshots("tank/a", bytes("tank/a@s\tcreation\t1700000000\n")))
                .isInstanceOf(ZfsException.class)
                .hasMessageContaining("createtxg");
        assertThatThrownBy(() -> Zfs.parseSnapshots("tank/a", bytes("tank/a@s\tcreation\tSun Nov 22  9:18 2026\n")))
                .isInstanceOf(ZfsException.class)
                .hasMessageContaining("creation");
    }

    // ---- .zfs/snapshot ----

    @Test
    void theSnapshotDirectoryIsFoundUnderTheMountpoint() throws Exception {
        // given a TrueNAS-like dataset mounted at <tmp>/mnt/tank/media/photos with one snapshot
        Path mount = Files.createDirectories(tmp.resolve("mnt/tank/media/photos"));
        Path snapdir = Files.createDirectories(mount.resolve(".zfs/snapshot/auto-zip-20250101120000"));
        Files.createDirectories(snapdir.resolve("2024/A001"));
        Zfs.Dataset photos = new Zfs.Dataset("tank/media/photos", mount);
        // then the snapshot's directory is found, and the source's place inside it
        assertThat(Zfs.snapshotDir(photos, "auto-zip-20250101120000")).isEqualTo(snapdir);
        assertThat(ZfsSnapshots.sourceIn(snapdir, photos, mount.resolve("2024/A001")))
                .isEqualTo(snapdir.resolve("2024/A001"))
                .isDirectory();
        assertThat(ZfsSnapshots.sourceIn(snapdir, photos, mount)).isEqualTo(snapdir);
        // and a snapshot that has no directory has none
        assertThat(Zfs.snapshotDir(photos, "auto-zip-20250102120000")).isNull();
        assertThatThrownBy(() -> Zfs.snapshotDir(photos, "..")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void onTrueNasTheViewIsInTheSnapshotDirectoryAndNoCloneIsMade() throws Exception {
        // given a stand-in zfs that keeps snapshots in a file and shows them under .zfs/snapshot
        Path mount = Files.createDirectories(tmp.resolve("mnt/photos"));
        Path source = Files.createDirectories(mount.resolve("src/A001"));
        Files.writeString(source.resolve("one.jpg"), "one");
        Path calls = tmp.resolve("calls");
        Zfs zfs = new Zfs(trueNasZfs(mount, calls), TIMEOUT, TIMEOUT, new CancelToken());
        Zfs.Dataset dataset = new Zfs.Dataset("tank/photos", mount);
        ZfsSnapshots first = snapshots(zfs, dataset, mount.resolve("src"), 1);
        // when a run opens its view
        try (ZfsSnapshots.View view = first.open()) {
            // then it reads from .zfs/snapshot/<name>/<subpath>, without a clone
            assertThat(view.dir()).isEqualTo(mount.resolve(".zfs/snapshot/auto-zip-20250101120000/src"));
            assertThat(view.dir().resolve("A001/one.jpg")).hasContent("one");
            assertThat(view.cloneName()).isNull();
        }
        // and a second run in the same second names its snapshot a second later and prunes the first
        ZfsSnapshots second = snapshots(zfs, dataset, mount.resolve("src"), 1);
        try (ZfsSnapshots.View view = second.open()) {
            assertThat(view.snapshot().shortName()).isEqualTo("auto-zip-20250101120001");
            assertThat(second.previous().shortName()).isEqualTo("auto-zip-20250101120000");
        }
        assertThat(second.prune().destroyed())
                .extracting(Zfs.Snapshot::fullName)
                .containsExactly("tank/photos@auto-zip-20250101120000");
        assertThat(Files.readAllLines(calls))
                .noneMatch(c -> c.startsWith("clone"))
                .contains("snapshot tank/photos@auto-zip-20250101120000")
                .contains("snapshot tank/photos@auto-zip-20250101120001")
                .contains("destroy tank/photos@auto-zip-20250101120000");
    }

    @Test
    void aLargeDiffIsReadWholeAndStderrStaysOutOfIt() throws Exception {
        // given a stand-in zfs whose diff prints 5,000 lines (far past the 16 KiB kept of messages)
        Path mount = Files.createDirectories(tmp.resolve("mnt/photos"));
        Zfs zfs = new Zfs(trueNasZfs(mount, tmp.resolve("calls")), TIMEOUT, TIMEOUT, new CancelToken());
        // when the diff is read
        List<Zfs.Change> changes = zfs.diff("tank/photos@a", "tank/photos");
        // then every line is there, and the warning on stderr is not
        assertThat(changes).hasSize(5000);
        assertThat(changes.get(4999)).isEqualTo(change('+', 'F', mount + "/new file 4999", null));
    }

    /**
     * A {@code zfs} that answers like TrueNAS's for one pool {@code tank} with the dataset
     * {@code tank/photos} mounted on {@code mount}: snapshots are lines in a state file, and each
     * is a copy of the live {@code src} under {@code .zfs/snapshot}. Every call is logged to
     * {@code calls}.
     */
    private Path trueNasZfs(Path mount, Path calls) throws Exception {
        Path state = tmp.resolve("state");
        Files.writeString(state, "");
        String script = String.join(
                "\n",
                "#!/bin/bash",
                "state='" + state + "'; mnt='" + mount + "'",
                "echo \"$*\" >> '" + calls + "'",
                "case \"$1\" in",
                "  list) printf 'tank\\t%s\\tyes\\ntank/photos\\t%s\\tyes\\n' \"${mnt%/*}\" \"$mnt\" ;;",
                "  get)",
                "    if [[ \" $* \" == *\" origin \"* ]]; then printf 'tank\\t-\\ntank/photos\\t-\\n'; exit 0; fi",
                "    printf 'tank/photos\\tcreation\\t1700000000\\ntank/photos\\tcreatetxg\\t1\\n'; cat \"$state\" ;;",
                "  snapshot)",
                "    if grep -q \"^$2\t\" \"$state\"; then",
                "      echo \"cannot create snapshot '$2': dataset already exists\" >&2; exit 1; fi",
                "    n=$(( $(wc -l < \"$state\") + 100 ))",
                "    printf '%s\\tcreation\\t1735732800\\n%s\\tcreatetxg\\t%s\\n' \"$2\" \"$2\" \"$n\" >> \"$state\"",
                "    mkdir -p \"$mnt/.zfs/snapshot/${2#*@}\" && cp -a \"$mnt/src\" \"$mnt/.zfs/snapshot/${2#*@}/\" ;;",
                "  destroy)",
                "    grep -v \"^$2\t\" \"$state\" > \"$state.new\"; mv \"$state.new\" \"$state\"",
                "    rm -rf \"$mnt/.zfs/snapshot/${2#*@}\" ;;",
                "  diff)",
                "    echo 'warning: this goes to stderr' >&2",
                "    m=$(printf '%s' \"$mnt\" | sed 's/ /\\\\0040/g')",
                "    for i in $(seq 0 4999); do printf '+\\tF\\t%s/new\\\\0040file\\\\0040%d\\n' \"$m\" \"$i\"; done ;;",
                "  *) echo \"unrecognized command '$1'\" >&2; exit 2 ;;",
                "esac",
                "");
        Path zfs = tmp.resolve("zfs");
        Files.writeString(zfs, script);
        Files.setPosixFilePermissions(zfs, PosixFilePermissions.fromString("rwxr-xr-x"));
        return zfs;
    }

    private static ZfsSnapshots snapshots(Zfs zfs, Zfs.Dataset dataset, Path source, int retention) {
        Clock clock = Clock.fixed(T0, ZoneOffset.UTC);
        Log log = new Log(
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), clock, Log.Level.INFO);
        return new ZfsSnapshots(zfs, "photos", dataset, source, "auto-zip", retention, clock, log);
    }

    private static Zfs.Change change(char kind, char type, String path, String newPath) {
        return new Zfs.Change(
                kind,
                type,
                path.getBytes(StandardCharsets.UTF_8),
                newPath == null ? null : newPath.getBytes(StandardCharsets.UTF_8));
    }

    private static byte[] latin1Name(String before, int b, String after) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        out.write(b);
        out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    private static ByteArrayInputStream stream(String s) {
        return new ByteArrayInputStream(bytes(s));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
