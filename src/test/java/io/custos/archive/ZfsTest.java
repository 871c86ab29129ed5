package io.custos.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.exec.ExternalProcess;
import io.custos.run.CancelToken;
import io.custos.run.Log;
import io.custos.testing.ZfsPool;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ZFS layer against a real pool (zfs-fuse here): one pool for the class, a dataset per test. */
class ZfsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final Instant T0 = Instant.parse("2025-01-01T12:00:00Z");

    @TempDir
    static Path tmp;

    private static ZfsPool pool;
    private static Zfs zfs;

    private final ByteArrayOutputStream logged = new ByteArrayOutputStream();

    @BeforeAll
    static void makePool() {
        pool = ZfsPool.create(tmp);
        zfs = new Zfs(ExternalProcess.find("zfs", System.getenv()), TIMEOUT, TIMEOUT, new CancelToken());
    }

    @AfterAll
    static void destroyPool() {
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void datasetOfFindsTheInnermostMountedDataset() throws Exception {
        // given a dataset with a nested one, a directory in each, and a symlink into the inner one
        Path outer = pool.dataset("where/outer");
        Path inner = pool.dataset("where/outer/inner");
        Path deep = Files.createDirectories(inner.resolve("a/b"));
        Path shallow = Files.createDirectories(outer.resolve("x"));
        Path link = Files.createSymbolicLink(tmp.resolve("link-to-deep"), deep);
        // then each directory belongs to the dataset with the longest mountpoint above its real path
        assertThat(zfs.datasetOf(deep)).isEqualTo(new Zfs.Dataset(pool.name() + "/where/outer/inner", inner));
        assertThat(zfs.datasetOf(link).name()).isEqualTo(pool.name() + "/where/outer/inner");
        assertThat(zfs.datasetOf(shallow).name()).isEqualTo(pool.name() + "/where/outer");
        assertThat(zfs.datasetOf(inner).name()).isEqualTo(pool.name() + "/where/outer/inner");
        // and a directory that is not on ZFS has none
        assertThat(zfs.datasetOf(Files.createDirectories(tmp.resolve("plain")))).isNull();
    }

    @Test
    void snapshotsAreListedOldestFirstWithTheirCreationTime() throws Exception {
        // given a dataset with a snapshot of its child, which is not its own
        String ds = pool.name() + "/snaps";
        pool.dataset("snaps/child");
        pool.zfs("snapshot", ds + "/child@other");
        long before = Instant.now().getEpochSecond();
        // when two snapshots are made (in one second, so only ZFS's own order tells them apart)
        zfs.snapshot(ds + "@zz-first");
        zfs.snapshot(ds + "@aa-second");
        long after = Instant.now().getEpochSecond();
        // then they are listed in the order they were made, with their creation time
        List<Zfs.Snapshot> snaps = zfs.snapshots(ds);
        assertThat(snaps).extracting(Zfs.Snapshot::fullName).containsExactly(ds + "@zz-first", ds + "@aa-second");
        assertThat(snaps).extracting(Zfs.Snapshot::shortName).containsExactly("zz-first", "aa-second");
        assertThat(snaps.get(0).createdEpochSeconds()).isBetween(before - 2, after + 2);
        assertThat(snaps.get(0).dataset()).isEqualTo(ds);
    }

    @Test
    void aReadOnlyCloneShowsTheSnapshotAndTakesNoWrites() throws Exception {
        // given a file, a snapshot, then a change and a new file in the live dataset
        Path live = pool.dataset("cloned");
        Files.writeString(live.resolve("a.txt"), "before");
        zfs.snapshot(pool.name() + "/cloned@s1");
        Files.writeString(live.resolve("a.txt"), "after");
        Files.writeString(live.resolve("b.txt"), "new");
        // when the snapshot is cloned read-only
        String clone = pool.name() + "/cloned-view";
        Path view = zfs.cloneReadOnly(pool.name() + "/cloned@s1", clone);
        try {
            // then the clone shows the dataset as it was, and refuses writes
            assertThat(Files.readString(view.resolve("a.txt"))).isEqualTo("before");
            assertThat(view.resolve("b.txt")).doesNotExist();
            assertThatThrownBy(() -> Files.writeString(view.resolve("c.txt"), "x"))
                    .isInstanceOf(IOException.class);
            assertThatThrownBy(() -> Files.writeString(view.resolve("a.txt"), "x"))
                    .isInstanceOf(IOException.class);
            assertThat(zfs.clonesBelow(pool.name())).containsEntry(clone, pool.name() + "/cloned@s1");
        } finally {
            zfs.destroy(clone);
        }
        // and once destroyed it is gone
        assertThat(zfs.filesystems()).extracting(Zfs.Dataset::name).doesNotContain(clone);
    }

    @Test
    void destroyWaitsOutABusyDataset() throws Exception {
        // given a dataset with a file held open, which makes zfs answer "busy"
        Path live = pool.dataset("busy");
        Path file = Files.writeString(live.resolve("held"), "x");
        FileChannel held = FileChannel.open(file, StandardOpenOption.READ);
        AtomicInteger pauses = new AtomicInteger();
        Zfs patient = new Zfs(ExternalProcess.find("zfs", System.getenv()), TIMEOUT, TIMEOUT, new CancelToken(), ms -> {
            // the holder lets go while destroy waits to try again
            pauses.incrementAndGet();
            try {
                held.close();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            Thread.sleep(ms);
        });
        try {
            // when it is destroyed
            patient.destroy(pool.name() + "/busy");
        } finally {
            held.close();
        }
        // then destroy was refused at least once, tried again, and the dataset is gone
        assertThat(pauses.get()).isPositive();
        assertThat(zfs.filesystems()).extracting(Zfs.Dataset::name).doesNotContain(pool.name() + "/busy");
    }

    @Test
    void destroyGivesUpOnWhatIsNotBusy() throws Exception {
        assertThatThrownBy(() -> zfs.destroy(pool.name() + "/no-such-dataset"))
                .isInstanceOf(ZfsException.class)
                .hasMessageContaining("zfs destroy " + pool.name() + "/no-such-dataset failed (exit 1:")
                .hasMessageContaining("does not exist");
    }

    @Test
    void aViewIsTheSourceAtTheSnapshotAndLeavesNoCloneBehind() throws Exception {
        // given a job whose source is a directory inside a dataset
        Path live = pool.dataset("job");
        Path source = Files.createDirectories(live.resolve("photos"));
        Files.createDirectories(source.resolve("A001"));
        Files.writeString(source.resolve("A001/one.jpg"), "one");
        ZfsSnapshots snapshots = snapshots("photos", source, "auto-zip", 3, T0);
        // when the run opens its view, and the source changes afterwards
        try (ZfsSnapshots.View view = snapshots.open()) {
            Files.writeString(source.resolve("A001/two.jpg"), "two");
            // then the view shows the source as it was, through a clone on zfs-fuse
            assertThat(view.snapshot().fullName()).isEqualTo(pool.name() + "/job@auto-zip-20250101120000");
            assertThat(Files.readString(view.dir().resolve("A001/one.jpg"))).isEqualTo("one");
            assertThat(view.dir().resolve("A001/two.jpg")).doesNotExist();
            assertThat(view.cloneName()).isEqualTo(pool.name() + "/custos-zip-photos-20250101120000");
        }
        // and once closed no clone is left, while the snapshot stays
        assertThat(zfs.clonesBelow(pool.name())).isEmpty();
        assertThat(zfs.snapshots(pool.name() + "/job"))
                .extracting(Zfs.Snapshot::shortName)
                .containsExactly("auto-zip-20250101120000");
        assertThat(logged()).contains("zip job photos: made snapshot " + pool.name() + "/job@auto-zip-20250101120000");
        assertThat(logged())
                .contains("zip job photos: destroyed clone " + pool.name() + "/custos-zip-photos-20250101120000");
    }

    @Test
    void aSecondRunInTheSameSecondTakesTheNextSecondAndSeesTheFirstAsPrevious() throws Exception {
        Path source = pool.dataset("twice");
        ZfsSnapshots first = snapshots("twice", source, "auto-zip", 5, T0);
        try (ZfsSnapshots.View view = first.open()) {
            assertThat(view.snapshot().shortName()).isEqualTo("auto-zip-20250101120000");
            assertThat(first.previous()).isNull();
        }
        // when a second run starts within the same second
        ZfsSnapshots second = snapshots("twice", source, "auto-zip", 5, T0);
        try (ZfsSnapshots.View view = second.open()) {
            // then its snapshot is named one second later, and the first one is its base
            assertThat(view.snapshot().shortName()).isEqualTo("auto-zip-20250101120001");
            assertThat(second.previous().shortName()).isEqualTo("auto-zip-20250101120000");
        }
    }

    @Test
    void pruneKeepsTheNewestOfItsPrefixAndNothingElseIsTouched() throws Exception {
        // given snapshots custos did not make, some with names close to its own
        Path source = pool.dataset("prune");
        String ds = pool.name() + "/prune";
        for (String other : List.of(
                "manual-1",
                "other-prefix-20250101000000",
                "auto-zip-2025",
                "auto-zip-20250101000000-keep",
                "auto-zipx-20250101000000")) {
            pool.zfs("snapshot", ds + "@" + other);
        }
        // when four runs, an hour apart, each open, close and prune with a retention of 2
        for (int run = 0; run < 4; run++) {
            ZfsSnapshots snapshots = snapshots("prune", source, "auto-zip", 2, T0.plusSeconds(3600L * run));
            try (ZfsSnapshots.View view = snapshots.open()) {
                assertThat(view.dir()).isDirectory();
            }
            ZfsSnapshots.Pruned pruned = snapshots.prune();
            assertThat(pruned.failures()).isEmpty();
            assertThat(pruned.kept()).hasSize(Math.min(run + 1, 2));
        }
        // then the newest two of the job remain, and every other snapshot is untouched
        assertThat(zfs.snapshots(ds))
                .extracting(Zfs.Snapshot::shortName)
                .containsExactly(
                        "manual-1",
                        "other-prefix-20250101000000",
                        "auto-zip-2025",
                        "auto-zip-20250101000000-keep",
                        "auto-zipx-20250101000000",
                        "auto-zip-20250101140000",
                        "auto-zip-20250101150000");
        assertThat(logged()).contains("zip job prune: destroyed snapshot " + ds + "@auto-zip-20250101120000");
    }

    @Test
    void aCloneLeftByARunThatDiedIsDestroyedByTheNextRun() throws Exception {
        // given a run that opened its view and never closed it, and a clone someone else made
        Path source = pool.dataset("crash");
        String ds = pool.name() + "/crash";
        ZfsSnapshots.View abandoned =
                snapshots("crash", source, "auto-zip", 5, T0).open();
        String foreign = pool.name() + "/crash-by-hand";
        zfs.cloneReadOnly(abandoned.snapshot().fullName(), foreign);
        try {
            // when the next run opens its view
            ZfsSnapshots next = snapshots("crash", source, "auto-zip", 5, T0.plusSeconds(60));
            try (ZfsSnapshots.View view = next.open()) {
                // then the abandoned clone is gone, the foreign one stays
                assertThat(zfs.clonesBelow(pool.name())).containsOnlyKeys(foreign, view.cloneName());
            }
            assertThat(logged()).contains("destroying clone " + abandoned.cloneName() + " left by an earlier run");
        } finally {
            zfs.destroy(foreign);
        }
    }

    @Test
    void datasetsNestedInTheSourceAreReported() throws Exception {
        Path source = pool.dataset("nest");
        pool.dataset("nest/inside");
        ZfsSnapshots snapshots = snapshots("nest", source, "auto-zip", 5, T0);
        assertThat(snapshots.nestedDatasets())
                .extracting(Zfs.Dataset::name)
                .containsExactly(pool.name() + "/nest/inside");
        try (ZfsSnapshots.View view = snapshots.open()) {
            assertThat(view.dir().resolve("inside")).isEmptyDirectory();
        }
        assertThat(logged()).contains("is the separate dataset " + pool.name() + "/nest/inside");
    }

    @Test
    void zfsFuseHasNeitherSnapshotDirectoriesNorDiff() throws Exception {
        // given a dataset with snapdir=visible and a snapshot
        Path live = pool.dataset("fuse");
        String ds = pool.name() + "/fuse";
        pool.zfs("set", "snapdir=visible", ds);
        zfs.snapshot(ds + "@s1");
        Zfs.Dataset dataset = zfs.datasetOf(live);
        // then there is no .zfs/snapshot directory and zfs diff is reported as missing
        assertThat(Zfs.snapshotDir(dataset, "s1")).isNull();
        assertThat(zfs.diff(ds + "@s1", ds)).isNull();
    }

    private ZfsSnapshots snapshots(String job, Path source, String prefix, int retention, Instant at) throws Exception {
        Log log = new Log(
                new PrintStream(logged, true, StandardCharsets.UTF_8), Clock.fixed(at, ZoneOffset.UTC), Log.Level.INFO);
        return new ZfsSnapshots(
                zfs, job, zfs.datasetOf(source), source, prefix, retention, Clock.fixed(at, ZoneOffset.UTC), log);
    }

    private String logged() {
        return logged.toString(StandardCharsets.UTF_8);
    }
}
