package io.custos.torrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.custos.config.Config;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.testing.QbittorrentNox;
import io.custos.testing.Requirements;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Logging in to a real qbittorrent-nox that asks for a password, even from 127.0.0.1. */
class QbittorrentLoginTest {
    private static final String USER = "custos";
    private static final String PASSWORD = "correct horse 9";

    @TempDir
    static Path shared;

    static QbittorrentNox nox;

    @TempDir
    Path tmp;

    final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    final Log log = new Log(new PrintStream(logged, true, StandardCharsets.UTF_8), Clock.systemUTC(), Log.Level.DEBUG);

    @BeforeAll
    static void start() {
        Requirements.qbittorrent();
        nox = QbittorrentNox.startWithLogin(shared.resolve("qbittorrent"), USER, PASSWORD);
    }

    @AfterAll
    static void stop() {
        if (nox != null) {
            nox.close();
        }
    }

    private QbClient client(String user, String password, String passwordFile) {
        QbClient.Timing timing =
                new QbClient.Timing(Duration.ofSeconds(10), 1, Duration.ofMillis(100), Duration.ofMillis(100));
        return new QbClient(
                new Config.Qbittorrent(nox.url(), user, password, passwordFile, null, null),
                timing,
                Clock.systemUTC(),
                d -> Thread.sleep(d.toMillis()),
                log);
    }

    @Test
    void theRightPasswordFromAFileLogsIn() throws Exception {
        Path file = tmp.resolve("qb.password");
        Files.writeString(file, PASSWORD + "\n");

        QbClient client = client(USER, null, file.toString());

        assertThat(client.connect().stopStart()).isFalse();
        assertThat(client.torrents()).isEmpty();
        assertThat(logged.toString(StandardCharsets.UTF_8))
                .contains("logged in as " + USER)
                .doesNotContain(PASSWORD);
    }

    @Test
    void aWrongPasswordIsExit5WithAClearMessage() {
        QbClient client = client(USER, "not the password", null);

        CustosException e = catchThrowableOfType(CustosException.class, client::connect);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage())
                .isEqualTo("qBittorrent at " + nox.url() + " rejected the login of user \"" + USER
                        + "\": wrong username or password (qbittorrent.username, qbittorrent.password)");
    }

    @Test
    void noLoginConfiguredIsExit5NamingTheKeysToSet() {
        QbClient client = client(null, null, null);

        CustosException e = catchThrowableOfType(CustosException.class, client::torrents);

        assertThat(e.exitCode()).isEqualTo(ExitCode.ENVIRONMENT);
        assertThat(e.getMessage())
                .startsWith("qBittorrent at " + nox.url() + " asks for a login (HTTP 403: Forbidden)")
                .contains("qbittorrent.password_file");
    }
}
