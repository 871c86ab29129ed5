package io.custos.torrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.custos.config.Config;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a small local server that answers like qBittorrent 5, and against a closed
 * port: the cases a real qbittorrent-nox 4.x cannot show (the 5.x endpoints, 5xx answers, an
 * expired session, API keys).
 */
class QbClientTest {
    private static final String HASH = FakeQbittorrent.HASH;

    @TempDir
    Path tmp;

    final FakeQbittorrent qb = new FakeQbittorrent();
    final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    final Log log = new Log(new PrintStream(logged, true, StandardCharsets.UTF_8), Clock.systemUTC(), Log.Level.DEBUG);
    /** Every wait the client asked for; none really happens. */
    final List<Duration> waits = new ArrayList<>();

    @AfterEach
    void stop() {
        qb.close();
    }

    private QbClient client(Config.Qbittorrent config) {
        QbClient.Timing timing =
                new QbClient.Timing(Duration.ofSeconds(5), 2, Duration.ofMillis(200), Duration.ofMillis(500));
        return new QbClient(config, timing, Clock.systemUTC(), waits::add, log);
    }

    private static CustosException failure(ThrowingCallable call) {
        CustosException e = catchThrowableOfType(CustosException.class, call);
        assertThat(e).as("a CustosException").isNotNull();
        return e;
    }

    private static Config.Qbittorrent noLogin(String url) {
        return new Config.Qbittorrent(url, null, null, null, null, null);
    }

    private static Config.Qbittorrent password(String url, String user, String pass) {
        return new Config.Qbittorrent(url, user, pass, null, null, null);
    }

    @Test
    void qbittorrent5IsStoppedAndStartedNeverPausedOrResumed() {
        // given a qBittorrent 5 (Web API 2.11.2) seeding one torrent
        QbClient client = client(noLogin(qb.url()));

        // when custos stops it, reads it, starts it, reads it
        assertThat(client.connect().stopStart()).isTrue();
        client.stop(List.of(HASH));
        Torrent stopped = client.torrent(HASH).orElseThrow();
        client.start(List.of(HASH));
        Torrent started = client.torrent(HASH).orElseThrow();

        // then the 5.x endpoints were used, and 5.x's state names understood
        assertThat(qb.paths())
                .contains("torrents/stop", "torrents/start")
                .doesNotContain("torrents/pause", "torrents/resume");
        assertThat(qb.requests().stream().filter(r -> r.path().equals("torrents/stop")))
                .singleElement()
                .satisfies(r -> {
                    assertThat(r.method()).isEqualTo("POST");
                    assertThat(r.body()).isEqualTo("hashes=" + HASH);
                });
        assertThat(stopped.state()).isEqualTo("stoppedUP");
        assertThat(stopped.stopped()).isTrue();
        assertThat(stopped.active()).isFalse();
        assertThat(started.state()).isEqualTo("stalledUP");
        assertThat(started.active()).isTrue();
        assertThat(started.tags()).containsExactly("keep", "seed");
        assertThat(started.category()).isEqualTo("tv");
    }

