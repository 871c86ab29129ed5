package io.custos.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ConfigLoaderTest {
    @TempDir
    Path tmp;

    private CustosException error(String json) {
        try {
            ConfigLoader.parse(json);
        } catch (CustosException e) {
            return e;
        }
        throw new AssertionError("accepted: " + json);
    }

    @Test
    void emptyConfigGivesTheSpecDefaults() {
        Config c = ConfigLoader.parse("{}");
        assertThat(c.parityRoot()).isEqualTo("/parity");
        assertThat(c.roots()).isEmpty();
        assertThat(c.exclude()).containsExactly(".DS_Store", "Thumbs.db", "*.tmp", "*.partial", "#recycle", "@eaDir");
        assertThat(c.hash().workers()).isZero();
        assertThat(c.hash().perDeviceWorkers()).isEqualTo(1);
        assertThat(c.parity().redundancyPercent()).isEqualTo(10);
        assertThat(c.parity().minFileSize()).isEqualTo(4096);
        assertThat(c.verify().percent()).isEqualTo(5);
        assertThat(c.guard().maxDeletedPercent()).isEqualTo(25);
        assertThat(c.guard().minFiles()).isEqualTo(100);
        assertThat(c.process().umask()).isEqualTo(027);
        assertThat(c.retentionDays()).isEqualTo(3650);
        assertThat(c.catalogBackups()).isEqualTo(7);
        assertThat(c.log().level()).isEqualTo("info");
        assertThat(c.qbittorrent().url()).isEqualTo("http://localhost:8080");
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"hash\": {\"workers\": -1}}                    | hash.workers: must be an integer from 0 to 256, got -1",
                "{\"hash\": {\"per_device_workers\": 0}}          | hash.per_device_workers: must be an integer from 1 to 64",
                "{\"verify\": {\"percent\": 101}}                 | verify.percent: must be an integer from 0 to 100, got 101",
                "{\"verify\": {\"percent\": \"ten\"}}             | verify.percent: must be an integer from 0 to 100, got \"ten\"",
                "{\"guard\": {\"max_deleted_percent\": 2.5}}      | guard.max_deleted_percent: must be an integer from 0 to 100",
                "{\"parity_root\": \"relative/path\"}             | parity_root: must be an absolute path",
                "{\"process\": {\"umask\": \"999\"}}              | process.umask: must be an octal string",
                "{\"log\": {\"level\": \"loud\"}}                 | log.level: must be one of error, warn, info, debug, trace",
                "{\"roots\": [{\"name\": \"a b\", \"path\": \"/x\"}]} | roots[0].name: must be 1 to 64 letters",
                "{\"roots\": [{\"name\": \"a\"}]}                 | roots[0].path: is required",
                "{\"retention_days\": 0}                          | retention_days: must be an integer from 1 to 36500",
                "{\"repair\": {\"auto\": \"yes\"}}                 | repair.auto: must be true or false, got \"yes\"",
                "{\"parity\": {\"redundancy_percent\": 0}}       | parity.redundancy_percent: must be an integer from 1 to 100, got 0",
                "{\"notify\": {\"targets\": [{\"type\": \"mail\", \"url\": \"http://x\"}]}} | notify.targets[0].type: must be one of webhook, gotify, ntfy, healthchecks",
                "{\"zip\": {\"jobs\": [{\"name\": \"j\", \"source_path\": \"/a\", \"target_path\": \"/b\", \"keep\": 3}]}} | zip.jobs[0].keep: must be an integer from 1 to 2",
            })
    void badValuesNameTheKeyAndTheAcceptedRange(String json, String expected) {
        CustosException e = error(json);
        assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(e.getMessage()).contains(expected);
    }

    @Test
    void unknownKeysAreRejectedWithTheAcceptedOnes() {
        CustosException e = error("{\"hash\": {\"wrokers\": 2}, \"colour\": \"blue\"}");
        assertThat(e.getMessage())
                .contains("hash.wrokers: unknown key")
                .contains("workers, per_device_workers")
                .contains("colour: unknown key");
    }

    @Test
    void everyErrorIsReportedAtOnce() {
        CustosException e = error("{\"hash\": {\"workers\": -1}, \"verify\": {\"percent\": 500}}");
        assertThat(e.getMessage()).contains("hash.workers").contains("verify.percent");
    }

    @Test
    void duplicateRootNamesAreRejected() {
        CustosException e =
                error("{\"roots\": [{\"name\": \"a\", \"path\": \"/x\"}, {\"name\": \"a\", \"path\": \"/y\"}]}");
        assertThat(e.getMessage()).contains("roots[1].name").contains("unique");
    }

    @Test
    void invalidJsonSaysWhere() throws Exception {
        Path f = tmp.resolve("c.json");
        Files.writeString(f, "{\n  \"hash\": {,}\n}");
        assertThatThrownBy(() -> new ConfigLoader(Map.of()).load(f.toString()))
                .isInstanceOf(CustosException.class)
                .hasMessageContaining("line 2");
    }

    @Test
    void environmentOverridesTheFileAndErrorsNameTheVariable() throws Exception {
        Path f = tmp.resolve("c.json");
        Files.writeString(f, "{\"parity_root\": \"/from/file\", \"verify\": {\"percent\": 7}}");
        Map<String, String> env = new HashMap<>();
        env.put("CUSTOS_PARITY_ROOT", "/from/env");
        env.put("CUSTOS_VERIFY_PERCENT", "12");
        env.put("CUSTOS_EXCLUDE", "*.bak, cache");
        env.put("CUSTOS_NOTIFY_WEBHOOK", "http://127.0.0.1:9/hook");
        Config c = new ConfigLoader(env).load(f.toString());
        assertThat(c.parityRoot()).isEqualTo("/from/env");
        assertThat(c.verify().percent()).isEqualTo(12);
        assertThat(c.exclude()).containsExactly("*.bak", "cache");
        assertThat(c.notifications().targets()).hasSize(1);
        assertThat(c.notifications().targets().get(0).url()).isEqualTo("http://127.0.0.1:9/hook");

        env.put("CUSTOS_VERIFY_PERCENT", "lots");
        assertThatThrownBy(() -> new ConfigLoader(env).load(f.toString()))
                .hasMessageContaining("verify.percent (from CUSTOS_VERIFY_PERCENT): must be an integer from 0 to 100");
    }

    @Test
    void configFileComesFromTheFlagThenTheEnvironment() throws Exception {
        Path a = tmp.resolve("a.json");
        Path b = tmp.resolve("b.json");
        Files.writeString(a, "{\"parity_root\": \"/a\"}");
        Files.writeString(b, "{\"parity_root\": \"/b\"}");
        ConfigLoader loader = new ConfigLoader(Map.of("CUSTOS_CONFIG", b.toString()));
        assertThat(loader.load(a.toString()).parityRoot()).isEqualTo("/a");
        assertThat(loader.load(null).parityRoot()).isEqualTo("/b");
    }

    @Test
    void missingConfigFileIsAUsageError() {
        assertThatThrownBy(() ->
                        new ConfigLoader(Map.of()).load(tmp.resolve("nope.json").toString()))
                .isInstanceOf(CustosException.class)
                .hasMessageContaining("not found")
                .satisfies(e -> assertThat(((CustosException) e).exitCode()).isEqualTo(ExitCode.USAGE));
    }

    @Test
    void dataDirMakesEveryVisibleSubdirectoryARoot() throws Exception {
        Files.createDirectories(tmp.resolve("data/photos"));
        Files.createDirectories(tmp.resolve("data/music"));
        Files.createDirectories(tmp.resolve("data/.snapshots"));
        Files.writeString(tmp.resolve("data/readme.txt"), "not a root");
        Config c = ConfigLoader.parse("{\"data_dir\": \"" + tmp.resolve("data") + "\","
                + " \"roots\": [{\"name\": \"music\", \"path\": \"/elsewhere\", \"parity\": false}]}");
        Files.createSymbolicLink(tmp.resolve("data/photos-alias"), tmp.resolve("data/photos"));
        RootSet.Resolved resolved = RootSet.resolve(c);
        Map<String, Config.Root> roots = resolved.roots();
        List<String> warnings = resolved.warnings();
        assertThat(roots.keySet()).containsExactlyInAnyOrder("music", "photos"); // not the symlink
        assertThat(roots.get("music").path()).isEqualTo("/elsewhere"); // the configured root wins
        assertThat(roots.get("photos").parity()).isTrue();
        assertThat(warnings).anyMatch(w -> w.contains("music"));
    }

    @Test
    void qbittorrentTakesAnApiKeyFile() {
        Config c = ConfigLoader.parse(
                "{\"qbittorrent\": {\"url\": \"http://nas:8080\", \"api_key_file\": \"/etc/custos/qbt.key\"}}");
        assertThat(c.qbittorrent().apiKeyFile()).isEqualTo("/etc/custos/qbt.key");
        assertThat(c.qbittorrent().username()).isNull();
    }

    @ParameterizedTest
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"username\": \"a\", \"password\": \"p\", \"password_file\": \"/p\"} | qbittorrent.password_file: set either password or password_file, not both",
                "{\"api_key\": \"qbt_x\", \"api_key_file\": \"/k\"}                  | qbittorrent.api_key_file: set either api_key or api_key_file, not both",
                "{\"username\": \"a\", \"api_key_file\": \"/k\"}                      | qbittorrent.api_key: log in either with an API key or with username and password",
                "{\"password_file\": \"/p\"}                                            | qbittorrent.username: is required when a password or password_file is set",
                "{\"username\": \"admin\"}                                             | qbittorrent.password_file: is required with qbittorrent.username",
                "{\"api_key_file\": \"k\"}                                              | qbittorrent.api_key_file: must be an absolute path",
                "{\"api_key\": \"qbt x\"}                                               | qbittorrent.api_key: must be printable ASCII without spaces",
            })
    void qbittorrentLoginKeysMustNotContradictEachOther(String qb, String expected) {
        CustosException e = error("{\"qbittorrent\": " + qb + "}");
        assertThat(e.exitCode()).isEqualTo(ExitCode.USAGE);
        assertThat(e.getMessage()).contains(expected).doesNotContain("qbt x");
    }

    @Test
    void exampleConfigurationLoads() throws Exception {
        Path example = Path.of("config.example.json");
        if (!Files.exists(example)) {
            throw new AssertionError("config.example.json is missing at the top of the repository");
        }
        Config c = new ConfigLoader(Map.of()).load(example.toString());
        assertThat(c.roots()).isNotEmpty();
    }
}
