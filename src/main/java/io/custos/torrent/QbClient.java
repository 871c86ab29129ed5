package io.custos.torrent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.custos.config.Config;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A client of qBittorrent's Web API v2 (SPEC §9), for qBittorrent 4.1 to 5.x. It logs in with a
 * username and password (keeping the session cookie, and logging in again when the session
 * expires), with an API key (qBittorrent 5.2+), or not at all when qBittorrent lets this host in;
 * reads the Web API version once and uses {@code pause}/{@code resume} or {@code stop}/{@code
 * start} to suit it. Reads are retried with backoff; every failure is a {@link CustosException},
 * exit 5 when qBittorrent cannot be reached ({@link QbUnreachableException}), refuses the login or
 * refuses a request. Secrets never
 * appear in a message or a log line. Safe for use by several threads.
 *
 * <p>Hashes are 40 or 64 hex digits; anything else is a programming error ({@link
 * IllegalArgumentException}), so that no request can ever name qBittorrent's {@code all}.
 */
public final class QbClient {
    /** Waits; tests pass one that only records the wait. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    /**
     * {@code requestTimeout} bounds each HTTP exchange; a read is retried {@code retries} times,
     * first after {@code backoff}, then after twice the previous wait; {@link #await} polls every
     * {@code pollInterval}.
     */
    public record Timing(Duration requestTimeout, int retries, Duration backoff, Duration pollInterval) {
        public static final Timing DEFAULT =
                new Timing(Duration.ofSeconds(30), 3, Duration.ofSeconds(1), Duration.ofMillis(500));
    }

    /**
     * How {@link #add} adds a torrent: into {@code savePath} (never an automatic category path),
     * trusting the data there without a check when {@code skipChecking}, stopped when {@code
     * stopped}.
     */
    public record AddOptions(String savePath, boolean skipChecking, boolean stopped) {}

    private enum Login {
        NONE,
        PASSWORD,
        API_KEY
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    /** v1 info-hash (40 hex) or v2 (64 hex): anything else could smuggle a separator into a request. */
    private static final Pattern HASH = Pattern.compile("[0-9a-fA-F]{40}|[0-9a-fA-F]{64}");

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Config.Qbittorrent config;
    private final Login login;
    private final Timing timing;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Log log;
    private final QbHttp http;
    private WebApiVersion version;

    public QbClient(Config.Qbittorrent config, Log log) {
        this(config, Timing.DEFAULT, Clock.systemUTC(), d -> Thread.sleep(d.toMillis()), log);
    }

    public QbClient(Config.Qbittorrent config, Timing timing, Clock clock, Sleeper sleeper, Log log) {
        this.config = Objects.requireNonNull(config, "config");
        this.timing = Objects.requireNonNull(timing, "timing");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
        this.log = Objects.requireNonNull(log, "log");
        this.login = config.apiKey() != null || config.apiKeyFile() != null
                ? Login.API_KEY
                : config.username() != null ? Login.PASSWORD : Login.NONE;
        this.http = new QbHttp(config.url(), timing, sleeper, log);
    }

    /** The URL of qBittorrent's Web UI, as messages show it. */
    public String url() {
        return http.url();
    }

    /**
     * Logs in when configured to and reads the Web API version. Every other method does this
     * first; calling it early only moves a connection or login error to the start.
     */
    public synchronized WebApiVersion connect() {
        if (version != null) {
            return version;
        }
        if (login == Login.PASSWORD) {
            logIn();
        } else if (login == Login.API_KEY) {
            http.header("Authorization", "Bearer " + apiKey());
        }
        QbHttp.Answer a = call(QbHttp.Call.get("app/webapiVersion", null));
        expectOk(a, "app/webapiVersion");
        WebApiVersion v;
        try {
            v = WebApiVersion.parse(a.body());
        } catch (IllegalArgumentException e) {
            throw CustosException.environment(
                    "qBittorrent at " + url() + " answered \"" + a.text()
                            + "\" when asked for its Web API version: is that URL qBittorrent's Web UI?",
                    e);
        }
        if (login == Login.API_KEY && !v.atLeast(WebApiVersion.API_KEY)) {
            throw CustosException.environment(
                    "qBittorrent at " + url() + " has Web API " + v + ", which ignores API keys (they need qBittorrent"
                            + " 5.2 or later, Web API " + WebApiVersion.API_KEY + "): set qbittorrent.username and"
                            + " password_file instead of api_key",
                    null);
        }
        version = v;
        log.debug("qBittorrent at %s: Web API %s (%s)", url(), v, v.stopStart() ? "stop/start" : "pause/resume");
        return v;
    }

