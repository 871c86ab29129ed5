package io.custos.testing;

import static io.custos.exec.ExternalProcess.arg;

import io.custos.config.Config;
import io.custos.exec.ExternalProcess;
import io.custos.run.CancelToken;
import io.custos.torrent.QbClient;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A real qbittorrent-nox for tests, on 127.0.0.1 only: its own profile in a temp directory, a
 * free Web UI port and a free session port, and the quiet settings of TESTING.md (no DHT, LSD,
 * PeX, UPnP; bound to {@code lo}). {@link #start} lets 127.0.0.1 in without a login; {@link
 * #startWithLogin} asks for one. It is stopped by {@link #close} or, failing that, by a shutdown
 * hook, and only the process started here is ever signalled.
 */
public final class QbittorrentNox implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration POLL = Duration.ofMillis(100);
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Processes started in this JVM and not yet stopped: the shutdown hook's only targets. */
    private static final Set<Process> RUNNING = new LinkedHashSet<>();

    private static boolean hookAdded;

    private Process process;
    private final Path dir;
    private final int port;
    private final String username;
    private final String password;

    private QbittorrentNox(Process process, Path dir, int port, String username, String password) {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.username = username;
        this.password = password;
    }

    /** Starts one that needs no login from 127.0.0.1 ({@code WebUI\LocalHostAuth=false}). */
    public static QbittorrentNox start(Path dir) {
        return launch(dir, null, null);
    }

    /**
     * Starts one that needs a login, with this user and password. It never bans 127.0.0.1 for
     * failed logins, so tests may fail as often as they like.
     */
    public static QbittorrentNox startWithLogin(Path dir, String username, String password) {
        return launch(dir, username, password);
    }

    private static QbittorrentNox launch(Path dir, String username, String password) {
        Requirements.qbittorrent();
        try {
            Path base = dir.toAbsolutePath();
            Path profile = base.resolve("profile");
            Path conf = profile.resolve("qBittorrent").resolve("config");
            Files.createDirectories(conf);
            Files.createDirectories(base.resolve("downloads"));
            int[] ports = freePorts();
            Files.writeString(conf.resolve("qBittorrent.conf"), settings(base, ports[0], ports[1], username, password));
            ProcessBuilder pb = new ProcessBuilder(
                            "qbittorrent-nox", "--profile=" + profile, "--webui-port=" + ports[0])
                    .redirectErrorStream(true)
                    .redirectOutput(base.resolve("qbittorrent-nox.out").toFile());
            Process p;
            synchronized (RUNNING) {
                addShutdownHook();
                p = pb.start();
                RUNNING.add(p);
            }
            QbittorrentNox nox = new QbittorrentNox(p, base, ports[0], username, password);
            try {
                nox.awaitWebUi();
            } catch (RuntimeException | Error e) {
                nox.close();
                throw e;
            }
            return nox;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The settings of TESTING.md: Web UI and torrents on loopback only, nothing announced to the LAN. */
    private static String settings(Path base, int webPort, int sessionPort, String username, String password) {
        List<String> prefs = new ArrayList<>(List.of(
                "WebUI\\Address=127.0.0.1",
                "WebUI\\Port=" + webPort,
                "WebUI\\LocalHostAuth=" + (username != null),
                "WebUI\\HostHeaderValidation=false",
                "WebUI\\CSRFProtection=false",
                "WebUI\\UseUPnP=false",
                "Connection\\ResolvePeerCountries=false"));
        if (username != null) {
            prefs.add("WebUI\\Username=" + username);
            prefs.add("WebUI\\Password_PBKDF2=\"" + passwordHash(password) + "\"");
            // The default bans an address after five failed logins.
            prefs.add("WebUI\\MaxAuthenticationFailCount=1000");
        }
        return String.join(
                "\n",
                "[LegalNotice]",
                "Accepted=true",
                "",
                "[Preferences]",
                String.join("\n", prefs),
                "",
                "[BitTorrent]",
                "Session\\DHTEnabled=false",
                "Session\\LSDEnabled=false",
                "Session\\PeXEnabled=false",
                "Session\\Interface=lo",
                "Session\\InterfaceName=lo",
                "Session\\InterfaceAddress=127.0.0.1",
                "Session\\Port=" + sessionPort,
                "Session\\QueueingSystemEnabled=false",
                "Session\\RefreshInterval=100",
                "Session\\DefaultSavePath=" + base.resolve("downloads"),
                "",
                "[Network]",
                "PortForwardingEnabled=false",
                "");
    }

    /**
     * qBittorrent's stored form of a Web UI password: {@code @ByteArray(salt:key)}, PBKDF2 with
     * HMAC-SHA512, 100,000 iterations, a 16-byte salt and a 64-byte key, both in base64.
     */
    static String passwordHash(String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        try {
            PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, 100_000, 64 * 8);
            byte[] key = SecretKeyFactory.getInstance("PBKDF2WithHmacSHA512")
                    .generateSecret(spec)
                    .getEncoded();
            Base64.Encoder b64 = Base64.getEncoder();
            return "@ByteArray(" + b64.encodeToString(salt) + ":" + b64.encodeToString(key) + ")";
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Two distinct ports free on 127.0.0.1 right now. */
    private static int[] freePorts() throws IOException {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (ServerSocket a = new ServerSocket(0, 1, lo);
                ServerSocket b = new ServerSocket(0, 1, lo)) {
            return new int[] {a.getLocalPort(), b.getLocalPort()};
        }
    }

    /** Polls the Web API until it answers: 200, or 403 when it wants a login. */
    private void awaitWebUi() {
        HttpClient http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(2))
                .build();
        HttpRequest req = HttpRequest.newBuilder(URI.create(url() + "/api/v2/app/webapiVersion"))
                .timeout(Duration.ofSeconds(2))
                .build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("qbittorrent-nox exited with " + process.exitValue()
                        + " before its Web UI answered: " + output());
            }
            try {
                int status =
                        http.send(req, HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status == 200 || status == 403) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted", e);
            }
            sleep(POLL);
        }
        throw new IllegalStateException(
                "qbittorrent-nox did not answer on " + url() + " within " + START_TIMEOUT + ": " + output());
    }

    public String url() {
        return "http://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    /** The directory this instance owns: its profile, its log, its default save path. */
    public Path dir() {
        return dir;
    }

    /** The client configuration that reaches it: with the login when it has one. */
    public Config.Qbittorrent config() {
        return new Config.Qbittorrent(url(), username, password, null, null, null);
    }

    /** What qbittorrent-nox printed, for failure messages. */
    public String output() {
        try {
            return Files.readString(dir.resolve("qbittorrent-nox.out"), StandardCharsets.UTF_8)
                    .strip();
        } catch (IOException e) {
            return "(no output: " + e + ")";
        }
    }

    /**
     * Makes {@code torrentFile} from {@code content} (a file or a directory) with mktorrent, with
     * pieces of 2^{@code pieceExponent} bytes ({@code 0}: mktorrent's choice) and an announce URL
     * that nothing listens on.
     */
    public static Path makeTorrent(Path content, Path torrentFile, int pieceExponent) {
        Requirements.qbittorrent();
        List<byte[]> argv = new ArrayList<>(List.of(arg("mktorrent"), arg("-a"), arg("http://127.0.0.1:1/announce")));
        if (pieceExponent > 0) {
            argv.add(arg("-l"));
            argv.add(arg(Integer.toString(pieceExponent)));
        }
        argv.add(arg("-o"));
        argv.add(arg(torrentFile));
        argv.add(arg(content));
        try {
            ExternalProcess.Outcome o = ExternalProcess.run(argv, Duration.ofSeconds(60), new CancelToken());
            if (!o.ok()) {
                throw new IllegalStateException("mktorrent failed (" + o.exitCode() + "): " + o.output());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return torrentFile;
    }

    /** The v1 info-hash of a .torrent file: SHA-1 of its bencoded {@code info} dictionary, in hex. */
    public static String infoHash(Path torrentFile) {
        try {
            byte[] b = Files.readAllBytes(torrentFile);
            if (b.length == 0 || b[0] != 'd') {
                throw new IllegalArgumentException(torrentFile + " is not a bencoded dictionary");
            }
            int i = 1;
            while (b[i] != 'e') {
                int keyStart = i;
                i = Bencode.skip(b, i);
                String key = Bencode.string(b, keyStart);
                int valueStart = i;
                i = Bencode.skip(b, i);
                if (key.equals("info")) {
                    MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
                    sha1.update(b, valueStart, i - valueStart);
                    return HexFormat.of().formatHex(sha1.digest());
                }
            }
            throw new IllegalArgumentException(torrentFile + " has no info dictionary");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Adds {@code torrentFile} over {@code client} with its data already in {@code savePath}
     * ({@code skip_checking}), waits until it seeds, and returns its hash.
     */
    public static String seed(QbClient client, Path torrentFile, Path savePath) {
        String hash = infoHash(torrentFile);
        try {
            client.add(Files.readAllBytes(torrentFile), new QbClient.AddOptions(savePath.toString(), true, false));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        client.await(hash, "seed", t -> t.complete() && t.active(), Duration.ofSeconds(20));
        return hash;
    }

    /** Kills the process (SIGKILL) as a crash would; {@link #restart} brings it back. */
    public void kill() {
        stop(process);
        synchronized (RUNNING) {
            RUNNING.remove(process);
        }
    }

    /**
     * Starts qbittorrent-nox again on the same profile and port (after {@link #kill}), and waits
     * until its Web UI answers: the torrents are as it had saved them when it died.
     */
    public void restart() {
        kill();
        ProcessBuilder pb = new ProcessBuilder(
                        "qbittorrent-nox", "--profile=" + dir.resolve("profile"), "--webui-port=" + port)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(
                        dir.resolve("qbittorrent-nox.out").toFile()));
        try {
            synchronized (RUNNING) {
                process = pb.start();
                RUNNING.add(process);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        awaitWebUi();
    }

    /** Stops this process (SIGKILL: its profile is thrown away, so a graceful 2-second stop buys nothing). */
    @Override
    public void close() {
        stop(process);
        synchronized (RUNNING) {
            RUNNING.remove(process);
        }
    }

    private static void stop(Process p) {
        p.destroyForcibly();
        try {
            p.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void addShutdownHook() {
        if (hookAdded) {
            return;
        }
        hookAdded = true;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            List<Process> left;
            synchronized (RUNNING) {
                left = List.copyOf(RUNNING);
            }
            left.forEach(QbittorrentNox::stop);
        }));
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** Just enough bencode to find the {@code info} dictionary's bytes. */
    private static final class Bencode {
        /** The index just past the element that starts at {@code i}. */
        static int skip(byte[] b, int i) {
            byte c = b[i];
            if (c == 'i') {
                return indexOf(b, (byte) 'e', i) + 1;
            }
            if (c == 'l' || c == 'd') {
                int j = i + 1;
                while (b[j] != 'e') {
                    j = skip(b, j);
                }
                return j + 1;
            }
            int colon = indexOf(b, (byte) ':', i);
            int len = Integer.parseInt(new String(b, i, colon - i, StandardCharsets.US_ASCII));
            return colon + 1 + len;
        }

        /** The byte string that starts at {@code i}, as text. */
        static String string(byte[] b, int i) {
            int colon = indexOf(b, (byte) ':', i);
            int len = Integer.parseInt(new String(b, i, colon - i, StandardCharsets.US_ASCII));
            return new String(b, colon + 1, len, StandardCharsets.UTF_8);
        }

        private static int indexOf(byte[] b, byte x, int from) {
            for (int j = from; j < b.length; j++) {
                if (b[j] == x) {
                    return j;
                }
            }
            throw new IllegalArgumentException("truncated bencode");
        }
    }
}
