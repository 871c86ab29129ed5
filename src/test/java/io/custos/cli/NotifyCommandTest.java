package io.custos.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.sun.net.httpserver.HttpServer;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NotifyCommandTest {
    @TempDir
    Path tmp;

    Harness h;
    HttpServer server;
    final List<String> received = new CopyOnWriteArrayList<>();
    String live;
    String dead;

    @BeforeEach
    void setUp() throws IOException {
        h = new Harness(tmp);
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", ex -> {
            received.add(ex.getRequestURI().getPath() + " "
                    + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(200, -1);
            ex.close();
        });
        server.start();
        live = "http://127.0.0.1:" + server.getAddress().getPort() + "/hook";
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            dead = "http://127.0.0.1:" + s.getLocalPort() + "/topic";
        }
    }

    @AfterEach
    void tearDown() {
        server.stop(0);
    }

    void targets() {
        ArrayNode t = h.section("notify").putArray("targets");
        // the test message ignores the events filter
        t.addObject().put("type", "webhook").put("url", live).putArray("events").add("file.damaged");
        t.addObject().put("type", "ntfy").put("url", dead).put("retries", 1);
    }

    @Test
    void aDeadTargetMakesNotifyTestExitOneWithAReportPerTarget() {
        targets();

        Result r = h.run("--json", "notify", "test");

        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        JsonNode j = r.json();
        assertThat(j.get("command").asText()).isEqualTo("notify");
        assertThat(j.get("exit_code").asInt()).isEqualTo(1);
        assertThat(j.has("started_at")).isTrue();
        assertThat(j.has("finished_at")).isTrue();
        assertThat(j.get("stats").size()).isZero();
        assertThat(j.get("problems").size()).isZero();
        JsonNode ok = j.get("targets").get(0);
        assertThat(ok.get("type").asText()).isEqualTo("webhook");
        assertThat(ok.get("url").asText()).isEqualTo(live);
        assertThat(ok.get("ok").asBoolean()).isTrue();
        assertThat(ok.get("attempts").asInt()).isEqualTo(1);
        assertThat(ok.get("error").isNull()).isTrue();
        JsonNode failed = j.get("targets").get(1);
        assertThat(failed.get("type").asText()).isEqualTo("ntfy");
        assertThat(failed.get("ok").asBoolean()).isFalse();
        assertThat(failed.get("attempts").asInt()).isEqualTo(2);
        assertThat(failed.get("error").asText()).contains("cannot connect");
        assertThat(received)
                .singleElement()
                .satisfies(x -> assertThat(x)
                        .startsWith("/hook ")
                        .contains("\"event\":\"test\"")
                        .contains("custos test message from testhost"));
        assertThat(r.err()).contains("WARN").contains(dead);
        assertThat(Files.exists(h.parity())).as("no lock, no run, no catalog").isFalse();
    }

    @Test
    void textOutputHasOneLinePerTarget() {
        targets();

        Result r = h.run("notify", "test");

        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out().lines().toList())
                .containsExactly(
                        "ok webhook " + live + " (1 attempt)",
                        "FAILED ntfy " + dead + " after 2 attempts: cannot connect (connection refused)");
    }

    @Test
    void withoutTargetsItSaysSoAndExitsZero() {
        Result text = h.run("notify", "test");
        Result json = h.run("--json", "notify", "test");

        assertThat(text.exit()).isZero();
        assertThat(text.out()).contains("no notification targets configured");
        assertThat(json.exit()).isZero();
        assertThat(json.json().get("targets").size()).isZero();
    }

    @Test
    void notifyAloneShowsUsageAndExitsTwo() {
        Result r = h.run("notify");

        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("test");
    }

    @Test
    void helpOfNotifyTestEndsWithTheExitStatusTable() {
        Result r = h.run("notify", "test", "--help");

        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("Exit status:").contains("130");
    }
}