    /** Every torrent. */
    public List<Torrent> torrents() {
        connect();
        return parseTorrents(read("torrents/info", null));
    }

    /** The torrents of these hashes that qBittorrent has; an unknown hash is simply absent. */
    public List<Torrent> torrents(Collection<String> hashes) {
        if (hashes.isEmpty()) {
            return List.of(); // an empty filter would mean "all" to qBittorrent
        }
        connect();
        return parseTorrents(read("torrents/info", "hashes=" + encode(joined(hashes))));
    }

    /** One torrent, or empty when qBittorrent does not have it. */
    public Optional<Torrent> torrent(String hash) {
        return torrents(List.of(hash)).stream()
                .filter(t -> t.hash().equalsIgnoreCase(hash))
                .findFirst();
    }

    /**
     * The files of a torrent, in the torrent's order; names are relative to its save path. An
     * unknown hash is an error.
     */
    public List<TorrentFile> files(String hash) {
        connect();
        JsonNode arr = read("torrents/files", "hash=" + encode(checked(hash)), hash);
        List<TorrentFile> out = new ArrayList<>();
        int i = 0;
        for (JsonNode f : array(arr, "torrents/files")) {
            String at = "torrents/files";
            int index = f.has("index") ? f.get("index").asInt() : i;
            out.add(new TorrentFile(
                    index,
                    text(f, "name", at),
                    number(f, "size", at).asLong(),
                    number(f, "progress", at).asDouble(),
                    f.has("priority") ? f.get("priority").asInt() : 1));
            i++;
        }
        return out;
    }

    /** Where a torrent is saved and how it is cut into pieces; an unknown hash is an error. */
    public TorrentProperties properties(String hash) {
        connect();
        String at = "torrents/properties";
        JsonNode p = read(at, "hash=" + encode(checked(hash)), hash);
        return new TorrentProperties(
                text(p, "save_path", at),
                number(p, "piece_size", at).asLong(),
                number(p, "pieces_num", at).asInt(),
                number(p, "pieces_have", at).asInt(),
                number(p, "total_size", at).asLong());
    }

    /** Stops (qBittorrent 5) or pauses (qBittorrent 4) the torrents. */
    public void stop(Collection<String> hashes) {
        String endpoint = connect().stopStart() ? "torrents/stop" : "torrents/pause";
        act(endpoint, hashes, Map.of());
    }

    /** Starts (qBittorrent 5) or resumes (qBittorrent 4) the torrents. */
    public void start(Collection<String> hashes) {
        String endpoint = connect().stopStart() ? "torrents/start" : "torrents/resume";
        act(endpoint, hashes, Map.of());
    }

    /**
     * Points the torrents at {@code location}, their new save path. qBittorrent moves the files
     * there itself unless they already exist there; custos puts the data in place first.
     */
    public void setLocation(Collection<String> hashes, String location) {
        act("torrents/setLocation", hashes, Map.of("location", location));
    }

    /** Asks qBittorrent to check the torrents' data again; it answers before the check begins. */
    public void recheck(Collection<String> hashes) {
        act("torrents/recheck", hashes, Map.of());
    }

    /**
     * Adds a torrent from the bytes of its {@code .torrent} file. qBittorrent adds it a moment
     * later: {@link #await} it by its info-hash.
     */
    public void add(byte[] torrentFile, AddOptions options) {
        boolean stopStart = connect().stopStart();
        String boundary = "----custos" + HexFormat.of().formatHex(randomBytes());
        Multipart m = new Multipart(boundary);
        m.file("torrents", "upload.torrent", "application/x-bittorrent", torrentFile);
        m.field("savepath", options.savePath());
        // A category's automatic path would override savepath.
        m.field("autoTMM", "false");
        m.field("skip_checking", Boolean.toString(options.skipChecking()));
        m.field(stopStart ? "stopped" : "paused", Boolean.toString(options.stopped()));
        QbHttp.Answer a = call(
                new QbHttp.Call("torrents/add", null, "multipart/form-data; boundary=" + boundary, m.finish(), false));
        if ("Fails.".equals(a.body().strip())) {
            throw CustosException.environment(
                    "qBittorrent at " + url() + " did not add the torrent (\"Fails.\", which is also its answer"
                            + " for a torrent it already has)",
                    null);
        }
        if (!a.ok()) {
            throw CustosException.environment(
                    "qBittorrent at " + url() + " did not add the torrent: HTTP " + a.status() + ": " + a.text(), null);
        }
    }