    @Test
    void aWebApiBelow2_11IsPausedAndResumed() {
        // given an old Web API version (qBittorrent 4.6): the fake has no pause endpoint, so it answers 404
        qb.version("2.10.4");
        QbClient client = client(noLogin(qb.url()));

        // when custos stops the torrent
        CustosException e = failure(() -> client.stop(List.of(HASH)));

        // then it asked for torrents/pause, and says which call qBittorrent refused
        assertThat(qb.paths()).contains("torrents/pause").doesNotContain("torrents/stop");
        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage()).contains("refused torrents/pause: HTTP 404");
        // (a refusal is an answer: qBittorrent was reached)
        assertThat(e).isNotInstanceOf(QbUnreachableException.class);
    }

    @Test
    void aWrongPasswordIsAnEnvironmentErrorThatNamesTheUserButNotThePassword() {
        qb.login("admin", "right horse battery");
        QbClient client = client(password(qb.url(), "admin", "wrong-staple-9"));

        CustosException e = failure(client::connect);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage())
                .contains("qBittorrent at " + qb.url())
                .contains("rejected the login of user \"admin\"")
                .contains("wrong username or password")
                .doesNotContain("wrong-staple-9");
        assertThat(logged.toString(StandardCharsets.UTF_8)).doesNotContain("wrong-staple-9");
        assertThat(qb.paths()).containsExactly("auth/login");
    }

    @Test
    void aLoginAnswered403SaysWhyInQbittorrentsWords() {
        // given a qBittorrent that has banned this address after too many failed logins
        qb.loginAnswer(403, "Your IP address has been banned after too many failed authentication attempts.");
        QbClient client = client(password(qb.url(), "admin", "secret"));

        CustosException e = failure(client::connect);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage())
                .contains("refused the login of user \"admin\": HTTP 403")
                .contains("banned");
    }

    @Test
    void aLoginAnswered401IsAWrongPassword() {
        // qBittorrent 5.2 answers a failed login with 401 instead of "Fails."
        qb.loginAnswer(401, "");
        QbClient client = client(password(qb.url(), "admin", "secret"));

        CustosException e = failure(client::connect);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage()).contains("wrong username or password");
    }

    @Test
    void theSessionCookieIsSentAndAnExpiredSessionLogsInAgain() {
        qb.login("admin", "secret");
        QbClient client = client(password(qb.url(), "admin", "secret"));
        client.connect();

        // when qBittorrent forgets the session between two calls
        qb.expireSession();
        List<Torrent> torrents = client.torrents();

        // then custos logged in again and repeated the call with the new cookie
        assertThat(torrents).extracting(Torrent::hash).containsExactly(HASH);
        assertThat(qb.sessions()).isEqualTo(2);
        assertThat(qb.paths())
                .containsExactly("auth/login", "app/webapiVersion", "torrents/info", "auth/login", "torrents/info");
        assertThat(qb.requests().get(4).header("Cookie")).isEqualTo("SID=s2");
    }

    @Test
    void thePasswordComesFromTheFirstLineOfPasswordFile() throws Exception {
        qb.login("admin", " spaced pass ");
        Path file = tmp.resolve("qb.password");
        Files.writeString(file, " spaced pass \nsecond line\n");
        QbClient client = client(new Config.Qbittorrent(qb.url(), "admin", null, file.toString(), null, null));

        assertThat(client.torrents()).hasSize(1);
    }

    @Test
    void aMissingPasswordFileIsAnEnvironmentError() {
        Path file = tmp.resolve("absent");
        QbClient client = client(new Config.Qbittorrent(qb.url(), "admin", null, file.toString(), null, null));

        CustosException e = failure(client::connect);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage()).isEqualTo("cannot read qbittorrent.password_file " + file + ": no such file");
        assertThat(qb.requests()).isEmpty();
    }

    @Test
    void aLoginDemandedWhenNoneIsConfiguredSaysWhichKeysToSet() {
        qb.login("admin", "secret");
        QbClient client = client(noLogin(qb.url()));

        CustosException e = failure(client::connect);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage()).contains("asks for a login").contains("qbittorrent.username");
    }

    @Test
    void anApiKeyIsSentAsABearerTokenWithoutALogin() throws Exception {
        qb.version("2.14.1").apiKey("qbt_0123456789abcdefghijklmnopqr");
        Path key = tmp.resolve("qb.key");
        Files.writeString(key, "qbt_0123456789abcdefghijklmnopqr\n");
        QbClient client = client(new Config.Qbittorrent(qb.url(), null, null, null, null, key.toString()));

        assertThat(client.torrents()).hasSize(1);
        assertThat(qb.paths()).doesNotContain("auth/login");
        assertThat(qb.requests())
                .allSatisfy(r ->
                        assertThat(r.header("Authorization")).isEqualTo("Bearer qbt_0123456789abcdefghijklmnopqr"));
    }

    @Test
    void aWrongApiKeyIsAnEnvironmentErrorThatDoesNotEchoTheKey() {
        qb.version("2.14.1").apiKey("qbt_right");
        QbClient client = client(new Config.Qbittorrent(qb.url(), null, null, null, "qbt_wrong", null));

        CustosException e = failure(client::connect);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage()).contains("rejected the API key").doesNotContain("qbt_wrong");
    }

    @Test
    void anApiKeyForAQbittorrentTooOldToReadItIsRefused() {
        // Web API 2.11.2 ignores the header: qBittorrent would run custos anonymously or refuse it
        QbClient client = client(new Config.Qbittorrent(qb.url(), null, null, null, "qbt_key", null));

        CustosException e = failure(client::connect);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage())
                .contains("Web API 2.11.2, which ignores API keys")
                .contains("5.2");
    }

    @Test
    void aServerErrorOnAReadIsRetriedAfterABackoff() {
        qb.fail("torrents/info", 503, 502);
        QbClient client = client(noLogin(qb.url()));

        List<Torrent> torrents = client.torrents();

        assertThat(torrents).extracting(Torrent::hash).containsExactly(HASH);
        assertThat(qb.paths()).containsExactly("app/webapiVersion", "torrents/info", "torrents/info", "torrents/info");
        assertThat(waits).containsExactly(Duration.ofMillis(200), Duration.ofMillis(400));
        assertThat(logged.toString(StandardCharsets.UTF_8)).contains("HTTP 503 on torrents/info; trying again");
    }

    @Test
    void aServerErrorThatLastsBeyondTheRetriesIsAnEnvironmentError() {
        qb.fail("torrents/info", 500, 500, 500);
        QbClient client = client(noLogin(qb.url()));

        CustosException e = failure(client::torrents);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage()).contains("refused torrents/info: HTTP 500");
        assertThat(e).isInstanceOf(QbUnreachableException.class);
        assertThat(waits).hasSize(2);
    }

    @Test
    void anActionIsNotRepeatedAfterAServerError() {
        qb.fail("torrents/stop", 500);
        QbClient client = client(noLogin(qb.url()));

        CustosException e = failure(() -> client.stop(List.of(HASH)));

        assertThat(e.getMessage()).contains("refused torrents/stop: HTTP 500");
        assertThat(qb.paths().stream().filter("torrents/stop"::equals)).hasSize(1);
        assertThat(waits).isEmpty();
    }

    @Test
    void aClosedPortIsAnEnvironmentErrorNamingTheUrl() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port;
        QbClient client = client(noLogin(url + "/"));

        CustosException e = failure(client::torrents);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.exitCode().code()).isEqualTo(5);
        assertThat(e.getMessage())
                .startsWith("cannot connect to qBittorrent at " + url + ": ")
                .containsIgnoringCase("refused");
        assertThat(e).isInstanceOf(QbUnreachableException.class);
        assertThat(waits).hasSize(2); // a restarting qBittorrent gets the retries a read gets
    }

    @Test
    void awaitGivesUpAtTheDeadlineWithTheLastStateSeen() {
        // given a recheck that never ends, and a clock that the client's waits move forward
        qb.state("checkingUP", 0.4);
        MovableClock clock = new MovableClock();
        QbClient client = new QbClient(
                noLogin(qb.url()),
                new QbClient.Timing(Duration.ofSeconds(5), 0, Duration.ofMillis(200), Duration.ofSeconds(1)),
                clock,
                clock::advance,
                log);

        CustosException e =
                failure(() -> client.await(HASH, "finish rechecking", Torrent::complete, Duration.ofSeconds(10)));

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage())
                .isEqualTo("torrent " + HASH
                        + " did not finish rechecking within 10 s (state checkingUP, progress 40.0%)");
        assertThat(qb.paths().stream().filter("torrents/info"::equals)).hasSize(11);
    }

    @Test
    void awaitReturnsTheTorrentOnceTheConditionHolds() {
        qb.state("checkingUP", 0.4);
        MovableClock clock = new MovableClock();
        QbClient client = new QbClient(
                noLogin(qb.url()),
                new QbClient.Timing(Duration.ofSeconds(5), 0, Duration.ofMillis(200), Duration.ofSeconds(1)),
                clock,
                d -> {
                    clock.advance(d);
                    if (clock.instant().getEpochSecond() >= 3) {
                        qb.state("stoppedUP", 1.0);
                    }
                },
                log);

        Torrent t = client.await(HASH, "finish rechecking", Torrent::complete, Duration.ofSeconds(10));

        assertThat(t.state()).isEqualTo("stoppedUP");
        assertThat(t.amountLeft()).isZero();
    }

    /** A clock that only moves when told to. */
    static final class MovableClock extends Clock {
        private Instant now = Instant.EPOCH;

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
