package io.custos.notify;

import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One POST with a hard deadline covering connect, request and answer. Notification targets and
 * health pings both go through it; it never throws.
 */
final class HttpPost {
    /** What one attempt came to: {@code error} is null on a 2xx answer. */
    record Outcome(int status, String error) {
        boolean ok() {
            return error == null;
        }
    }

    private static final int MAX_ERROR_BODY = 200;

    private HttpPost() {}

    /** An HTTP/1.1 client: every server speaks it, and no h2c upgrade header confuses a small one. */
    static HttpClient client(Duration connectTimeout) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(connectTimeout)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    static Outcome send(HttpClient client, URI uri, Map<String, String> headers, byte[] body, Duration timeout) {
        HttpRequest.Builder b;
        try {
            b = HttpRequest.newBuilder(uri)
                    .timeout(timeout)
                    .header("User-Agent", "custos")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        } catch (IllegalArgumentException e) {
            return new Outcome(
                    0, "invalid url " + display(uri.toString()) + " (must be http:// or https:// with a host)");
        }
        for (Map.Entry<String, String> h : headers.entrySet()) {
            try {
                b.header(h.getKey(), h.getValue());
            } catch (IllegalArgumentException e) {
                // the JDK's message quotes the value, which may be a token: name the header only
                return new Outcome(0, "invalid value for header " + h.getKey());
            }
        }
        CompletableFuture<HttpResponse<String>> f;
        try {
            f = client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            return new Outcome(0, describe(e, timeout));
        }
        try {
            // The request timeout alone may not cover connecting on every JDK; this bound always holds.
            HttpResponse<String> r = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            int status = r.statusCode();
            if (status >= 200 && status < 300) {
                return new Outcome(status, null);
            }
            StringBuilder err = new StringBuilder("HTTP ").append(status);
            if (status >= 300 && status < 400) {
                r.headers()
                        .firstValue("Location")
                        .ifPresent(l -> err.append(" (redirected to ").append(l).append("; use that URL)"));
            }
            String text = r.body() == null ? "" : r.body().strip();
            if (!text.isEmpty()) {
                err.append(": ").append(oneLine(text));
            }
            return new Outcome(status, err.toString());
        } catch (TimeoutException e) {
            f.cancel(true);
            return new Outcome(0, "no answer within " + seconds(timeout));
        } catch (ExecutionException e) {
            return new Outcome(0, describe(e.getCause() == null ? e : e.getCause(), timeout));
        } catch (InterruptedException e) {
            f.cancel(true);
            Thread.currentThread().interrupt();
            return new Outcome(0, "interrupted");
        }
    }

    private static String describe(Throwable t, Duration timeout) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        if (t instanceof HttpConnectTimeoutException) {
            return "could not connect within " + seconds(timeout);
        }
        if (t instanceof HttpTimeoutException) {
            return "no answer within " + seconds(timeout);
        }
        if (t instanceof ConnectException) {
            return "cannot connect" + (t.getMessage() == null ? " (connection refused)" : ": " + t.getMessage());
        }
        String m = t.getMessage();
        return t.getClass().getSimpleName() + (m == null ? "" : ": " + oneLine(m));
    }

    private static String oneLine(String s) {
        String t = s.replaceAll("\\s+", " ");
        return t.length() > MAX_ERROR_BODY ? t.substring(0, MAX_ERROR_BODY) + "..." : t;
    }

    private static String seconds(Duration d) {
        long ms = d.toMillis();
        return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
    }

    /** {@code URI.create}, with an error that does not repeat the URL (it may hold a password). */
    static URI uri(String url) {
        try {
            return new URI(url);
        } catch (java.net.URISyntaxException e) {
            throw new IllegalArgumentException(
                    "invalid url " + display(url) + ": " + e.getReason() + " at index " + e.getIndex(), e);
        }
    }

    /**
     * {@code base} with {@code suffix} added to its path (no double slash) and {@code query}
     * ({@code k=v}, may be null) added to its query.
     */
    static URI join(String base, String suffix, String query) {
        int q = base.indexOf('?');
        String path = q < 0 ? base : base.substring(0, q);
        String oldQuery = q < 0 ? null : base.substring(q + 1);
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        StringBuilder sb = new StringBuilder(path).append(suffix);
        if (oldQuery != null && !oldQuery.isEmpty()) {
            sb.append('?').append(oldQuery);
            if (query != null) {
                sb.append('&').append(query);
            }
        } else if (query != null) {
            sb.append('?').append(query);
        }
        return uri(sb.toString());
    }

    /**
     * The URL as logs and reports show it: no user:password, no query values (either may hold a
     * secret, like gotify's {@code ?token=}).
     */
    static String display(String url) {
        if (url == null) {
            return null;
        }
        String s = url;
        int scheme = s.indexOf("://");
        if (scheme >= 0) {
            int hostStart = scheme + 3;
            int slash = s.indexOf('/', hostStart);
            int end = slash < 0 ? s.length() : slash;
            int at = s.lastIndexOf('@', end - 1);
            if (at >= hostStart) {
                s = s.substring(0, hostStart) + "***@" + s.substring(at + 1);
            }
        }
        int q = s.indexOf('?');
        if (q >= 0) {
            StringBuilder sb = new StringBuilder(s.substring(0, q + 1));
            String[] pairs = s.substring(q + 1).split("&", -1);
            for (int i = 0; i < pairs.length; i++) {
                if (i > 0) {
                    sb.append('&');
                }
                int eq = pairs[i].indexOf('=');
                sb.append(eq < 0 ? pairs[i] : pairs[i].substring(0, eq + 1) + "***");
            }
            s = sb.toString();
        }
        return s;
    }

    /** {@code s} cut to at most {@code maxBytes} of UTF-8, never inside a character. */
    static byte[] utf8Prefix(String s, int maxBytes, String marker) {
        byte[] all = s.getBytes(StandardCharsets.UTF_8);
        if (all.length <= maxBytes) {
            return all;
        }
        byte[] m = marker.getBytes(StandardCharsets.UTF_8);
        int end = Math.max(0, maxBytes - m.length);
        while (end > 0 && (all[end] & 0xC0) == 0x80) {
            end--; // a continuation byte: step back to the start of the character
        }
        byte[] out = new byte[end + m.length];
        System.arraycopy(all, 0, out, 0, end);
        System.arraycopy(m, 0, out, end, m.length);
        return out;
    }
}
