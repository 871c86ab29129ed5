package io.custos.torrent;

import static org.assertj.core.api.Assertions.assertThat;

import io.custos.run.Log;
import io.custos.testing.QbittorrentNox;
import io.custos.testing.Requirements;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a real qbittorrent-nox (Debian's 4.x, Web API below 2.11), one for the
 * whole class on 127.0.0.1. Each test seeds torrents of its own content in its own directories.
 */
class QbittorrentTest {
    private static final Duration WAIT = Duration.ofSeconds(20);

    @TempDir
    static Path shared;

    static QbittorrentNox nox;
    static QbClient client;

    @TempDir
    Path tmp;

    @BeforeAll
    static void start() {
        Requirements.qbittorrent();
        nox = QbittorrentNox.start(shared.resolve("qbittorrent"));
        Log log = new Log(
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                Clock.systemUTC(),
                Log.Level.INFO);
        QbClient.Timing timing =
                new QbClient.Timing(Duration.ofSeconds(10), 2, Duration.ofMillis(200), Duration.ofMillis(100));
        client = new QbClient(nox.config(), timing, Clock.systemUTC(), d -> Thread.sleep(d.toMillis()), log);
    }

    @AfterAll
    static void stop() {
        if (nox != null) {
            nox.close();
        }
    }

    /** {@code dir/pay/a.bin} (100,000 bytes) and {@code dir/pay/sub/b.bin} (70,000 bytes), random. */
    private static Path payload(Path dir, long seed) {
        Path pay = dir.resolve("pay");
        try {
            Files.createDirectories(pay.resolve("sub"));
            Random r = new Random(seed);
            byte[] a = new byte[100_000];
            byte[] b = new byte[70_000];
            r.nextBytes(a);
            r.nextBytes(b);
            Files.write(pay.resolve("a.bin"), a);
            Files.write(pay.resolve("sub").resolve("b.bin"), b);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pay;
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                }
            }
        }
    }

    @Test
    void theWebApiVersionOfQbittorrent4ChoosesPauseAndResume() throws Exception {
        // given what the server itself says, read without the client
        HttpResponse<String> raw = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(nox.url() + "/api/v2/app/webapiVersion"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());

        // when the client connects
        WebApiVersion v = client.connect();

        // then it read the same version: a 4.x one (Debian 12 ships 4.5.2, Web API 2.8.19), so pause/resume
        assertThat(v).isEqualTo(WebApiVersion.parse(raw.body()));
        assertThat(v.major()).isEqualTo(2);
        assertThat(v.minor()).isBetween(8, 10);
        assertThat(v.stopStart()).isFalse();
    }

    @Test
    void twoTorrentsOfTheSameContentAreListedWithTheirPathsFilesAndPieces() {
        // given one payload and two .torrent files of it with different piece sizes (so different hashes)
        Path save = tmp.resolve("stash");
        payload(save, 1);
        Path t15 = QbittorrentNox.makeTorrent(save.resolve("pay"), tmp.resolve("pay15.torrent"), 15);
        Path t16 = QbittorrentNox.makeTorrent(save.resolve("pay"), tmp.resolve("pay16.torrent"), 16);

        // when both are added into the same save path
        String h15 = QbittorrentNox.seed(client, t15, save);
        String h16 = QbittorrentNox.seed(client, t16, save);

        // then both are listed with that save path and the payload folder as content path
        assertThat(h15).isNotEqualTo(h16);
        List<Torrent> both = client.torrents(List.of(h15, h16));
        assertThat(both).extracting(Torrent::hash).containsExactlyInAnyOrder(h15, h16);
        assertThat(both).allSatisfy(t -> {
            assertThat(t.name()).isEqualTo("pay");
            assertThat(t.savePath()).isEqualTo(save.toString());
            assertThat(t.contentPath()).isEqualTo(save.resolve("pay").toString());
            assertThat(t.size()).isEqualTo(170_000);
            assertThat(t.amountLeft()).isZero();
            assertThat(t.progress()).isEqualTo(1.0);
            assertThat(t.complete()).isTrue();
            assertThat(t.active()).isTrue();
        });
        assertThat(client.files(h15))
                .extracting(TorrentFile::name, TorrentFile::size, TorrentFile::progress)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("pay/a.bin", 100_000L, 1.0),
                        org.assertj.core.groups.Tuple.tuple("pay/sub/b.bin", 70_000L, 1.0));
        TorrentProperties p15 = client.properties(h15);
        TorrentProperties p16 = client.properties(h16);
        assertThat(p15.savePath()).isEqualTo(save.toString());
        assertThat(p15.pieceSize()).isEqualTo(32_768);
        assertThat(p16.pieceSize()).isEqualTo(65_536);
        assertThat(p15.totalSize()).isEqualTo(170_000);
        assertThat(p15.piecesNum()).isEqualTo(6); // ceil(170000 / 32768)
        assertThat(client.torrents()).extracting(Torrent::hash).contains(h15, h16);
    }

    @Test
    void aSingleFileTorrentHasTheFileAsItsContentPath() throws Exception {
        Path save = tmp.resolve("single");
        Files.createDirectories(save);
        Files.write(save.resolve("one.iso"), new byte[50_000]);
        Path t = QbittorrentNox.makeTorrent(save.resolve("one.iso"), tmp.resolve("one.torrent"), 0);

        String hash = QbittorrentNox.seed(client, t, save);

        Torrent one = client.torrent(hash).orElseThrow();
        assertThat(one.contentPath()).isEqualTo(save.resolve("one.iso").toString());
        assertThat(client.files(hash)).extracting(TorrentFile::name).containsExactly("one.iso");
    }

    @Test
    void aTorrentIsPausedAndResumed() {
        Path save = tmp.resolve("stash");
        payload(save, 2);
        String hash = QbittorrentNox.seed(
                client, QbittorrentNox.makeTorrent(save.resolve("pay"), tmp.resolve("p.torrent"), 0), save);

        client.stop(List.of(hash));
        Torrent paused = client.await(hash, "pause", Torrent::stopped, WAIT);
        client.start(List.of(hash));
        Torrent resumed = client.await(hash, "resume", Torrent::active, WAIT);

        assertThat(paused.state()).isEqualTo("pausedUP"); // qBittorrent 4's name
        assertThat(resumed.state()).isIn("stalledUP", "uploading");
        assertThat(resumed.complete()).isTrue();
    }

    @Test
    void aTorrentPointedAtACopyOfItsDataCompletesAfterARecheck() throws Exception {
        // given a seeding torrent, and a copy of its data in another directory
        Path stash = tmp.resolve("stash");
        Path pool = tmp.resolve("pool");
        payload(stash, 3);
        copyTree(stash.resolve("pay"), pool.resolve("pay"));
        String hash = QbittorrentNox.seed(
                client, QbittorrentNox.makeTorrent(stash.resolve("pay"), tmp.resolve("p.torrent"), 0), stash);

        // when it is paused, pointed at the copy, and rechecked (the order rehome uses)
        client.stop(List.of(hash));
        client.await(hash, "pause", Torrent::stopped, WAIT);
        client.setLocation(List.of(hash), pool.toString());
        // qBittorrent 4.5 keeps the files it finds at the target, then reports pausedDL, progress 0
        Torrent moved = client.await(
                hash,
                "finish moving",
                t -> t.savePath().equals(pool.toString()) && !t.busy() && t.progress() < 1,
                WAIT);
        client.recheck(List.of(hash));
        Torrent checked = client.await(hash, "finish rechecking", Torrent::complete, WAIT);

        // then it lives on the copy, complete and still paused, and the original is untouched
        assertThat(moved.state()).isEqualTo("pausedDL");
        assertThat(checked.savePath()).isEqualTo(pool.toString());
        assertThat(checked.contentPath()).isEqualTo(pool.resolve("pay").toString());
        assertThat(checked.stopped()).isTrue();
        assertThat(checked.progress()).isEqualTo(1.0);
        assertThat(client.properties(hash).savePath()).isEqualTo(pool.toString());
        assertThat(stash.resolve("pay").resolve("a.bin")).exists();

        // and once resumed it seeds from there
        client.start(List.of(hash));
        Torrent seeding = client.await(hash, "resume", t -> t.active() && t.complete(), WAIT);
        assertThat(seeding.savePath()).isEqualTo(pool.toString());
    }

    @Test
    void aFileThatIsNoTorrentIsNotAddedAndSaysSo() {
        QbClient.AddOptions options = new QbClient.AddOptions(tmp.toString(), true, false);

        org.assertj.core.api.Assertions.assertThatThrownBy(
                        () -> client.add("not bencode".getBytes(StandardCharsets.UTF_8), options))
                .isInstanceOf(io.custos.run.CustosException.class)
                .hasMessageContaining("did not add the torrent: HTTP 415");
    }

    @Test
    void aTorrentAddedTwiceIsRefusedTheSecondTime() throws Exception {
        Path save = tmp.resolve("stash");
        payload(save, 4);
        Path t = QbittorrentNox.makeTorrent(save.resolve("pay"), tmp.resolve("p.torrent"), 0);
        QbittorrentNox.seed(client, t, save);
        byte[] again = Files.readAllBytes(t);
        QbClient.AddOptions options = new QbClient.AddOptions(save.toString(), true, false);

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.add(again, options))
                .isInstanceOf(io.custos.run.CustosException.class)
                .hasMessageContaining("already has");
    }

    @Test
    void anUnknownHashIsAbsentFromTheListAndAnErrorForItsFiles() {
        String unknown = "0".repeat(40);

        assertThat(client.torrents(List.of(unknown))).isEmpty();
        assertThat(client.torrent(unknown)).isEmpty();
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.files(unknown))
                .isInstanceOf(io.custos.run.CustosException.class)
                .hasMessageContaining("has no torrent " + unknown);
    }
}
