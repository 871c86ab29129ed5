package io.custos.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.custos.it.CustosProcess.Result;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SPEC §1.2 and §5.2: a file or directory custos cannot read is an error, never a deletion. Root
 * reads everything, so custos runs here as the ordinary user {@code nobody}.
 */
class UnreadableFilesIT {
    private static final String USER = "nobody";

    @TempDir
    Path tmp;

    private TestNas nas;
    private Path jar;

    @BeforeEach
    void aNasThatAnOrdinaryUserScans() throws IOException {
        Requirements.root("custos runs as '" + USER + "' here, because root can read every file");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        nas = new TestNas(tmp);
        Files.createDirectories(nas.parity);
        UserPrincipal nobody =
                tmp.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(USER);
        Files.setOwner(nas.parity, nobody);
        // The jar may lie under a directory that user cannot enter.
        jar = Files.copy(CustosProcess.packagedJar(), tmp.resolve("custos.jar"));
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
    }

    @Test
    void aChangedFileThatCannotBeReadIsAnErrorAndKeepsItsCatalogEntry() throws IOException {
        // given a cataloged file
        Path report = nas.file("docs/report.txt", "first version");
        nas.file("docs/other.txt", "another file");
        Result first = scanAsNobody();
        assertThat(first.exitCode()).as(first.describe()).isZero();
        List<Map<String, Object>> before = nas.catalog().rowsAt(TestNas.ROOT, "docs/report.txt");
        assertThat(before).singleElement().extracting(r -> r.get("status")).isEqualTo("ok");

        // when it is rewritten (so that the scan must read it) and no longer readable (chmod 000)
        Files.writeString(report, "second version, written by another user");
        Files.setLastModifiedTime(
                report, FileTime.fromMillis(Files.getLastModifiedTime(report).toMillis() + 60_000));
        Files.setPosixFilePermissions(report, PosixFilePermissions.fromString("---------"));
        Result rescan = scanAsNobody();

        // then the scan reports it as unreadable and exits 1
        assertThat(rescan.exitCode()).as(rescan.describe()).isEqualTo(1);
        JsonNode json = rescan.json();
        assertThat(problem(json, "docs/report.txt"))
                .as("problems: %s", json.get("problems"))
                .isNotNull();
        assertThat(problem(json, "docs/report.txt").get("kind").asText()).isEqualTo("unreadable");
        assertThat(json.get("stats").get("files_deleted").asLong()).isZero();

        // and its catalog entry is untouched: still live, with the last content custos read
        assertThat(nas.catalog().rowsAt(TestNas.ROOT, "docs/report.txt")).isEqualTo(before);
        assertThat(nas.catalog().liveFiles()).isEqualTo(2);
        assertThat(nas.catalog().events("deleted")).isZero();
    }

    @Test
    void aDirectoryThatCannotBeListedIsAnErrorAndItsFilesStayCataloged() throws IOException {
        // given three cataloged files, two of them in a directory
        nas.file("public/a.txt", "alpha");
        nas.file("private/b.txt", "beta");
        nas.file("private/deeper/c.txt", "gamma");
        Result first = scanAsNobody();
        assertThat(first.exitCode()).as(first.describe()).isZero();
        assertThat(nas.catalog().liveFiles()).isEqualTo(3);

        // when that directory can no longer be listed (chmod 000)
        Files.setPosixFilePermissions(nas.data.resolve("private"), PosixFilePermissions.fromString("---------"));
        Result rescan = scanAsNobody();

        // then the scan reports it as unreadable and exits 1
        assertThat(rescan.exitCode()).as(rescan.describe()).isEqualTo(1);
        JsonNode json = rescan.json();
        assertThat(problem(json, "private"))
                .as("problems: %s", json.get("problems"))
                .isNotNull();
        assertThat(problem(json, "private").get("kind").asText()).isEqualTo("unreadable");
        assertThat(json.get("stats").get("files_deleted").asLong()).isZero();

        // and the files in it are still cataloged, not deleted
        for (String path : List.of("private/b.txt", "private/deeper/c.txt")) {
            assertThat(nas.catalog().rowsAt(TestNas.ROOT, path))
                    .as(path)
                    .singleElement()
                    .extracting(r -> r.get("status"))
                    .isEqualTo("ok");
        }
        assertThat(nas.catalog().liveFiles()).isEqualTo(3);
        assertThat(nas.catalog().events("deleted")).isZero();
    }

    private Result scanAsNobody() {
        return nas.custos("--json", "scan").jar(jar).asUser(USER).run();
    }

    /** The problem reported for a path of the root, or null. */
    private static JsonNode problem(JsonNode json, String path) {
        for (JsonNode p : json.get("problems")) {
            if (TestNas.ROOT.equals(p.path("root").asText())
                    && path.equals(p.path("path").asText())) {
                return p;
            }
        }
        return null;
    }
}