    /**
     * Polls the torrent every {@code pollInterval} until {@code until} holds, and returns it as it
     * then was. States lag the request that changes them by a second or more, so a caller checks
     * for the state it wants, not for the absence of the old one. A torrent not yet seen is waited
     * for (it may just have been added); one that disappears while waited on is an error at once.
     * {@code what} completes "did not ..." in the error at the deadline.
     */
    public Torrent await(String hash, String what, Predicate<Torrent> until, Duration timeout) {
        Instant deadline = clock.instant().plus(timeout);
        Torrent last = null;
        while (true) {
            Optional<Torrent> t = torrent(hash);
            if (t.isEmpty() && last != null) {
                throw CustosException.environment(
                        "torrent " + hash + " (" + last.name() + ") disappeared from qBittorrent at " + url()
                                + " while custos waited until it would " + what,
                        null);
            }
            if (t.isPresent()) {
                last = t.get();
                if (until.test(last)) {
                    return last;
                }
            }
            if (!clock.instant().isBefore(deadline)) {
                String now = last == null
                        ? "it is not in qBittorrent"
                        : "state " + last.state() + ", progress "
                                + String.format(Locale.ROOT, "%.1f", last.progress() * 100) + "%";
                throw CustosException.environment(
                        "torrent " + hash + " did not " + what + " within " + QbHttp.seconds(timeout) + " (" + now
                                + ")",
                        null);
            }
            try {
                sleeper.sleep(timing.pollInterval());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CustosException(ExitCode.INTERRUPTED, "interrupted while waiting for torrent " + hash, e);
            }
        }
    }

    // ---- requests

    private JsonNode read(String endpoint, String query) {
        return read(endpoint, query, null);
    }

    /** A GET that answers JSON; {@code hash}: the torrent asked about, for a 404's message. */
    private JsonNode read(String endpoint, String query, String hash) {
        QbHttp.Answer a = call(QbHttp.Call.get(endpoint, query));
        if (a.status() == 404 && hash != null) {
            throw CustosException.environment(
                    "qBittorrent at " + url() + " has no torrent " + hash + " (" + endpoint + ": HTTP 404)", null);
        }
        expectOk(a, endpoint);
        try {
            return JSON.readTree(a.body());
        } catch (IOException e) {
            throw unreadable(endpoint, "not JSON: " + a.text(), e);
        }
    }

    /** A POST of a form with {@code hashes}; nothing is sent for an empty list. */
    private void act(String endpoint, Collection<String> hashes, Map<String, String> more) {
        if (hashes.isEmpty()) {
            return; // qBittorrent reads an empty list as no torrent, but "all" is one typo away
        }
        connect();
        Map<String, String> form = new LinkedHashMap<>();
        form.put("hashes", joined(hashes));
        form.putAll(more);
        QbHttp.Answer a = call(form(endpoint, form, false));
        expectOk(a, endpoint);
    }

    /**
     * Sends a call; a 403 with a password login means the session expired (qBittorrent forgets it
     * after an hour idle, or on a restart), so log in again once and repeat the call.
     */
    private QbHttp.Answer call(QbHttp.Call c) {
        QbHttp.Answer a = http.send(c);
        if (authRefused(a) && login == Login.PASSWORD) {
            log.debug("qBittorrent at %s: %s answered HTTP %d; logging in again", url(), c.endpoint(), a.status());
            logIn();
            a = http.send(c);
        }
        return a;
    }

