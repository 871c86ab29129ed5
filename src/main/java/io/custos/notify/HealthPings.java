package io.custos.notify;

import io.custos.run.Log;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * Pings {@code metrics.healthchecks_url} (SPEC §10): {@code /start} when a run begins and
 * {@code /<exit code>} when it ends, so healthchecks measures the run's duration, marks exit 0 as
 * up and anything else as down, and alerts when a run does not come at all.
 *
 * <p>Both pings carry {@code ?rid=<uuid>} so healthchecks pairs them even when runs overlap. The
 * UUID is derived from the run id ({@link #rid}), so start and finish agree without keeping state.
 * Each ping waits at most 5 s and is tried at most twice; a failure is logged at warn, never
 * thrown, and never changes an exit code.
 */
public final class HealthPings {
    static final int MAX_BODY = 10 * 1024;
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    private final String url;
    private final Log log;
    private final Duration timeout;
    private final long retryDelayMillis;
    private HttpClient client;

    /** {@code url} null: every ping is a no-op. */
    public HealthPings(String url, Log log) {
        this(url, log, TIMEOUT, 1000);
    }

    HealthPings(String url, Log log, Duration timeout, long retryDelayMillis) {
        this.url = url == null || url.isEmpty() ? null : url;
        this.log = java.util.Objects.requireNonNull(log, "log");
        this.timeout = timeout;
        this.retryDelayMillis = retryDelayMillis;
    }

    /** The run's {@code rid}: a name-based (version 3) UUID of {@code "custos run <id>"}. */
    public static UUID rid(long runId) {
        return UUID.nameUUIDFromBytes(("custos run " + runId).getBytes(StandardCharsets.UTF_8));
    }

    /** {@code POST <url>/start?rid=...}; true when healthchecks took it (false too when no url is set). */
    public boolean start(long runId) {
        return ping("/start", runId, new byte[0]);
    }

    /** {@code POST <url>/<exitCode>?rid=...} with {@code body} (cut to 10 KiB) as the ping's log. */
    public boolean finish(long runId, int exitCode, String body) {
        // healthchecks accepts exit statuses 0-255; anything else still must read as a failure
        int code = exitCode >= 0 && exitCode <= 255 ? exitCode : 1;
        return ping("/" + code, runId, HttpPost.utf8Prefix(body == null ? "" : body, MAX_BODY, "\n..."));
    }

    private boolean ping(String suffix, long runId, byte[] body) {
        if (url == null) {
            return false;
        }
        String shown = HttpPost.display(url);
        try {
            URI uri = HttpPost.join(url, suffix, "rid=" + rid(runId));
            if (client == null) {
                client = HttpPost.client(timeout);
            }
            Map<String, String> headers = Map.of("Content-Type", "text/plain; charset=utf-8");
            HttpPost.Outcome o = HttpPost.send(client, uri, headers, body, timeout);
            if (!o.ok() && !Thread.currentThread().isInterrupted()) {
                Thread.sleep(retryDelayMillis);
                o = HttpPost.send(client, uri, headers, body, timeout);
            }
            if (o.ok()) {
                log.debug("healthchecks ping %s sent to %s", suffix, shown);
                return true;
            }
            log.warn("healthchecks ping %s to %s failed: %s", suffix, shown, o.error());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.warn("healthchecks ping %s to %s: interrupted", suffix, shown);
        } catch (RuntimeException e) {
            log.warn("healthchecks ping %s to %s failed: %s", suffix, shown, e.getMessage());
        }
        return false;
    }
}
