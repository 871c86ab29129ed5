package io.custos.notify;

import io.custos.config.Config;
import io.custos.run.Log;
import io.custos.run.RunSummary;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Sends notices to the configured targets (SPEC §10): webhook, gotify, ntfy, healthchecks.
 * Each target gets {@code timeout_seconds} per attempt and {@code retries} more attempts, waiting
 * 1 s, 2 s, 4 s ... (at most 60 s) between them. A target that failed every attempt is tried only
 * once for the later notices of the same {@code Notifier}, so a server that is down does not hold a
 * run up for minutes per notice. Never throws; a failure is logged at warn with the target's type
 * and URL (never its token) and never changes an exit code. One thread at a time.
 */
public final class Notifier {
    /** What became of one notice at one target. {@code attempts} 0: nothing was sent (no token). */
    public record Delivery(String type, String url, boolean ok, int attempts, String error) {}

    static final long DEFAULT_BACKOFF_MILLIS = 1000;
    private static final long MAX_BACKOFF_MILLIS = 60_000;
    /** ntfy turns a longer body into an attachment (its message-size-limit, 4096 bytes). */
    static final int NTFY_MAX_BODY = 4000;

    private static final Set<String> ALARMING = Set.of(
            Notice.RUN_FAILED,
            Notice.FILE_DAMAGED,
            Notice.GUARD_TRIPPED,
            Notice.LARGE_CHANGE,
            "zip.failed",
            "rehome.failed");

    private final List<Config.Target> targets;
    private final Log log;
    private final long backoffMillis;
    private final boolean[] exhausted;
    private HttpClient client;

    public Notifier(List<Config.Target> targets, Log log) {
        this(targets, log, DEFAULT_BACKOFF_MILLIS);
    }

    /** {@code backoffMillis}: the wait before the first retry; it doubles for each next one. */
    Notifier(List<Config.Target> targets, Log log, long backoffMillis) {
        this.targets = targets == null ? List.of() : List.copyOf(targets);
        this.log = java.util.Objects.requireNonNull(log, "log");
        this.backoffMillis = backoffMillis;
        this.exhausted = new boolean[this.targets.size()];
    }

    /** Whether a target wants this event: {@code exclude_events} wins, empty {@code events} = all. */
    static boolean accepts(Config.Target t, String event) {
        if (Notice.TEST.equals(event)) {
            return true;
        }
        if (t.excludeEvents() != null && t.excludeEvents().contains(event)) {
            return false;
        }
        return t.events() == null || t.events().isEmpty() || t.events().contains(event);
    }

    /** Sends {@code n} to every target that accepts it; one {@link Delivery} per such target, in order. */
    public List<Delivery> send(Notice n) {
        List<Delivery> out = new ArrayList<>();
        for (int i = 0; i < targets.size(); i++) {
            Config.Target t = targets.get(i);
            if (!accepts(t, n.event())) {
                continue;
            }
            Delivery d;
            try {
                d = deliver(t, n, exhausted[i] ? 1 : 1 + Math.max(0, t.retries()));
            } catch (RuntimeException e) { // a bug here must not cost the run its exit code
                d = new Delivery(t.type(), HttpPost.display(t.url()), false, 0, "internal error: " + e);
            }
            if (d.ok()) {
                exhausted[i] = false;
                log.debug("notification %s sent to %s %s (%s)", n.event(), d.type(), d.url(), attempts(d.attempts()));
            } else {
                exhausted[i] = d.attempts() > 0;
                log.warn(
                        "notification %s to %s %s failed%s: %s",
                        n.event(),
                        d.type(),
                        d.url(),
                        d.attempts() == 0 ? "" : " after " + attempts(d.attempts()),
                        d.error());
            }
            out.add(d);
        }
        return out;
    }

    static String attempts(int n) {
        return n + (n == 1 ? " attempt" : " attempts");
    }

