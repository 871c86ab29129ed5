package io.custos.notify;

import static io.custos.testing.Harness.bytes;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What a run tells the outside world: notifications, health pings, metrics file, log file. */
class RunLifecycleTest {
    @TempDir
    Path tmp;

    Harness h;
    Path data;
    Receiver hooks;
    Receiver pings;

    @BeforeEach
    void setUp() {
        Requirements.par2();
        h = new Harness(tmp);
        data = h.root("photos");
        hooks = new Receiver();
        pings = new Receiver();
        ObjectNode target = h.section("notify").putArray("targets").addObject();
        target.put("type", "webhook").put("url", hooks.url() + "/hook");
        h.section("metrics")
                .put("healthchecks_url", pings.url() + "/ping/abc")
                .put("textfile", tmp.resolve("metrics/custos.prom").toString());
        h.section("log").put("file", tmp.resolve("logs/custos.log").toString());
    }

    @AfterEach
    void tearDown() {
        hooks.close();
        pings.close();
    }

    @Test
    void aCleanScanPingsStartAndZeroWritesMetricsAndLogsAndSendsRunCompleted() throws IOException {
        write(data.resolve("a.jpg"), bytes(80_000, 1));
        Result r = h.scan();
        assertThat(r.exit()).as(r.toString()).isZero();
        long run = r.json().get("run_id").asLong();

        List<Receiver.Request> p = pings.requests();
        assertThat(p).extracting(Receiver.Request::path).containsExactly("/ping/abc/start", "/ping/abc/0");
        assertThat(p.get(0).query()).isEqualTo(p.get(1).query()).contains("rid=" + HealthPings.rid(run));

        JsonNode doc = Harness.JSON.readTree(hooks.only().body());
        assertThat(doc.get("event").asText()).isEqualTo("run.completed");
        assertThat(doc.get("run_id").asLong()).isEqualTo(run);
        assertThat(doc.get("command").asText()).isEqualTo("scan");

        String prom = Files.readString(tmp.resolve("metrics/custos.prom"));
        assertThat(prom)
                .contains("# TYPE custos_files gauge")
                .contains("custos_files{root=\"photos\",status=\"ok\"} 1")
                .contains("custos_last_run_exit_code{command=\"scan\"} 0");
        assertThat(Files.readString(tmp.resolve("logs/custos.log"))).contains("[run " + run + "]");
    }

    @Test
    void bitrotSendsOneDamagedNoticeListingTheFilesAndRepairSendsRepaired() throws IOException {
        Path a = write(data.resolve("a.jpg"), bytes(120_000, 2));
        Path b = write(data.resolve("b.jpg"), bytes(120_000, 3));
        h.scan();
        for (Path f : List.of(a, b)) {
            FileTime t = Files.getLastModifiedTime(f);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                ch.write(ByteBuffer.wrap(new byte[64]), 50_000);
            }
            Files.setLastModifiedTime(f, t);
        }
        int before = hooks.requests().size();
        Result v = h.run("--json", "verify", "--all");
        assertThat(v.exit()).isEqualTo(1);
        List<JsonNode> sent = docs(before);
        assertThat(sent).extracting(d -> d.get("event").asText()).containsExactly("run.completed", "file.damaged");
        assertThat(sent.get(1).get("message").asText()).contains("a.jpg").contains("b.jpg");
        assertThat(pings.requests().get(pings.requests().size() - 1).path()).isEqualTo("/ping/abc/1");

        before = hooks.requests().size();
        Result r = h.run("--json", "repair");
        assertThat(r.exit()).as(r.toString()).isZero();
        sent = docs(before);
        assertThat(sent).extracting(d -> d.get("event").asText()).containsExactly("run.completed", "file.repaired");
        assertThat(sent.get(1).get("message").asText()).contains("photos/a.jpg").contains("photos/b.jpg");
    }

    @Test
    void aDeadTargetCostsItsTimeoutAndLeavesTheExitCodeAlone() {
        ObjectNode dead = (ObjectNode) h.config().get("notify").get("targets").get(0);
        hooks.hang();
        dead.put("timeout_seconds", 1).put("retries", 0);
        write(data.resolve("a.txt"), "alpha");
        long t0 = System.nanoTime();
        Result r = h.scan();
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(ms).isLessThan(10_000);
        assertThat(r.err()).contains("webhook");
        assertThat(pings.requests()).extracting(Receiver.Request::path).contains("/ping/abc/0");
    }

    @Test
    void aRunThatCannotStartSendsRunFailedWithTheReason() throws IOException {
        write(data.resolve("a.jpg"), bytes(80_000, 4));
        h.section("parity").put("par2_binary", "no-such-par2-anywhere");
        Result r = h.scan();
        assertThat(r.exit()).isEqualTo(5);
        JsonNode doc = Harness.JSON.readTree(hooks.only().body());
        assertThat(doc.get("event").asText()).isEqualTo("run.failed");
        assertThat(doc.get("exit_code").asInt()).isEqualTo(5);
        assertThat(doc.get("message").asText()).contains("par2");
        assertThat(pings.requests()).as("no run, no ping").isEmpty();
    }

    private List<JsonNode> docs(int from) {
        return hooks.requests().subList(from, hooks.requests().size()).stream()
                .map(q -> {
                    try {
                        return Harness.JSON.readTree(q.body());
                    } catch (IOException e) {
                        throw new AssertionError(e);
                    }
                })
                .toList();
    }
}
