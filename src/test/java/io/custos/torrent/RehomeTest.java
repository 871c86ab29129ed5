package io.custos.torrent;

import static io.custos.testing.Harness.bytes;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.custos.config.Config;
import io.custos.config.ConfigLoader;
import io.custos.fs.FileIdentity;
import io.custos.run.CancelToken;
import io.custos.run.Log;
import io.custos.run.Progress;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import io.custos.run.Workspace;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import io.custos.testing.QbittorrentNox;
import io.custos.testing.Requirements;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * payload and rehome against a real qbittorrent-nox on 127.0.0.1 (SPEC §9): the stash at
 * {@code tmp/stash} seeds from {@code stash/torrents}, the pool at {@code tmp/pool} from {@code
 * pool/torrents}, the library at {@code tmp/library}; each is a custos root without parity.
 */
class RehomeTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** Every test seeds content of its own: qBittorrent refuses a torrent it already has. */
    private static final java.util.concurrent.atomic.AtomicLong SEED = new java.util.concurrent.atomic.AtomicLong(1000);

    @TempDir
    static Path shared;

    static QbittorrentNox nox;
    static QbClient client;

    @TempDir
    Path tmp;

    Harness h;
    Path stash;
    Path pool;
    Path library;
    Path mount;
    Path immutable;
    byte[] a;
    byte[] b;

    @BeforeAll
    static void start() {
        Requirements.qbittorrent();
        nox = QbittorrentNox.start(shared.resolve("qbittorrent"));
        client = client(nox);
    }

    @AfterAll
    static void stop() {
        if (nox != null) {
            nox.close();
        }
    }

    static QbClient client(QbittorrentNox q) {
        Log log = new Log(
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                Clock.systemUTC(),
                Log.Level.INFO);
        QbClient.Timing timing =
                new QbClient.Timing(Duration.ofSeconds(10), 1, Duration.ofMillis(100), Duration.ofMillis(100));
        return new QbClient(q.config(), timing, Clock.systemUTC(), d -> Thread.sleep(d.toMillis()), log);
    }

    @BeforeEach
    void setUp() {
        h = new Harness(tmp);
        stash = tmp.resolve("stash");
        pool = tmp.resolve("pool");
        library = tmp.resolve("library");
        a = bytes(100_000, SEED.incrementAndGet());
        b = bytes(70_000, SEED.incrementAndGet());
    }

    @AfterEach
    void cleanUp() {
        if (immutable != null) {
            Harness.sh("chattr", "-R", "-i", immutable.toString());
        }
        if (mount != null) {
            Harness.sh("umount", mount.toString());
        }
    }

    /** Roots stash/torrents, pool/torrents and library (no parity), the rehome keys, qBittorrent's URL. */
    private void configure(QbittorrentNox q) {
        ArrayNode roots = (ArrayNode) h.config().get("roots");
        for (String[] r : new String[][] {
            {"stash", stash.resolve("torrents").toString()},
            {"pool", pool.resolve("torrents").toString()},
            {"library", library.toString()}
        }) {
            mkdirs(Path.of(r[1]));
            roots.addObject().put("name", r[0]).put("path", r[1]).put("parity", false);
        }
        h.section("qbittorrent").put("url", q.url());
        var rehome = h.section("rehome");
        rehome.putArray("seeding_roots")
                .add(stash.resolve("torrents").toString())
                .add(pool.resolve("torrents").toString());
        rehome.putArray("library_roots").add(library.toString());
        rehome.put("stash_root", stash.toString()).put("pool_root", pool.toString());
    }

    /** {@code dir/pay/a.bin} and {@code dir/pay/sub/b.bin}. */
    private Path payload(Path dir) {
        write(dir.resolve("pay/a.bin"), a);
        write(dir.resolve("pay/sub/b.bin"), b);
        return dir.resolve("pay");
    }

    /** Seeds a torrent of {@code content} (pieces of 2^exp bytes) from {@code save}; returns its hash. */
    private String seed(QbClient c, Path content, Path save, int exp) {
        Path t =
                QbittorrentNox.makeTorrent(content, tmp.resolve("t" + exp + "-" + System.nanoTime() + ".torrent"), exp);
        return QbittorrentNox.seed(c, t, save);
    }

    private Path plan(String hash) {
        Path file = tmp.resolve("plan.json");
        Result r = h.run("--json", "rehome", "plan", "--demote", "--torrent", hash, "-o", file.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        return file;
    }

    /** {@code rehome plan ARGS -o plan.json}, which must exit 0. */
    private Path planWith(String... args) {
        Path file = tmp.resolve("plan.json");
        List<String> all = new java.util.ArrayList<>(List.of("--json", "rehome", "plan"));
        all.addAll(List.of(args));
        all.addAll(List.of("-o", file.toString()));
        Result r = h.run(all.toArray(String[]::new));
        assertThat(r.exit()).as(r.toString()).isZero();
        return file;
    }

    /** The payload hash of {@link #payload} (SPEC §9), computed here rather than by custos. */
    private String payloadHash() {
        return Harness.sha256Hex(
                ("a.bin|100000|" + Harness.sha256Hex(a) + "\nsub/b.bin|70000|" + Harness.sha256Hex(b) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
    }

    private static FileIdentity id(Path p) throws IOException {
        return FileIdentity.of(p);
    }

    private static JsonNode read(Path plan) throws IOException {
        return Harness.JSON.readTree(Files.readString(plan));
    }

    private static void mkdirs(Path p) {
        try {
            Files.createDirectories(p);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private void assertPayloadAt(Path pay) throws IOException {
        assertThat(Files.readAllBytes(pay.resolve("a.bin"))).isEqualTo(a);
        assertThat(Files.readAllBytes(pay.resolve("sub/b.bin"))).isEqualTo(b);
    }

    @Test
    void payloadSyncMapsSiblingTorrentsToOnePayloadHash() {
        // given two torrents of one payload (different piece sizes) and a third of other content
        configure(nox);
        Path pay = payload(stash.resolve("torrents"));
        String h15 = seed(client, pay, stash.resolve("torrents"), 15);
        String h16 = seed(client, pay, stash.resolve("torrents"), 16);
        // and a third in the pool, which is not scanned
        write(pool.resolve("torrents/other/x.bin"), bytes(5_000, SEED.incrementAndGet()));
        String other = seed(client, pool.resolve("torrents/other"), pool.resolve("torrents"), 0);
        assertThat(h.scan("stash").exit()).isZero();

        // when
        Result sync = h.run("--json", "payload", "sync");

        // then both siblings share the payload hash of SPEC §9, computed from the catalog
        assertThat(sync.exit()).as(sync.toString()).isZero();
        // (the qbittorrent-nox of this class also holds the torrents of the other tests)
        assertThat(sync.stat("sibling_groups")).isGreaterThanOrEqualTo(1);
        assertThat(sync.stat("torrents")).isEqualTo(h.queryLong("SELECT count(*) FROM torrents"));
        JsonNode mine = null;
        for (JsonNode p : sync.json().get("payloads")) {
            if (p.get("path").asText().equals(pay.toString())) {
                mine = p;
            }
        }
        assertThat(mine).as(sync.out()).isNotNull();
        assertThat(mine.get("status").asText()).isEqualTo("complete");
        assertThat(mine.get("location").asText()).isEqualTo("stash");
        assertThat(mine.get("torrents").toString()).contains(h15).contains(h16);
        String expected = Harness.sha256Hex(
                ("a.bin|100000|" + Harness.sha256Hex(a) + "\nsub/b.bin|70000|" + Harness.sha256Hex(b) + "\n")
                        .getBytes(StandardCharsets.UTF_8));
        JsonNode siblings = h.run("--json", "payload", "siblings", h15).json();
        assertThat(siblings.get("payload_hash").asText()).isEqualTo(expected);
        assertThat(siblings.get("siblings").findValuesAsText("hash")).containsExactlyInAnyOrder(h15, h16);
        JsonNode self = siblings.get("siblings").get(0).get("hash").asText().equals(h15)
                ? siblings.get("siblings").get(0)
                : siblings.get("siblings").get(1);
        assertThat(self.get("self").asBoolean()).isTrue();
        assertThat(self.get("save_path").asText())
                .isEqualTo(stash.resolve("torrents").toString());
        assertThat(self.get("location").asText()).isEqualTo("stash");
        assertThat(self.get("state").asText()).isIn("stalledUP", "uploading");
        // and show by a prefix of the payload hash lists the instance, its torrents and its files
        JsonNode show = h.run("--json", "payload", "show", expected.substring(0, 10))
                .json()
                .get("payload");
        assertThat(show.get("files").asLong()).isEqualTo(2);
        assertThat(show.get("bytes").asLong()).isEqualTo(170_000);
        assertThat(show.get("instances")).hasSize(1);
        assertThat(show.get("instances").get(0).get("torrents")).hasSize(2);
        assertThat(show.get("file_list").findValuesAsText("path")).containsExactly("a.bin", "sub/b.bin");
        assertThat(h.run("--json", "payload", "siblings", other).json().get("siblings"))
                .hasSize(1);
        // and the payload in a root never scanned is incomplete, with the reason
        assertThat(sync.stat("payloads_incomplete")).isGreaterThanOrEqualTo(1);
        JsonNode alone = h.run("--json", "payload", "siblings", other).json();
        assertThat(alone.get("status").asText()).isEqualTo("incomplete");
        assertThat(alone.get("reason").asText()).contains("root pool has not been scanned");
        assertThat(alone.get("siblings")).hasSize(1);
        // (qBittorrent gives a one-file folder's file as its content path)
        assertThat(h.queryString(
                        "SELECT status FROM payloads WHERE root_path = '" + pool.resolve("torrents/other/x.bin") + "'"))
                .isEqualTo("incomplete");
        // and a hash that names nothing is a usage error
        assertThat(h.run("--json", "payload", "show", "0000000").exit()).isEqualTo(2);
    }

    @Test
    void aPayloadHardlinkedIntoTheLibraryIsBlocked() throws IOException {
        // given a seeding payload whose a.bin is also a file of the media library
        configure(nox);
        Path pay = payload(stash.resolve("torrents"));
        Files.createLink(library.resolve("movie.bin"), pay.resolve("a.bin"));
        String hash = seed(client, pay, stash.resolve("torrents"), 0);
        assertThat(h.scan().exit()).isZero();

        // when
        Path plan = plan(hash);

        // then BLOCK, naming the library path; and apply refuses it, changing nothing
        JsonNode p = read(plan);
        assertThat(p.get("decision").asText()).isEqualTo("BLOCK");
        assertThat(p.get("reasons").toString())
                .contains("hardlink outside the seeding roots, in the library")
                .contains(library.resolve("movie.bin").toString());
        Result apply = h.run("--json", "rehome", "apply", plan.toString(), "--force");
        assertThat(apply.exit()).as(apply.toString()).isEqualTo(2);
        assertThat(client.torrent(hash).orElseThrow().savePath())
                .isEqualTo(stash.resolve("torrents").toString());
        assertThat(pool.resolve("torrents/pay")).doesNotExist();
    }

    @Test
    void aCopyAlreadyOnThePoolIsReusedAndTheStashCopyRemovedOnRequest() throws IOException {
        // given the payload on the stash, seeding, and the same files already on the pool
        configure(nox);
        Path pay = payload(stash.resolve("torrents"));
        payload(pool.resolve("torrents"));
        String hash = seed(client, pay, stash.resolve("torrents"), 0);
        assertThat(h.scan().exit()).isZero();

        // when planned
        Path plan = plan(hash);

        // then REUSE of the pool copy, with nothing to move
        JsonNode p = read(plan);
        assertThat(p.get("decision").asText()).as(p.toString()).isEqualTo("REUSE");
        assertThat(p.get("target").get("path").asText())
                .isEqualTo(pool.resolve("torrents/pay").toString());
        assertThat(p.get("siblings").get(0).get("action").asText()).isEqualTo("reuse");

        // and when applied with --cleanup-source, the torrent seeds from the pool and the stash copy is gone
        Result r = h.run("--json", "rehome", "apply", plan.toString(), "--force", "--cleanup-source");
        assertThat(r.exit()).as(r.toString()).isZero();
        Torrent t = client.torrent(hash).orElseThrow();
        assertThat(t.savePath()).isEqualTo(pool.resolve("torrents").toString());
        assertThat(t.complete()).isTrue();
        assertThat(t.active()).isTrue();
        assertThat(pay).doesNotExist();
        assertPayloadAt(pool.resolve("torrents/pay"));
        assertThat(h.queryLong("SELECT count(*) FROM files f JOIN roots r ON r.id = f.root_id"
                        + " WHERE r.name = 'stash' AND f.status <> 'deleted'"))
                .isZero();
    }

    @Test
    void twoSiblingsMoveToThePoolOnAnotherFilesystemAndTheCatalogFollows() throws IOException {
        // given the pool on its own filesystem (a tmpfs) and two torrents of one payload
        Requirements.root("mounts a tmpfs as the pool");
        mkdirs(pool);
        Harness.sh("mount", "-t", "tmpfs", "-o", "size=64m", "custos-pool", pool.toString());
        mount = pool;
        configure(nox);
        Path pay = payload(stash.resolve("torrents"));
        String h15 = seed(client, pay, stash.resolve("torrents"), 15);
        String h16 = seed(client, pay, stash.resolve("torrents"), 16);
        assertThat(h.scan().exit()).isZero();
        Path plan = plan(h15);
        JsonNode p = read(plan);
        assertThat(p.get("decision").asText()).as(p.toString()).isEqualTo("MOVE");
        assertThat(p.get("same_filesystem").asBoolean()).isFalse();
        assertThat(p.get("siblings").findValuesAsText("hash")).containsExactlyInAnyOrder(h15, h16);
        assertThat(p.get("files").asLong()).isEqualTo(2);
        assertThat(p.get("bytes").asLong()).isEqualTo(170_000);
        assertThat(p.get("fingerprint").asText()).hasSize(64);

        // when
        Result r = h.run("--json", "rehome", "apply", plan.toString(), "--force", "--spot-check", "2");

        // then both torrents point at the pool, complete after their recheck, and seed again
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.json().get("status").asText()).isEqualTo("completed");
        assertThat(r.stat("files_copied")).isEqualTo(2);
        assertThat(r.stat("bytes_copied")).isEqualTo(170_000);
        assertThat(r.stat("files_spot_checked")).isEqualTo(2);
        assertThat(r.stat("torrents_moved")).isEqualTo(2);
        for (String hash : List.of(h15, h16)) {
            Torrent t = client.await(hash, "seed", x -> x.active() && x.complete(), WAIT);
            assertThat(t.savePath()).isEqualTo(pool.resolve("torrents").toString());
            assertThat(t.contentPath()).isEqualTo(pool.resolve("torrents/pay").toString());
        }
        // and the stash copy is gone, the pool copy holds the content
        assertThat(pay).doesNotExist();
        assertPayloadAt(pool.resolve("torrents/pay"));
        // and the catalog knows the new paths, the torrents, and the run with its steps
        assertThat(h.queryLong("SELECT count(*) FROM files f JOIN roots r ON r.id = f.root_id WHERE r.name = 'pool'"
                        + " AND f.status = 'ok' AND CAST(f.path AS TEXT) IN ('pay/a.bin', 'pay/sub/b.bin')"))
                .isEqualTo(2);
        assertThat(h.queryLong("SELECT count(*) FROM files f JOIN roots r ON r.id = f.root_id WHERE r.name = 'stash'"
                        + " AND f.status <> 'deleted'"))
                .isZero();
        assertThat(h.queryLong("SELECT count(*) FROM events WHERE type = 'moved'"))
                .isEqualTo(2);
        assertThat(h.queryString("SELECT save_path FROM torrents WHERE hash = '" + h16 + "'"))
                .isEqualTo(pool.resolve("torrents").toString());
        assertThat(h.queryString("SELECT status FROM rehome_runs")).isEqualTo("completed");
        assertThat(h.queryLong("SELECT count(*) FROM rehome_steps WHERE action = 'set_location'"))
                .isEqualTo(2);
        // and a scan of the pool finds nothing new: the rows follow the files exactly
        Result scan = h.scan();
        assertThat(scan.stat("files_new")).isZero();
        assertThat(scan.stat("files_deleted")).isZero();
    }

    @Test
    void aPlanMadeStaleByAChangeOnDiskIsRefused() throws IOException {
        configure(nox);
        Path pay = payload(stash.resolve("torrents"));
        String hash = seed(client, pay, stash.resolve("torrents"), 0);
        assertThat(h.scan().exit()).isZero();
        Path plan = plan(hash);
        assertThat(read(plan).get("decision").asText()).isEqualTo("MOVE");

        // when a file changes after planning
        Harness.mtime(pay.resolve("sub/b.bin"), java.nio.file.attribute.FileTime.fromMillis(1_000_000));
        Result r = h.run("--json", "rehome", "apply", plan.toString(), "--force");

        // then the plan is refused with exit 4, and nothing moved
        assertThat(r.exit()).as(r.toString()).isEqualTo(4);
        assertThat(r.json().get("problems").get(0).get("kind").asText()).isEqualTo("stale_plan");
        assertThat(client.torrent(hash).orElseThrow().savePath())
                .isEqualTo(stash.resolve("torrents").toString());
        assertThat(pool.resolve("torrents/pay")).doesNotExist();
        assertThat(h.queryLong("SELECT count(*) FROM rehome_runs")).isZero();
    }

    @Test
    void aDryRunListsTheStepsAndChangesNothing() throws IOException {
        configure(nox);
        Path pay = payload(stash.resolve("torrents"));
        String hash = seed(client, pay, stash.resolve("torrents"), 0);
        assertThat(h.scan().exit()).isZero();
        Path plan = plan(hash);
        long runs = h.queryLong("SELECT count(*) FROM runs");

        Result r = h.run("--json", "rehome", "apply", plan.toString(), "--dry-run");

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.json().get("steps").findValuesAsText("action"))
                .contains("link_data", "stop", "set_location", "recheck", "start", "remove_source");
        assertThat(r.json().get("steps").findValuesAsText("status")).containsOnly("would");
        Torrent t = client.torrent(hash).orElseThrow();
        assertThat(t.savePath()).isEqualTo(stash.resolve("torrents").toString());
        assertThat(t.active()).isTrue();
        assertThat(pool.resolve("torrents/pay")).doesNotExist();
        assertPayloadAt(pay);
        assertThat(h.queryLong("SELECT count(*) FROM runs")).isEqualTo(runs);
        assertThat(h.queryLong("SELECT count(*) FROM rehome_runs")).isZero();
        // and the same plan can still be carried out afterwards
        assertThat(h.run("--json", "rehome", "apply", plan.toString(), "--force")
                        .exit())
                .isZero();
        assertThat(client.torrent(hash).orElseThrow().savePath())
                .isEqualTo(pool.resolve("torrents").toString());
    }

    @Test
    void aTargetThatCannotBeWrittenFailsTheApplyBeforeAnyTorrentIsTouched() throws IOException {
        // given a MOVE plan, then the pool's seeding directory made immutable
        Requirements.root("chattr +i");
        configure(nox);
        Path pay = payload(stash.resolve("torrents"));
        String hash = seed(client, pay, stash.resolve("torrents"), 0);
        client.stop(List.of(hash));
        client.await(hash, "stop", Torrent::stopped, WAIT);
        assertThat(h.scan().exit()).isZero();
        Path plan = plan(hash);
        assertThat(read(plan).get("decision").asText()).isEqualTo("MOVE");
        immutable = pool.resolve("torrents");
        Harness.sh("chattr", "+i", immutable.toString());

        // when
        Result r = h.run("--json", "rehome", "apply", plan.toString(), "--force");

        // then exit 1, undone: the torrent keeps its place and its state (stopped by its user), the data is intact
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.json().get("status").asText()).isEqualTo("rolled_back");
        assertThat(r.json().get("problems").get(0).get("kind").asText()).isEqualTo("rehome_failed");
        assertThat(r.json().get("steps").findValuesAsText("action")).doesNotContain("stop", "set_location");
        Torrent t = client.torrent(hash).orElseThrow();
        assertThat(t.savePath()).isEqualTo(stash.resolve("torrents").toString());
        assertThat(t.stopped()).isTrue();
        assertPayloadAt(pay);
        assertThat(h.queryString("SELECT status FROM rehome_runs")).isEqualTo("rolled_back");
    }

    @Test
    void qbittorrentKilledAfterTheFirstSetLocationLeavesBothTorrentsOnTheStash() throws IOException {
        // given a qbittorrent-nox of this test's own, two siblings on the stash, a MOVE plan
        QbittorrentNox own = QbittorrentNox.start(tmp.resolve("qb"));
        try {
            QbClient qb = client(own);
            configure(own);
            Path pay = payload(stash.resolve("torrents"));
            String h15 = seed(qb, pay, stash.resolve("torrents"), 15);
            String h16 = seed(qb, pay, stash.resolve("torrents"), 16);
            assertThat(h.scan().exit()).isZero();
            Path planFile = plan(h15);
            RehomePlan plan = RehomePlan.read(planFile);
            assertThat(plan.decision()).isEqualTo("MOVE");

            // when qbittorrent-nox dies right after the first setLocation (and comes back while custos undoes)
            Config cfg =
                    new ConfigLoader(h.env()).load(tmp.resolve("config.json").toString());
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8);
            Log log = new Log(ps, Clock.systemUTC(), Log.Level.INFO);
            RunSummary s = new RunSummary("rehome apply", Clock.systemUTC().instant());
            String[] killedAfter = {null};
            try (Workspace ws = Workspace.open(cfg, "rehome apply", "testhost", Clock.systemUTC(), log)) {
                RunContext run = ws.context(
                        null, new CancelToken(), new Progress(ps, log, Progress.Mode.LOG), RehomeApply.COUNTERS);
                new RehomeApply(run, qb, "testhost", d -> Thread.sleep(d.toMillis()))
                        .hook(new RehomeApply.Hook() {
                            @Override
                            public void after(String action, String torrent) {
                                if (action.equals("set_location") && killedAfter[0] == null) {
                                    killedAfter[0] = torrent;
                                    // once qBittorrent has taken the new save path, and had a moment to save it
                                    qb.await(
                                            torrent,
                                            "move",
                                            t -> t.savePath()
                                                            .equals(pool.resolve("torrents")
                                                                    .toString())
                                                    && !t.busy(),
                                            WAIT);
                                    own.kill();
                                }
                            }

                            @Override
                            public void undoing() {
                                own.restart();
                            }
                        })
                        .apply(
                                plan,
                                planFile,
                                new RehomePlanner(cfg, ws.catalog(), qb, Clock.systemUTC(), "testhost"),
                                new RehomeApply.Options(false, 3, false, Duration.ofSeconds(30)),
                                s);
                run.findings().fill(s);
                ws.finish(s);
            }

            // then the apply failed and was undone: exit 1, both torrents back on the stash, complete and seeding
            assertThat(killedAfter[0]).isEqualTo(h15);
            assertThat(s.exitCode().code()).as(s.toJson() + "\n" + err).isEqualTo(1);
            assertThat(s.extra().get("status")).as(s.toJson() + "\n" + err).isEqualTo("rolled_back");
            for (String hash : List.of(h15, h16)) {
                Torrent t = qb.await(hash, "seed", x -> x.active() && x.complete(), WAIT);
                assertThat(t.savePath()).isEqualTo(stash.resolve("torrents").toString());
            }
            // and the data is intact on the stash, and what was built on the pool is gone
            assertPayloadAt(pay);
            assertThat(pool.resolve("torrents/pay")).doesNotExist();
            assertThat(Harness.files(pool)).isEmpty();
            assertThat(h.queryString("SELECT status FROM rehome_runs")).isEqualTo("rolled_back");
            assertThat(h.queryLong("SELECT count(*) FROM rehome_steps WHERE action = 'failed'"))
                    .isEqualTo(1);
            assertThat(h.queryLong("SELECT count(*) FROM files f JOIN roots r ON r.id = f.root_id"
                            + " WHERE r.name = 'stash' AND f.status = 'ok'"))
                    .isEqualTo(2);
        } finally {
            own.close();
        }
    }

    @Test
    void aSiblingWithAnotherFolderNameMovesOntoAViewOfHardlinksToTheMovedData() throws IOException {
        // given one payload in two folders of the stash (hardlinked, as cross-seeding tools make them),
        // each seeded by its own torrent: same payload hash, different content paths
        configure(nox);
        Path pay = payload(stash.resolve("torrents"));
        Path other = stash.resolve("torrents/pay.other-tracker");
        mkdirs(other.resolve("sub"));
        Files.createLink(other.resolve("a.bin"), pay.resolve("a.bin"));
        Files.createLink(other.resolve("sub/b.bin"), pay.resolve("sub/b.bin"));
        long inodeA = id(pay.resolve("a.bin")).inode();
        long inodeB = id(pay.resolve("sub/b.bin")).inode();
        String main = seed(client, pay, stash.resolve("torrents"), 15);
        String view = seed(client, other, stash.resolve("torrents"), 16);
        assertThat(h.scan().exit()).isZero();
        Path plan = plan(main);
        JsonNode p = read(plan);
        assertThat(p.get("decision").asText()).as(p.toString()).isEqualTo("MOVE");
        assertThat(p.get("same_filesystem").asBoolean()).isTrue();
        assertThat(p.get("views").findValuesAsText("path"))
                .containsExactly(pool.resolve("torrents/pay.other-tracker").toString());
        assertThat(p.get("source_instances")).hasSize(2);

        // when
        Result r = h.run("--json", "rehome", "apply", plan.toString(), "--force");

        // then both torrents seed from the pool, complete after their recheck, each at its own folder
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("views_built")).isEqualTo(1);
        assertThat(r.stat("files_copied")).isZero();
        for (String[] t : new String[][] {{main, "torrents/pay"}, {view, "torrents/pay.other-tracker"}}) {
            Torrent now = client.await(t[0], "seed", x -> x.active() && x.complete(), WAIT);
            assertThat(now.savePath()).isEqualTo(pool.resolve("torrents").toString());
            assertThat(now.contentPath()).isEqualTo(pool.resolve(t[1]).toString());
            assertPayloadAt(pool.resolve(t[1]));
        }
        // and the view is made of hardlinks of the moved data, which is the stash's data itself (one
        // filesystem: nothing copied); no other name of it is left
        Path moved = pool.resolve("torrents/pay");
        Path viewed = pool.resolve("torrents/pay.other-tracker");
        for (String[] f : new String[][] {{"a.bin", Long.toString(inodeA)}, {"sub/b.bin", Long.toString(inodeB)}}) {
            assertThat(id(viewed.resolve(f[0])).inode())
                    .isEqualTo(id(moved.resolve(f[0])).inode());
            assertThat(id(moved.resolve(f[0])).inode()).isEqualTo(Long.parseLong(f[1]));
            assertThat(id(moved.resolve(f[0])).links()).isEqualTo(2);
        }
        // and both stash copies are gone, and the catalog has the four names on the pool
        assertThat(pay).doesNotExist();
        assertThat(other).doesNotExist();
        assertThat(h.queryLong("SELECT count(*) FROM files f JOIN roots r ON r.id = f.root_id WHERE r.name = 'pool'"
                        + " AND f.status = 'ok'"))
                .isEqualTo(4);
        assertThat(h.queryLong("SELECT count(*) FROM files f JOIN roots r ON r.id = f.root_id WHERE r.name = 'stash'"
                        + " AND f.status <> 'deleted'"))
                .isZero();
    }

    @Test
    void promoteReusesACopyAlreadyOnTheStash() throws IOException {
        // given a torrent seeding from the pool, and the same files already on the stash
        configure(nox);
        Path onPool = payload(pool.resolve("torrents"));
        Path onStash = payload(stash.resolve("torrents"));
        String hash = seed(client, onPool, pool.resolve("torrents"), 0);
        assertThat(h.scan().exit()).isZero();

        // when
        Path plan = planWith("--promote", "--torrent", hash);

        // then REUSE of the stash copy
        JsonNode p = read(plan);
        assertThat(p.get("decision").asText()).as(p.toString()).isEqualTo("REUSE");
        assertThat(p.get("direction").asText()).isEqualTo("promote");
        assertThat(p.get("source").get("path").asText()).isEqualTo(onPool.toString());
        assertThat(p.get("target").get("path").asText()).isEqualTo(onStash.toString());
        assertThat(p.get("siblings").get(0).get("action").asText()).isEqualTo("reuse");

        // and applied, the torrent seeds from the stash; without --cleanup-source the pool copy stays
        Result r = h.run("--json", "rehome", "apply", plan.toString(), "--force");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_linked") + r.stat("files_copied")).isZero();
        Torrent t = client.await(hash, "seed", x -> x.active() && x.complete(), WAIT);
        assertThat(t.savePath()).isEqualTo(stash.resolve("torrents").toString());
        assertPayloadAt(onStash);
        assertPayloadAt(onPool);
    }

    @Test
    void promoteWithoutACopyOnTheStashIsBlockedAndCopiesNothing() throws IOException {
        // given a torrent seeding from the pool, and nothing of it on the stash
        configure(nox);
        Path onPool = payload(pool.resolve("torrents"));
        String hash = seed(client, onPool, pool.resolve("torrents"), 0);
        assertThat(h.scan().exit()).isZero();

        // when
        Path plan = planWith("--promote", "--torrent", hash);

        // then BLOCK, saying why, and apply refuses it: nothing appears on the stash
        JsonNode p = read(plan);
        assertThat(p.get("decision").asText()).as(p.toString()).isEqualTo("BLOCK");
        assertThat(p.get("reasons").toString()).contains("--promote only reuses", "no blind copies");
        Result r = h.run("--json", "rehome", "apply", plan.toString(), "--force");
        assertThat(r.exit()).as(r.toString()).isEqualTo(2);
        assertThat(stash.resolve("torrents/pay")).doesNotExist();
        assertThat(Harness.files(stash)).isEmpty();
        assertThat(client.torrent(hash).orElseThrow().savePath())
                .isEqualTo(pool.resolve("torrents").toString());
    }

    @Test
    void aPlanForAPayloadHashCoversEveryTorrentOfThatPayload() throws IOException {
        // given two siblings on the stash
        configure(nox);
        Path pay = payload(stash.resolve("torrents"));
        String h15 = seed(client, pay, stash.resolve("torrents"), 15);
        String h16 = seed(client, pay, stash.resolve("torrents"), 16);
        assertThat(h.scan().exit()).isZero();
        String hash = payloadHash();

        // when planned by a prefix of the payload hash, not by a torrent
        Path plan = planWith("--demote", "--payload", hash.substring(0, 12));

        // then the plan is about that payload and moves both of its torrents
        JsonNode p = read(plan);
        assertThat(p.get("decision").asText()).as(p.toString()).isEqualTo("MOVE");
        assertThat(p.get("payload_hash").asText()).isEqualTo(hash);
        assertThat(p.get("request").get("payload").asText()).isEqualTo(hash.substring(0, 12));
        assertThat(p.get("request").get("torrent").isNull()).isTrue();
        assertThat(p.get("source").get("path").asText()).isEqualTo(pay.toString());
        assertThat(p.get("siblings").findValuesAsText("hash")).containsExactlyInAnyOrder(h15, h16);
        assertThat(p.get("siblings").findValuesAsText("action")).containsOnly("move");
        // and a prefix of no payload is a usage error
        String none = hash.startsWith("0") ? "ffffffffffff" : "000000000000";
        assertThat(h.run("--json", "rehome", "plan", "--demote", "--payload", none)
                        .exit())
                .isEqualTo(2);
    }

    @Test
    void qbittorrentThatNeverComesBackDuringTheUndoIsARollbackFailureThatDeletesNothing() throws IOException {
        // given a qbittorrent-nox of this test's own, two siblings on the stash, a MOVE plan
        QbittorrentNox own = QbittorrentNox.start(tmp.resolve("qb"));
        try {
            QbClient qb = client(own);
            configure(own);
            Path pay = payload(stash.resolve("torrents"));
            String h15 = seed(qb, pay, stash.resolve("torrents"), 15);
            String h16 = seed(qb, pay, stash.resolve("torrents"), 16);
            assertThat(h.scan().exit()).isZero();
            Path planFile = plan(h15);
            RehomePlan plan = RehomePlan.read(planFile);
            assertThat(plan.decision()).isEqualTo("MOVE");

            // when qbittorrent-nox dies right after the first setLocation and stays dead (undo patience: 2 s)
            Config cfg =
                    new ConfigLoader(h.env()).load(tmp.resolve("config.json").toString());
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            PrintStream ps = new PrintStream(err, true, StandardCharsets.UTF_8);
            Log log = new Log(ps, Clock.systemUTC(), Log.Level.INFO);
            RunSummary s = new RunSummary("rehome apply", Clock.systemUTC().instant());
            try (Workspace ws = Workspace.open(cfg, "rehome apply", "testhost", Clock.systemUTC(), log)) {
                RunContext run = ws.context(
                        null, new CancelToken(), new Progress(ps, log, Progress.Mode.LOG), RehomeApply.COUNTERS);
                new RehomeApply(run, qb, "testhost", d -> Thread.sleep(d.toMillis()))
                        .hook(new RehomeApply.Hook() {
                            @Override
                            public void after(String action, String torrent) {
                                if (action.equals("set_location")) {
                                    own.kill();
                                }
                            }
                        })
                        .apply(
                                plan,
                                planFile,
                                new RehomePlanner(cfg, ws.catalog(), qb, Clock.systemUTC(), "testhost"),
                                new RehomeApply.Options(false, 3, false, Duration.ofSeconds(2)),
                                s);
                run.findings().fill(s);
                ws.finish(s);
            }
            String logged = err.toString(StandardCharsets.UTF_8);

            // then exit 1, status rollback_failed, after trying again while qBittorrent could not be reached
            assertThat(s.exitCode().code()).as(s.toJson() + "\n" + logged).isEqualTo(1);
            assertThat(s.extra().get("status")).as(s.toJson()).isEqualTo("rollback_failed");
            assertThat(logged).contains("rehome undo: cannot connect to qBittorrent at " + own.url());
            assertThat(logged).contains("trying again");
            assertThat(s.problems())
                    .extracting(io.custos.run.Problem::kind)
                    .contains("rehome_failed", "rollback_failed");
            // and the run is recorded with the failed undo of each torrent and the kept target
            assertThat(h.queryString("SELECT status FROM rehome_runs")).isEqualTo("rollback_failed");
            assertThat(h.queryString("SELECT error FROM rehome_runs")).contains("cannot connect to qBittorrent");
            assertThat(h.queryLong(
                            "SELECT count(*) FROM rehome_steps WHERE action = 'undo_torrent' AND status = 'failed'"))
                    .isEqualTo(2);
            assertThat(h.queryLong(
                            "SELECT count(*) FROM rehome_steps WHERE action = 'undo_build' AND status = 'skipped'"))
                    .isEqualTo(1);
            // and nothing was deleted: the stash data is intact and cataloged, the target (which a torrent
            // may point at now) is kept
            assertPayloadAt(pay);
            assertPayloadAt(pool.resolve("torrents/pay"));
            assertThat(h.queryLong("SELECT count(*) FROM files f JOIN roots r ON r.id = f.root_id"
                            + " WHERE r.name = 'stash' AND f.status = 'ok'"))
                    .isEqualTo(2);
            // and the log names the paths once, not as "//tmp/..."
            assertThat(logged).contains(" " + pool.resolve("torrents/pay") + ": kept ");
            assertThat(logged).doesNotContain("/" + tmp);
        } finally {
            own.close();
        }
    }
}
