package io.custos.torrent;

import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * HTTP exchanges with one qBittorrent: a deadline on each, retries with backoff for the calls
 * that are safe to repeat, and one clear error when qBittorrent cannot be reached ({@link
 * QbUnreachableException}). Knows nothing of what the endpoints mean.
 */
final class QbHttp {
    /** One request: {@code endpoint} below {@code /api/v2/}; {@code body} null for a GET. */
    record Call(String endpoint, String query, String contentType, byte[] body, boolean retryable) {
        static Call get(String endpoint, String query) {
            return new Call(endpoint, query, null, null, true);
        }
    }

    /** An answer: {@code cookies} are the {@code name=value} parts of its {@code Set-Cookie} headers. */
    record Answer(int status, String body, List<String> cookies) {
        boolean ok() {
            return status >= 200 && status < 300;
        }

        /** The body on one line, cut short: for error messages. */
        String text() {
            String one = body == null ? "" : body.strip().replaceAll("\\s+", " ");
            return one.length() > 200 ? one.substring(0, 200) + "..." : one;
        }
    }

    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);

    private final String base;
    private final String display;
    private final QbClient.Timing timing;
    private final QbClient.Sleeper sleeper;
    private final Log log;
    private final HttpClient client;
    /** Sent with every request: the session cookie or the API key. */
    private final Map<String, String> headers = new LinkedHashMap<>();

    QbHttp(String url, QbClient.Timing timing, QbClient.Sleeper sleeper, Log log) {
        String b = url.strip();
        while (b.endsWith("/")) {
            b = b.substring(0, b.length() - 1);
        }
        this.base = b;
        this.display = display(b);
        this.timing = timing;
        this.sleeper = sleeper;
        this.log = log;
        // HTTP/1.1: qBittorrent's own server speaks nothing else, and an h2c upgrade header only adds risk.
        this.client = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(timing.requestTimeout())
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /** The URL as messages show it: without a {@code user:password@}. */
    String url() {
        return display;
    }

    synchronized void header(String name, String value) {
        if (value == null) {
            headers.remove(name);
        } else {
            headers.put(name, value);
        }
    }

    /**
     * Sends {@code call}; a retryable one is sent again after a connection failure, a timeout or a
     * 5xx answer, up to {@code timing.retries()} more times, waiting {@code backoff}, then twice
     * that, and so on. Any answer that is not retried is returned, whatever its status.
     */
    Answer send(Call call) {
        URI uri = uri(call);
        Duration wait = timing.backoff();
        int attempts = call.retryable() ? timing.retries() + 1 : 1;
        for (int attempt = 1; ; attempt++) {
            String failure;
            IOException error = null;
            try {
                Answer a = once(uri, call);
                if (a.status() < 500 || attempt >= attempts) {
                    return a;
                }
                failure = "HTTP " + a.status();
            } catch (IOException e) {
                if (attempt >= attempts) {
                    throw unreachable(e);
                }
                error = e;
                failure = describe(e);
            }
            log.warn(
                    "qBittorrent at %s: %s on %s; trying again in %s (attempt %d of %d)",
                    display, failure, call.endpoint(), seconds(wait), attempt + 1, attempts);
            try {
                sleeper.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw interrupted(error == null ? e : error);
            }
            wait = wait.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : wait.multipliedBy(2);
        }
    }

    private Answer once(URI uri, Call call) throws IOException {
        HttpRequest.Builder b =
                HttpRequest.newBuilder(uri).timeout(timing.requestTimeout()).header("User-Agent", "custos");
        if (call.body() == null) {
            b.GET();
        } else {
            b.header("Content-Type", call.contentType()).POST(HttpRequest.BodyPublishers.ofByteArray(call.body()));
        }
        synchronized (this) {
            headers.forEach(b::header);
        }
        CompletableFuture<HttpResponse<String>> f =
                client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        try {
            // The request timeout covers the wait for headers only; this bound holds for the whole exchange.
            HttpResponse<String> r = f.get(timing.requestTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
            List<String> cookies = r.headers().allValues("Set-Cookie").stream()
                    .map(c -> c.split(";", 2)[0].strip())
                    .filter(c -> c.indexOf('=') > 0)
                    .toList();
            return new Answer(r.statusCode(), r.body(), cookies);
        } catch (TimeoutException e) {
            f.cancel(true);
            throw new HttpTimeoutException("no answer within " + seconds(timing.requestTimeout()));
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof IOException io) {
                throw io;
            }
            throw new IOException(c == null ? e : c);
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            throw interrupted(e);
        }
    }

    private URI uri(Call call) {
        String s = base + "/api/v2/" + call.endpoint() + (call.query() == null ? "" : "?" + call.query());
        try {
            return new URI(s);
        } catch (URISyntaxException e) {
            throw CustosException.usage("qbittorrent.url: not a usable URL: " + display + " (" + e.getReason() + ")");
        }
    }

    private QbUnreachableException unreachable(IOException e) {
        if (e instanceof HttpConnectTimeoutException) {
            return new QbUnreachableException(
                    "cannot connect to qBittorrent at " + display + ": no connection within "
                            + seconds(timing.requestTimeout()),
                    e);
        }
        if (e instanceof HttpTimeoutException) {
            return new QbUnreachableException(
                    "qBittorrent at " + display + " did not answer within " + seconds(timing.requestTimeout()), e);
        }
        return new QbUnreachableException("cannot connect to qBittorrent at " + display + ": " + describe(e), e);
    }

    private CustosException interrupted(Throwable cause) {
        return new CustosException(
                ExitCode.INTERRUPTED, "interrupted while talking to qBittorrent at " + display, cause);
    }

    private static String describe(IOException e) {
        if (e instanceof ConnectException) {
            // The JDK's HttpClient usually gives no message for a refused connection.
            return e.getMessage() == null || e.getMessage().isBlank() ? "connection refused" : e.getMessage();
        }
        if (e instanceof HttpTimeoutException) {
            return e.getMessage() == null ? "timed out" : e.getMessage();
        }
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m.replaceAll("\\s+", " "));
    }

    static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    /** {@code url} without the {@code user:password@} part, which may hold a secret. */
    static String display(String url) {
        int scheme = url.indexOf("://");
        if (scheme < 0) {
            return url;
        }
        int hostStart = scheme + 3;
        int slash = url.indexOf('/', hostStart);
        int end = slash < 0 ? url.length() : slash;
        int at = url.lastIndexOf('@', end - 1);
        return at >= hostStart ? url.substring(0, hostStart) + url.substring(at + 1) : url;
    }
}