    private Delivery deliver(Config.Target t, Notice n, int maxAttempts) {
        String shown = HttpPost.display(t.url());
        Request r;
        try {
            r = request(t, n, token(t));
        } catch (TargetException e) {
            return new Delivery(t.type(), shown, false, 0, e.getMessage());
        }
        Duration timeout = Duration.ofSeconds(Math.max(1, t.timeoutSeconds()));
        String error = null;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            if (attempt > 1) {
                long wait = Math.min(MAX_BACKOFF_MILLIS, backoffMillis << Math.min(attempt - 2, 30));
                try {
                    Thread.sleep(wait);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return new Delivery(t.type(), shown, false, attempt - 1, error + " (then interrupted)");
                }
            }
            HttpPost.Outcome o = HttpPost.send(client(), r.uri, r.headers, r.body, timeout);
            if (o.ok()) {
                return new Delivery(t.type(), shown, true, attempt, null);
            }
            error = o.error();
            log.debug("notification %s to %s %s: attempt %d failed: %s", n.event(), t.type(), shown, attempt, error);
            if (Thread.currentThread().isInterrupted()) {
                return new Delivery(t.type(), shown, false, attempt, error);
            }
        }
        return new Delivery(t.type(), shown, false, maxAttempts, error);
    }

    private HttpClient client() {
        if (client == null) {
            int connect = targets.stream()
                    .mapToInt(Config.Target::timeoutSeconds)
                    .max()
                    .orElse(10);
            client = HttpPost.client(Duration.ofSeconds(Math.max(1, connect)));
        }
        return client;
    }

    /** One target's request for one notice, built once and sent on every attempt. */
    private record Request(URI uri, Map<String, String> headers, byte[] body) {}

    private static final class TargetException extends Exception {
        private static final long serialVersionUID = 1L;

        TargetException(String message) {
            super(message);
        }
    }

    /** {@code token}, else the first line of {@code token_file}, read now; null when neither is set. */
    private static String token(Config.Target t) throws TargetException {
        if (t.token() != null && !t.token().isEmpty()) {
            return t.token();
        }
        if (t.tokenFile() == null) {
            return null;
        }
        try {
            List<String> lines = Files.readAllLines(Path.of(t.tokenFile()), StandardCharsets.UTF_8);
            String first = lines.isEmpty() ? "" : lines.get(0).strip();
            if (first.isEmpty()) {
                throw new TargetException("token_file " + t.tokenFile() + " is empty: put the token on its first line");
            }
            return first;
        } catch (IOException | RuntimeException e) {
            String why = e instanceof java.nio.file.NoSuchFileException
                    ? "no such file"
                    : e instanceof java.nio.file.AccessDeniedException
                            ? "permission denied"
                            : e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
            throw new TargetException("cannot read token_file " + t.tokenFile() + ": " + why);
        }
    }

    private static Request request(Config.Target t, Notice n, String token) throws TargetException {
        if (t.url() == null || t.url().isEmpty()) {
            throw new TargetException("no url configured");
        }
        if (token != null && !token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
            // never echoed: it is a secret
            throw new TargetException("the token contains spaces or characters other than printable ASCII");
        }
        Map<String, String> h = new LinkedHashMap<>();
        try {
            switch (t.type()) {
                case "webhook" -> {
                    h.put("Content-Type", "application/json");
                    if (token != null) {
                        h.put("Authorization", "Bearer " + token);
                    }
                    return new Request(
                            HttpPost.uri(t.url()),
                            h,
                            RunSummary.toJson(n.document()).getBytes(StandardCharsets.UTF_8));
                }
                case "gotify" -> {
                    if (token == null) {
                        throw new TargetException("gotify needs an application token: set token or token_file");
                    }
                    h.put("Content-Type", "application/json");
                    h.put("X-Gotify-Key", token);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("title", n.title());
                    body.put("message", n.message());
                    body.put("priority", t.priority() == null ? 5 : t.priority());
                    return new Request(
                            HttpPost.join(t.url(), "/message", null),
                            h,
                            RunSummary.toJson(body).getBytes(StandardCharsets.UTF_8));
                }
                case "ntfy" -> {
                    h.put("Content-Type", "text/plain; charset=utf-8");
                    h.put("Title", headerValue(n.title()));
                    h.put("Priority", String.valueOf(ntfyPriority(t.priority(), n)));
                    h.put("Tags", alarming(n) ? "warning" : "white_check_mark");
                    if (token != null) {
                        h.put("Authorization", "Bearer " + token);
                    }
                    return new Request(
                            HttpPost.uri(t.url()), h, HttpPost.utf8Prefix(n.message(), NTFY_MAX_BODY, "..."));
                }
                case "healthchecks" -> {
                    h.put("Content-Type", "text/plain; charset=utf-8");
                    Object code = n.document().get("exit_code");
                    boolean run = Notice.RUN_COMPLETED.equals(n.event()) || Notice.RUN_FAILED.equals(n.event());
                    String suffix = run && code instanceof Integer c && c >= 0 && c <= 255 ? "/" + c : "/log";
                    return new Request(
                            HttpPost.join(t.url(), suffix, null), h, HttpPost.utf8Prefix(n.message(), 100_000, "..."));
                }
                default -> throw new TargetException("unknown target type " + t.type());
            }
        } catch (IllegalArgumentException e) {
            throw new TargetException(e.getMessage());
        }
    }

    /** Whether the notice reports something wrong (ntfy tag, and priority when none is configured). */
    static boolean alarming(Notice n) {
        if (ALARMING.contains(n.event())) {
            return true;
        }
        if (Notice.RUN_COMPLETED.equals(n.event())) {
            return !Integer.valueOf(0).equals(n.document().get("exit_code"));
        }
        return false;
    }

    /** ntfy's 1 (min) to 5 (max): the configured priority clamped, else 4 for bad news and 3 otherwise. */
    static int ntfyPriority(Integer configured, Notice n) {
        if (configured != null) {
            return Math.max(1, Math.min(5, configured));
        }
        return alarming(n) ? 4 : 3;
    }

    /**
     * A header value as printable ASCII: text with other characters (accents, emoji, or a line break
     * from a file name) becomes RFC 2047 encoded words, which ntfy decodes.
     */
    static String headerValue(String s) {
        boolean plain = s.chars().allMatch(c -> c >= 0x20 && c < 0x7f);
        if (plain) {
            return s;
        }
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < s.length()) {
            // at most 45 bytes per word: 60 base64 characters, 72 with the frame (RFC 2047: 75)
            int end = i;
            int bytes = 0;
            while (end < s.length()) {
                int cp = s.codePointAt(end);
                int len = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8).length;
                if (bytes + len > 45) {
                    break;
                }
                bytes += len;
                end += Character.charCount(cp);
            }
            if (out.length() > 0) {
                out.append(' ');
            }
            out.append("=?UTF-8?B?")
                    .append(Base64.getEncoder()
                            .encodeToString(s.substring(i, end).getBytes(StandardCharsets.UTF_8)))
                    .append("?=");
            i = end;
        }
        return out.toString();
    }
}
