package io.custos.notify;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.custos.config.Config;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.Problem;
import io.custos.run.RunSummary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotifierTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    final Log log = new Log(new PrintStream(logged, true, StandardCharsets.UTF_8), Clock.systemUTC(), Log.Level.DEBUG);
    final List<Receiver> receivers = new ArrayList<>();

    @AfterEach
    void stopReceivers() {
        receivers.forEach(Receiver::close);
    }

    Receiver receiver() {
        Receiver r = new Receiver();
        receivers.add(r);
        return r;
    }

    static Config.Target target(String type, String url) {
        return new Config.Target(type, url, null, null, null, List.of(), List.of(), 10, 3);
    }

    static Config.Target with(
            Config.Target t,
            String token,
            String tokenFile,
            Integer priority,
            List<String> events,
            List<String> exclude,
            int timeout,
            int retries) {
        return new Config.Target(t.type(), t.url(), token, tokenFile, priority, events, exclude, timeout, retries);
    }

    static Config.Target retries(Config.Target t, int timeout, int retries) {
        return with(t, t.token(), t.tokenFile(), t.priority(), t.events(), t.excludeEvents(), timeout, retries);
    }

    Notifier notifier(Config.Target... targets) {
        return new Notifier(List.of(targets), log, 10);
    }

    static Notice damaged() {
        RunSummary s = new RunSummary("scan", Instant.parse("2026-01-01T03:00:00Z"))
                .runId(12L)
                .exitCode(ExitCode.PROBLEMS)
                .finishedAt(Instant.parse("2026-01-01T03:10:00Z"))
                .stats(Map.of("files_scanned", 100L, "files_damaged", 1L))
                .problems(List.of(new Problem("photos", "2019/img1.jpg", "damaged", "content differs")));
        return RunNotices.of(s, "nas1", List.of()).stream()
                .filter(n -> n.event().equals(Notice.FILE_DAMAGED))
                .findFirst()
                .orElseThrow();
    }

    static Notice completed(int exit) {
        RunSummary s = new RunSummary("scan", Instant.parse("2026-01-01T03:00:00Z"))
                .runId(7L)
                .exitCode(exit == 0 ? ExitCode.OK : ExitCode.ENVIRONMENT)
                .error(exit == 0 ? null : "par2 not found")
                .finishedAt(Instant.parse("2026-01-01T03:10:00Z"));
        return RunNotices.of(s, "nas1", List.of()).get(0);
    }

    @Test
    void webhookReceivesTheNoticeDocumentAsJson() throws Exception {
        Receiver r = receiver();
        Notice n = damaged();

        List<Notifier.Delivery> d =
                notifier(target("webhook", r.url() + "/hook")).send(n);

        assertThat(d).singleElement().satisfies(x -> {
            assertThat(x.ok()).isTrue();
            assertThat(x.attempts()).isEqualTo(1);
            assertThat(x.type()).isEqualTo("webhook");
        });
        Receiver.Request q = r.only();
        assertThat(q.method()).isEqualTo("POST");
        assertThat(q.path()).isEqualTo("/hook");
        assertThat(q.header("Content-Type")).startsWith("application/json");
        assertThat(q.header("Authorization")).isNull();
        JsonNode doc = JSON.readTree(q.body());
        List<String> fields = new ArrayList<>();
        doc.fieldNames().forEachRemaining(fields::add);
        assertThat(fields)
                .containsSubsequence(
                        "event",
                        "host",
                        "command",
                        "run_id",
                        "exit_code",
                        "time",
                        "title",
                        "message",
                        "problems",
                        "stats");
        assertThat(doc.get("event").asText()).isEqualTo("file.damaged");
        assertThat(doc.get("host").asText()).isEqualTo("nas1");
        assertThat(doc.get("command").asText()).isEqualTo("scan");
        assertThat(doc.get("run_id").asLong()).isEqualTo(12);
        assertThat(doc.get("exit_code").asInt()).isEqualTo(1);
        assertThat(doc.get("time").asText()).isEqualTo("2026-01-01T03:10:00Z");
        assertThat(doc.get("title").asText()).isEqualTo(n.title());
        assertThat(doc.get("message").asText()).isEqualTo(n.message());
        JsonNode p = doc.get("problems").get(0);
        assertThat(p.get("root").asText()).isEqualTo("photos");
        assertThat(p.get("path").asText()).isEqualTo("2019/img1.jpg");
        assertThat(p.get("kind").asText()).isEqualTo("damaged");
        assertThat(doc.get("stats").get("files_damaged").asLong()).isEqualTo(1);
    }

    @Test
    void gotifyPostsToMessageWithTheKeyHeaderAndJson() throws Exception {
        Receiver r = receiver();
        Config.Target plain = with(target("gotify", r.url() + "/"), "s3cret", null, null, List.of(), List.of(), 10, 0);
        Config.Target urgent = with(target("gotify", r.url() + "/sub"), "s3cret", null, 8, List.of(), List.of(), 10, 0);
        Notice n = damaged();

        List<Notifier.Delivery> d = notifier(plain, urgent).send(n);

        assertThat(d).allMatch(Notifier.Delivery::ok);
        List<Receiver.Request> q = r.requests();
        assertThat(q).extracting(Receiver.Request::path).containsExactly("/message", "/sub/message");
        assertThat(q).allSatisfy(x -> {
            assertThat(x.method()).isEqualTo("POST");
            assertThat(x.header("X-Gotify-Key")).isEqualTo("s3cret");
            assertThat(x.header("Content-Type")).startsWith("application/json");
        });
        JsonNode body = JSON.readTree(q.get(0).body());
        assertThat(body.get("title").asText()).isEqualTo(n.title());
        assertThat(body.get("message").asText()).isEqualTo(n.message());
        assertThat(body.get("priority").asInt()).isEqualTo(5);
        assertThat(JSON.readTree(q.get(1).body()).get("priority").asInt()).isEqualTo(8);
        assertThat(logged.toString(StandardCharsets.UTF_8)).doesNotContain("s3cret");
    }

    @Test
    void gotifyWithoutTokenFailsWithoutSending() {
        Receiver r = receiver();

        Notifier.Delivery d =
                notifier(target("gotify", r.url())).send(damaged()).get(0);

        assertThat(d.ok()).isFalse();
        assertThat(d.attempts()).isZero();
        assertThat(d.error()).contains("token");
        assertThat(r.requests()).isEmpty();
    }

    @Test
    void ntfyGetsTheMessageAsTextWithTitlePriorityTagsAndBearerToken() {
        Receiver r = receiver();
        Config.Target t =
                with(target("ntfy", r.url() + "/custos-alerts"), "tk_1", null, null, List.of(), List.of(), 10, 0);
        Notice bad = damaged();
        Notice good = completed(0);

        notifier(t).send(bad);
        notifier(t).send(good);

        List<Receiver.Request> q = r.requests();
        Receiver.Request a = q.get(0);
        assertThat(a.method()).isEqualTo("POST");
        assertThat(a.path()).isEqualTo("/custos-alerts");
        assertThat(a.body()).isEqualTo(bad.message());
        assertThat(a.header("Content-Type")).isEqualTo("text/plain; charset=utf-8");
        assertThat(a.header("Title")).isEqualTo(bad.title());
        assertThat(a.header("Priority")).isEqualTo("4");
        assertThat(a.header("Tags")).isEqualTo("warning");
        assertThat(a.header("Authorization")).isEqualTo("Bearer tk_1");
        Receiver.Request b = q.get(1);
        assertThat(b.header("Priority")).isEqualTo("3");
        assertThat(b.header("Tags")).isEqualTo("white_check_mark");
    }

    @Test
    void ntfyUsesTheConfiguredPriorityClampedToOneToFiveAndNoAuthorizationWithoutToken() {
        Receiver r = receiver();
        Config.Target high = with(target("ntfy", r.url() + "/t"), null, null, 9, List.of(), List.of(), 10, 0);
        Config.Target low = with(target("ntfy", r.url() + "/t"), null, null, 0, List.of(), List.of(), 10, 0);

        notifier(high, low).send(completed(0));

        assertThat(r.requests()).extracting(x -> x.header("Priority")).containsExactly("5", "1");
        assertThat(r.requests())
                .allSatisfy(x -> assertThat(x.header("Authorization")).isNull());
    }

    @Test
    void ntfyTitleWithNonAsciiIsSentAsRfc2047EncodedWords() {
        Receiver r = receiver();
        String title = "custos: 2 files damaged on Müllers-NAS — Fotos 📷 "
                + "a long tail so that the title needs more than one encoded word";
        Notice n = new Notice("file.damaged", title, "Grüße\nzweite Zeile", Map.of("exit_code", 1));

        notifier(retries(target("ntfy", r.url() + "/t"), 10, 0)).send(n);

        Receiver.Request q = r.only();
        String header = q.header("Title");
        assertThat(header).matches("[\\x20-\\x7e]+").startsWith("=?UTF-8?B?");
        assertThat(decodeRfc2047(header)).isEqualTo(title);
        assertThat(q.body()).isEqualTo("Grüße\nzweite Zeile");
    }

    @Test
    void ntfyBodyIsCutBelowItsAttachmentLimit() {
        Receiver r = receiver();
        Notice n = new Notice("run.completed", "t", "ä".repeat(5000), Map.of("exit_code", 0));

        notifier(retries(target("ntfy", r.url() + "/t"), 10, 0)).send(n);

        byte[] body = r.only().body().getBytes(StandardCharsets.UTF_8);
        assertThat(body.length).isLessThanOrEqualTo(Notifier.NTFY_MAX_BODY);
        assertThat(r.only().body()).endsWith("ä...");
    }

    /** What ntfy does with the header (Go's mime.WordDecoder.DecodeHeader). */
    static String decodeRfc2047(String header) {
        Matcher m = Pattern.compile("=\\?UTF-8\\?B\\?([A-Za-z0-9+/=]*)\\?=").matcher(header);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        int end = 0;
        while (m.find()) {
            assertThat(header.substring(end, m.start()).trim()).isEmpty();
            assertThat(m.group().length()).isLessThanOrEqualTo(75);
            bytes.writeBytes(Base64.getDecoder().decode(m.group(1)));
            end = m.end();
        }
        assertThat(end).isEqualTo(header.length());
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void healthchecksTargetPingsTheExitCodeForRunsAndLogsOtherEvents() {
        Receiver r = receiver();
        Config.Target t = retries(target("healthchecks", r.url() + "/ping/abc/"), 10, 0);
        Notifier n = notifier(t);
        Notice ok = completed(0);
        Notice failed = completed(5);
        Notice bad = damaged();

        n.send(ok);
        n.send(failed);
        n.send(bad);
        n.send(Notice.test("nas1", Instant.EPOCH));

        List<Receiver.Request> q = r.requests();
        assertThat(q)
                .extracting(Receiver.Request::path)
                .containsExactly("/ping/abc/0", "/ping/abc/5", "/ping/abc/log", "/ping/abc/log");
        assertThat(q).allSatisfy(x -> assertThat(x.method()).isEqualTo("POST"));
        assertThat(q.get(0).body()).isEqualTo(ok.message());
        assertThat(q.get(1).body()).isEqualTo(failed.message()).contains("par2 not found");
        assertThat(q.get(2).body()).isEqualTo(bad.message());
    }

    @Test
    void filtersExcludeWinsEmptyMeansAllAndTestGoesEverywhere() {
        Receiver all = receiver();
        Receiver onlyDamaged = receiver();
        Receiver excluding = receiver();
        Receiver both = receiver();
        Notifier n = notifier(
                retries(target("webhook", all.url()), 10, 0),
                with(target("webhook", onlyDamaged.url()), null, null, null, List.of("file.damaged"), List.of(), 10, 0),
                with(target("webhook", excluding.url()), null, null, null, List.of(), List.of("run.completed"), 10, 0),
                with(
                        target("webhook", both.url()),
                        null,
                        null,
                        null,
                        List.of("run.completed", "file.damaged"),
                        List.of("run.completed"),
                        10,
                        0));

        List<Notifier.Delivery> forCompleted = n.send(completed(0));
        List<Notifier.Delivery> forDamaged = n.send(damaged());
        List<Notifier.Delivery> forTest = n.send(Notice.test("nas1", Instant.EPOCH));

        assertThat(forCompleted).extracting(Notifier.Delivery::url).containsExactly(all.url());
        assertThat(forDamaged).hasSize(4);
        assertThat(forTest).hasSize(4).allMatch(Notifier.Delivery::ok);
        assertThat(events(all)).containsExactly("run.completed", "file.damaged", "test");
        assertThat(events(onlyDamaged)).containsExactly("file.damaged", "test");
        assertThat(events(excluding)).containsExactly("file.damaged", "test");
        assertThat(events(both)).containsExactly("file.damaged", "test");
    }

    static List<String> events(Receiver r) {
        return r.requests().stream()
                .map(q -> {
                    try {
                        return JSON.readTree(q.body()).get("event").asText();
                    } catch (java.io.IOException e) {
                        throw new AssertionError(e);
                    }
                })
                .toList();
    }

    @Test
    void failingTwiceThenSucceedingArrivesOnTheThirdAttempt() {
        Receiver r = receiver().answer(500, 500);

        Notifier.Delivery d = notifier(retries(target("webhook", r.url()), 10, 2))
                .send(damaged())
                .get(0);

        assertThat(d.ok()).isTrue();
        assertThat(d.attempts()).isEqualTo(3);
        assertThat(d.error()).isNull();
        assertThat(r.requests()).hasSize(3);
        assertThat(logged.toString(StandardCharsets.UTF_8)).doesNotContain("WARN");
    }

    @Test
    void tooFewRetriesFailAfterAllAttemptsAndWarn() {
        Receiver r = receiver().answer(500, 500);

        Notifier.Delivery d = notifier(
                        with(target("ntfy", r.url() + "/t"), "tok-XYZ", null, null, List.of(), List.of(), 10, 1))
                .send(damaged())
                .get(0);

        assertThat(d.ok()).isFalse();
        assertThat(d.attempts()).isEqualTo(2);
        assertThat(d.error()).contains("HTTP 500");
        assertThat(r.requests()).hasSize(2);
        String warn = logged.toString(StandardCharsets.UTF_8);
        assertThat(warn)
                .contains("WARN")
                .contains("ntfy")
                .contains(r.url() + "/t")
                .contains("after 2 attempts");
        assertThat(warn).doesNotContain("tok-XYZ");
    }

    @Test
    void aReceiverThatNeverAnswersCostsAboutTheTimeoutPerAttempt() {
        Receiver r = receiver().hang();
        Config.Target t = retries(target("webhook", r.url()), 1, 1);

        long t0 = System.nanoTime();
        Notifier.Delivery d = notifier(t).send(damaged()).get(0);
        long ms = (System.nanoTime() - t0) / 1_000_000;

        assertThat(d.ok()).isFalse();
        assertThat(d.attempts()).isEqualTo(2);
        assertThat(d.error()).contains("no answer within 1 s");
        assertThat(ms).isBetween(1900L, 3500L); // 2 attempts x 1 s, plus a 10 ms backoff
    }

    @Test
    void aTargetThatFailedEveryAttemptIsTriedOnceForLaterNotices() throws Exception {
        int dead = deadPort();
        Receiver live = receiver();
        Notifier n = notifier(
                retries(target("webhook", "http://127.0.0.1:" + dead + "/x"), 10, 3),
                retries(target("webhook", live.url()), 10, 3));

        List<Notifier.Delivery> first = n.send(completed(0));
        List<Notifier.Delivery> second = n.send(damaged());

        assertThat(first.get(0).attempts()).isEqualTo(4);
        assertThat(first.get(0).error()).contains("cannot connect");
        assertThat(second.get(0).attempts()).isEqualTo(1);
        assertThat(first.get(1).ok()).isTrue();
        assertThat(second.get(1).ok()).isTrue();
    }

    @Test
    void tokenFileIsReadAtSendTimeAndAMissingOneFailsOnlyThatTarget() throws Exception {
        Receiver r = receiver();
        Path tokenFile = tmp.resolve("gotify.token");
        Files.writeString(tokenFile, "from-file  \nsecond line ignored\n");
        Config.Target withFile =
                with(target("gotify", r.url()), null, tokenFile.toString(), null, List.of(), List.of(), 10, 0);
        Config.Target missing = with(
                target("ntfy", r.url() + "/t"),
                null,
                tmp.resolve("nope").toString(),
                null,
                List.of(),
                List.of(),
                10,
                3);
        Config.Target webhook = retries(target("webhook", r.url() + "/hook"), 10, 0);
        Notifier n = notifier(withFile, missing, webhook);

        List<Notifier.Delivery> d = n.send(damaged());
        Files.writeString(tokenFile, "rotated\n");
        n.send(damaged());

        assertThat(d).extracting(Notifier.Delivery::ok).containsExactly(true, false, true);
        assertThat(d.get(1).attempts()).isZero();
        assertThat(d.get(1).error())
                .contains("cannot read token_file")
                .contains("nope")
                .contains("no such file");
        List<Receiver.Request> q = r.requests();
        assertThat(q).extracting(Receiver.Request::path).containsExactly("/message", "/hook", "/message", "/hook");
        assertThat(q.get(0).header("X-Gotify-Key")).isEqualTo("from-file");
        assertThat(q.get(2).header("X-Gotify-Key")).isEqualTo("rotated");
    }

    @Test
    void aTokenWinsOverTheTokenFileAndAWebhookSendsItAsBearer() {
        Receiver r = receiver();
        Config.Target t =
                with(target("webhook", r.url()), "tok", "/nonexistent/file", null, List.of(), List.of(), 10, 0);

        assertThat(notifier(t).send(damaged()).get(0).ok()).isTrue();

        assertThat(r.only().header("Authorization")).isEqualTo("Bearer tok");
    }

    @Test
    void aBrokenUrlIsAFailedDeliveryNotAnException() {
        List<Notifier.Delivery> d = notifier(retries(target("webhook", "http://exa mple/hook"), 10, 0))
                .send(damaged());

        assertThat(d).singleElement().satisfies(x -> {
            assertThat(x.ok()).isFalse();
            assertThat(x.error()).contains("url");
        });
    }

    @Test
    void aTokenThatCannotGoInAHeaderFailsWithoutShowingIt() {
        Receiver r = receiver();
        Config.Target t = with(target("gotify", r.url()), "sec\u0001ret", null, null, List.of(), List.of(), 10, 0);

        Notifier.Delivery d = notifier(t).send(damaged()).get(0);

        assertThat(d.ok()).isFalse();
        assertThat(d.error()).contains("token").doesNotContain("sec").doesNotContain("ret");
        assertThat(logged.toString(StandardCharsets.UTF_8)).doesNotContain("sec");
        assertThat(r.requests()).isEmpty();
    }

    @Test
    void anInvalidUrlIsReportedWithoutItsPassword() {
        Notifier.Delivery d = notifier(retries(target("webhook", "https://bob:hunter2@exa mple/x"), 10, 0))
                .send(damaged())
                .get(0);

        assertThat(d.ok()).isFalse();
        assertThat(d.error()).contains("invalid url").doesNotContain("hunter2");
        assertThat(d.url()).doesNotContain("hunter2");
        assertThat(logged.toString(StandardCharsets.UTF_8)).doesNotContain("hunter2");
    }

    @Test
    void shownUrlsHideUserinfoAndQueryValues() {
        assertThat(HttpPost.display("https://bob:pw@gotify.lan/x?token=abc&y"))
                .isEqualTo("https://***@gotify.lan/x?token=***&y");
        assertThat(HttpPost.display("https://ntfy.sh/topic")).isEqualTo("https://ntfy.sh/topic");
    }

    static int deadPort() throws java.io.IOException {
        try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