    private void expectOk(QbHttp.Answer a, String endpoint) {
        if (a.ok()) {
            return;
        }
        if (authRefused(a)) {
            throw CustosException.environment(forbidden(a), null);
        }
        String message = "qBittorrent at " + url() + " refused " + endpoint + ": HTTP " + a.status()
                + (a.text().isEmpty() ? "" : ": " + a.text());
        throw a.status() >= 500
                ? new QbUnreachableException(message, null)
                : CustosException.environment(message, null);
    }

    /**
     * A refusal for want of a login: 401 (qBittorrent 5.2), or 403 with qBittorrent's bare
     * "Forbidden". A 403 with another text is about the request (setLocation: "Cannot write to
     * directory").
     */
    private static boolean authRefused(QbHttp.Answer a) {
        String t = a.text();
        return a.status() == 401 || (a.status() == 403 && (t.isEmpty() || t.equalsIgnoreCase("Forbidden")));
    }

    private String forbidden(QbHttp.Answer a) {
        String answer = "HTTP " + a.status() + (a.text().isEmpty() ? "" : ": " + a.text());
        return switch (login) {
            case NONE ->
                "qBittorrent at " + url() + " asks for a login (" + answer + "): set qbittorrent.username"
                        + " and qbittorrent.password_file, or qbittorrent.api_key_file (qBittorrent 5.2 or later)";
            case PASSWORD ->
                "qBittorrent at " + url() + " refused access to user \"" + config.username()
                        + "\" even after logging in (" + answer + ")";
            case API_KEY ->
                "qBittorrent at " + url() + " rejected the API key (" + answer + "); API keys need"
                        + " qBittorrent 5.2 or later";
        };
    }

    private synchronized void logIn() {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("username", config.username());
        form.put("password", password());
        // Repeating a login is harmless, so it is retried like a read.
        QbHttp.Answer a = http.send(form("auth/login", form, true));
        String body = a.body() == null ? "" : a.body().strip();
        // qBittorrent up to 5.1 answers 200 "Ok." or 200 "Fails."; 5.2 answers 204 or 401.
        if (a.ok() && !"Fails.".equals(body)) {
            http.header("Cookie", a.cookies().isEmpty() ? null : String.join("; ", a.cookies()));
            log.debug("qBittorrent at %s: logged in as %s", url(), config.username());
            return;
        }
        if ("Fails.".equals(body) || a.status() == 401) {
            throw CustosException.environment(
                    "qBittorrent at " + url() + " rejected the login of user \"" + config.username()
                            + "\": wrong username or password (qbittorrent.username, qbittorrent."
                            + (config.passwordFile() != null ? "password_file" : "password") + ")",
                    null);
        }
        if (a.status() == 403) {
            // qBittorrent bans an address after too many failed logins (five, by default).
            throw CustosException.environment(
                    "qBittorrent at " + url() + " refused the login of user \"" + config.username() + "\": HTTP 403"
                            + (a.text().isEmpty() ? "" : ": " + a.text()),
                    null);
        }
        String message = "qBittorrent at " + url() + " answered the login with HTTP " + a.status()
                + (a.text().isEmpty() ? "" : ": " + a.text());
        throw a.status() >= 500
                ? new QbUnreachableException(message, null)
                : CustosException.environment(message, null);
    }

    private static QbHttp.Call form(String endpoint, Map<String, String> fields, boolean retryable) {
        StringBuilder sb = new StringBuilder();
        fields.forEach((k, v) -> {
            if (sb.length() > 0) {
                sb.append('&');
            }
            sb.append(encode(k)).append('=').append(encode(v));
        });
        return new QbHttp.Call(
                endpoint,
                null,
                "application/x-www-form-urlencoded",
                sb.toString().getBytes(StandardCharsets.UTF_8),
                retryable);
    }

    // ---- secrets

    private String password() {
        return config.password() != null
                ? config.password()
                : secretFile("qbittorrent.password_file", config.passwordFile(), "password");
    }

    private String apiKey() {
        String key = config.apiKey() != null
                ? config.apiKey()
                : secretFile("qbittorrent.api_key_file", config.apiKeyFile(), "API key");
        if (!key.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            // never echoed: it is a secret
            throw CustosException.environment(
                    "the qBittorrent API key contains spaces or characters other than printable ASCII", null);
        }
        return key;
    }

