package io.custos.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.custos.run.Log;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class HealthPingsTest {
    final ByteArrayOutputStream logged = new ByteArrayOutputStream();
    final Log log = new Log(new PrintStream(logged, true, StandardCharsets.UTF_8), Clock.systemUTC(), Log.Level.INFO);

    @Test
    void startAndFinishArriveWithTheSameRidAUuid() {
        try (Receiver r = new Receiver()) {
            HealthPings pings = new HealthPings(r.url() + "/ping/0f1e2d3c/", log, Duration.ofSeconds(5), 10);

            assertThat(pings.start(42)).isTrue();
            assertThat(pings.finish(42, 1, "scan finished with problems")).isTrue();

            List<Receiver.Request> q = r.requests();
            assertThat(q).extracting(Receiver.Request::method).containsExactly("POST", "POST");
            assertThat(q)
                    .extracting(Receiver.Request::path)
                    .containsExactly("/ping/0f1e2d3c/start", "/ping/0f1e2d3c/1");
            String rid = q.get(0).query().replaceFirst("^rid=", "");
            assertThat(q.get(0).query()).startsWith("rid=");
            assertThat(q.get(1).query()).isEqualTo(q.get(0).query());
            assertThat(UUID.fromString(rid).toString()).isEqualTo(rid);
            assertThat(rid).isEqualTo(HealthPings.rid(42).toString());
            assertThat(HealthPings.rid(43)).isNotEqualTo(HealthPings.rid(42));
            assertThat(q.get(1).body()).isEqualTo("scan finished with problems");
        }
    }

    @Test
    void anExistingQueryIsKeptAndTheBodyIsCutToTenKiB() {
        try (Receiver r = new Receiver()) {
            HealthPings pings = new HealthPings(r.url() + "/key/nas-scan?create=1", log, Duration.ofSeconds(5), 10);

            pings.finish(7, 0, "x".repeat(50_000));

            Receiver.Request q = r.only();
            assertThat(q.path()).isEqualTo("/key/nas-scan/0");
            assertThat(q.query()).isEqualTo("create=1&rid=" + HealthPings.rid(7));
            assertThat(q.body().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(HealthPings.MAX_BODY);
        }
    }

    @Test
    void oneRetryAfterAFailureThenAWarningNeverAnException() {
        try (Receiver r = new Receiver().answer(503, 503, 503)) {
            HealthPings pings = new HealthPings(r.url(), log, Duration.ofSeconds(5), 10);

            assertThat(pings.start(1)).isFalse();

            assertThat(r.requests()).hasSize(2);
            assertThat(logged.toString(StandardCharsets.UTF_8))
                    .contains("WARN")
                    .contains("/start")
                    .contains("HTTP 503");
        }
    }

    @Test
    void anUnreachableServerCostsAtMostTwoShortAttempts() throws Exception {
        int port = NotifierTest.deadPort();
        HealthPings pings = new HealthPings("http://127.0.0.1:" + port + "/p", log, Duration.ofSeconds(5), 10);

        long t0 = System.nanoTime();
        boolean ok = pings.finish(3, 130, "interrupted");

        assertThat(ok).isFalse();
        assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(5000);
        assertThat(logged.toString(StandardCharsets.UTF_8)).contains("cannot connect");
    }

    @Test
    void withoutUrlNothingHappens() {
        HealthPings pings = new HealthPings(null, log);

        assertThat(pings.start(1)).isFalse();
        assertThat(pings.finish(1, 0, "x")).isFalse();
        assertThat(logged.size()).isZero();
    }
}
