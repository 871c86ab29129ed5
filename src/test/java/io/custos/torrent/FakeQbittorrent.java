package io.custos.torrent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A real HTTP server on 127.0.0.1 that answers the few Web API calls custos makes the way
 * qBittorrent 5 does (Web API 2.11.2 unless told otherwise): {@code stop}/{@code start}, states
 * {@code stoppedUP}/{@code stalledUP}, and 404 for the 4.x endpoints {@code pause}/{@code resume}.
 * It holds one torrent and records every request.
 */
final class FakeQbittorrent implements AutoCloseable {
    static final String HASH = "0123456789abcdef0123456789abcdef01234567";

    record Request(String method, String path, String query, Map<String, String> headers, String body) {
        String header(String name) {
            return headers.get(name.toLowerCase(java.util.Locale.ROOT));
        }
    }

    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool();
    private final List<Request> requests = new ArrayList<>();
    /** Statuses to answer, in order, before the normal answer; per path such as {@code torrents/info}. */
    private final Map<String, Deque<Integer>> failures = new HashMap<>();

    private String version = "2.11.2";
    private String username;
    private String password;
    private String apiKey;
    /** What a login answers instead of checking the password: e.g. 403 for a banned address. */
    private Integer loginStatus;

    private String loginBody;
    private String session;
    private int sessions;
    private String state = "stalledUP";
    private double progress = 1.0;

    FakeQbittorrent() {
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
    }

    synchronized FakeQbittorrent version(String v) {
        this.version = v;
        return this;
    }

    /** Asks for a login with these credentials (LocalHostAuth on). */
    synchronized FakeQbittorrent login(String user, String pass) {
        this.username = user;
        this.password = pass;
        return this;
    }

    /** Accepts only this API key, as {@code Authorization: Bearer}. */
    synchronized FakeQbittorrent apiKey(String key) {
        this.apiKey = key;
        return this;
    }

    /** Answers every login with this status and body, whatever the credentials. */
    synchronized FakeQbittorrent loginAnswer(int status, String body) {
        this.loginStatus = status;
        this.loginBody = body;
        return this;
    }

    /** Forgets the session, as qBittorrent does after its session timeout or a restart. */
    synchronized void expireSession() {
        session = null;
    }

    synchronized FakeQbittorrent state(String s, double p) {
        this.state = s;
        this.progress = p;
        return this;
    }

    /** The next requests to {@code path} get these statuses, then the normal answer. */
    synchronized FakeQbittorrent fail(String path, Integer... statuses) {
        failures.computeIfAbsent(path, k -> new ArrayDeque<>()).addAll(List.of(statuses));
        return this;
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    synchronized List<Request> requests() {
        return List.copyOf(requests);
    }

    /** The paths below {@code /api/v2/} requested, in order. */
    List<String> paths() {
        return requests().stream().map(Request::path).toList();
    }

    synchronized int sessions() {
        return sessions;
    }

    private void handle(HttpExchange ex) throws IOException {
        Map<String, String> headers = new HashMap<>();
        ex.getRequestHeaders()
                .forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), String.join(",", v)));
        String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
        String path = ex.getRequestURI().getPath().replaceFirst("^/api/v2/", "");
        Request r = new Request(ex.getRequestMethod(), path, ex.getRequestURI().getRawQuery(), headers, body);
        int status;
        String answer;
        synchronized (this) {
            requests.add(r);
            Deque<Integer> f = failures.get(path);
            Integer failure = f == null ? null : f.poll();
            if (failure != null) {
                status = failure;
                answer = "failure";
            } else {
                String[] a = answer(r);
                status = Integer.parseInt(a[0]);
                answer = a[1];
                if (a.length > 2) {
                    ex.getResponseHeaders().add("Set-Cookie", a[2]);
                }
            }
        }
        byte[] bytes = answer.getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            ex.getResponseBody().write(bytes);
        }
        ex.close();
    }

    /** {status, body[, Set-Cookie]} for one request, with the lock held. */
    private String[] answer(Request r) {
        if (r.path().equals("auth/login")) {
            if (loginStatus != null) {
                return new String[] {Integer.toString(loginStatus), loginBody};
            }
            Map<String, String> form = form(r.body());
            if (username != null && username.equals(form.get("username")) && password.equals(form.get("password"))) {
                sessions++;
                session = "s" + sessions;
                return new String[] {"200", "Ok.", "SID=" + session + "; HttpOnly; path=/"};
            }
            return new String[] {"200", "Fails."};
        }
        if (!authorized(r)) {
            return new String[] {"403", "Forbidden"};
        }
        boolean post = r.method().equals("POST");
        switch (r.path()) {
            case "app/webapiVersion":
                return new String[] {"200", version};
            case "torrents/info":
                return new String[] {"200", torrentsJson()};
            case "torrents/stop":
                if (!post) {
                    return new String[] {"405", "Method Not Allowed"};
                }
                state = "stoppedUP";
                return new String[] {"200", ""};
            case "torrents/start":
                if (!post) {
                    return new String[] {"405", "Method Not Allowed"};
                }
                state = "stalledUP";
                return new String[] {"200", ""};
            default:
                return new String[] {"404", "Not Found"};
        }
    }

    private boolean authorized(Request r) {
        if (apiKey != null) {
            return ("Bearer " + apiKey).equals(r.header("Authorization"));
        }
        if (username == null) {
            return true;
        }
        String cookie = r.header("Cookie");
        return session != null
                && cookie != null
                && List.of(cookie.split(";\\s*")).contains("SID=" + session);
    }

    private String torrentsJson() {
        return "[{\"hash\":\"" + HASH + "\",\"name\":\"pay\",\"save_path\":\"/stash\",\"content_path\":\"/stash/pay\","
                + "\"category\":\"tv\",\"tags\":\"keep, seed\",\"state\":\"" + state + "\",\"progress\":" + progress
                + ",\"size\":170000,\"amount_left\":" + Math.round((1 - progress) * 170000) + "}]";
    }

    private static Map<String, String> form(String body) {
        Map<String, String> out = new HashMap<>();
        for (String pair : body.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                out.put(
                        URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                        URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