    /** The first line of a secret file, without its line ending (a password may have spaces at its ends). */
    private static String secretFile(String key, String file, String what) {
        if (file == null) {
            throw CustosException.usage(key + ": not set, and no " + what + " given otherwise");
        }
        try {
            String text = Files.readString(Path.of(file), StandardCharsets.UTF_8);
            int nl = text.indexOf('\n');
            String first = nl < 0 ? text : text.substring(0, nl);
            if (first.endsWith("\r")) {
                first = first.substring(0, first.length() - 1);
            }
            if (first.isEmpty()) {
                throw CustosException.environment(
                        key + " " + file + " is empty: put the " + what + " on its first line", null);
            }
            return first;
        } catch (IOException | RuntimeException e) {
            if (e instanceof CustosException ce) {
                throw ce;
            }
            String why = e instanceof NoSuchFileException
                    ? "no such file"
                    : e instanceof AccessDeniedException
                            ? "permission denied"
                            : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            throw CustosException.environment("cannot read " + key + " " + file + ": " + why, e);
        }
    }

    // ---- JSON

    private List<Torrent> parseTorrents(JsonNode arr) {
        String at = "torrents/info";
        List<Torrent> out = new ArrayList<>();
        for (JsonNode t : array(arr, at)) {
            String tags = t.hasNonNull("tags") ? t.get("tags").asText() : "";
            List<String> tagList = tags.isBlank()
                    ? List.of()
                    : Arrays.stream(tags.split(","))
                            .map(String::strip)
                            .filter(s -> !s.isEmpty())
                            .toList();
            out.add(new Torrent(
                    text(t, "hash", at),
                    text(t, "name", at),
                    text(t, "save_path", at),
                    text(t, "content_path", at),
                    t.hasNonNull("category") ? t.get("category").asText() : "",
                    tagList,
                    text(t, "state", at),
                    number(t, "progress", at).asDouble(),
                    number(t, "size", at).asLong(),
                    number(t, "amount_left", at).asLong()));
        }
        return out;
    }

    private Iterable<JsonNode> array(JsonNode n, String at) {
        if (n == null || !n.isArray()) {
            throw unreadable(at, "expected a JSON array", null);
        }
        return n;
    }

    private String text(JsonNode n, String field, String at) {
        JsonNode v = n.get(field);
        if (v == null || !v.isTextual()) {
            throw unreadable(at, "no text field \"" + field + "\"", null);
        }
        return v.asText();
    }

    private JsonNode number(JsonNode n, String field, String at) {
        JsonNode v = n.get(field);
        if (v == null || !v.isNumber()) {
            throw unreadable(at, "no number field \"" + field + "\"", null);
        }
        return v;
    }

    private CustosException unreadable(String endpoint, String why, Throwable cause) {
        return CustosException.environment(
                "qBittorrent at " + url() + " answered " + endpoint + " in a form custos cannot read (" + why
                        + "); custos supports qBittorrent 4.1 to 5.x",
                cause);
    }

    // ---- helpers

    private static String joined(Collection<String> hashes) {
        List<String> checked = new ArrayList<>();
        for (String h : hashes) {
            checked.add(checked(h));
        }
        return String.join("|", checked);
    }

    private static String checked(String hash) {
        if (hash == null || !HASH.matcher(hash).matches()) {
            throw new IllegalArgumentException("not a torrent hash (40 or 64 hex digits): " + hash);
        }
        return hash.toLowerCase(Locale.ROOT);
    }

    private static String encode(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[12];
        RANDOM.nextBytes(b);
        return b;
    }

    /** A multipart/form-data body (RFC 7578), built in memory: a .torrent file is small. */
    private static final class Multipart {
        private final String boundary;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Multipart(String boundary) {
            this.boundary = boundary;
        }

        void field(String name, String value) {
            write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n");
            write(value);
            write("\r\n");
        }

        void file(String name, String fileName, String type, byte[] content) {
            write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + fileName
                    + "\"\r\nContent-Type: " + type + "\r\n\r\n");
            out.writeBytes(content);
            write("\r\n");
        }

        byte[] finish() {
            write("--" + boundary + "--\r\n");
            return out.toByteArray();
        }

        private void write(String s) {
            out.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        }
    }
}
