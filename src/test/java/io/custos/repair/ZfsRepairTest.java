package io.custos.repair;

import static io.custos.testing.Harness.bytes;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import io.custos.testing.ZfsPool;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The repair chain's second source: a ZFS snapshot of the file's dataset (zfs-fuse, read through a clone). */
class ZfsRepairTest {
    @TempDir
    Path tmp;

    ZfsPool pool;
    Harness h;
    Path data;

    @BeforeEach
    void setUp() {
        pool = ZfsPool.create(tmp);
        data = pool.dataset("photos");
        h = new Harness(tmp);
        ArrayNode roots = (ArrayNode) h.config().get("roots");
        // no parity and no duplicate: only the snapshot can help
        roots.addObject().put("name", "photos").put("path", data.toString()).put("parity", false);
    }

    @AfterEach
    void tearDown() {
        if (pool != null) {
            pool.close();
        }
    }

    @Test
    void aDamagedFileIsRepairedFromTheNewestSnapshotThatHoldsItsContent() throws IOException {
        byte[] photo = bytes(200_000, 1);
        Path victim = write(data.resolve("2019/beach.jpg"), photo);
        write(data.resolve("other.txt"), "keeps the root from looking empty");
        assertThat(h.scan().exit()).isZero();
        pool.zfs("snapshot", pool.name() + "/photos@daily-1");
        FileTime t = Files.getLastModifiedTime(victim);
        VerifyRepairTest.flip(victim, 100_000, 4096);
        Files.setLastModifiedTime(victim, t);
        assertThat(h.run("--json", "verify", "--all").exit()).isEqualTo(1);

        Result r = h.run("--json", "repair");

        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.json().get("files").get(0).get("source").asText()).isEqualTo("zfs");
        assertThat(Files.readAllBytes(victim)).isEqualTo(photo);
        assertThat(Files.getLastModifiedTime(victim)).isEqualTo(t);
        assertThat(h.queryString("SELECT detail FROM events WHERE type = 'repaired'"))
                .contains("@daily-1");
        assertThat(pool.zfs("list", "-H", "-o", "name").lines()).noneMatch(l -> l.contains("custos-repair"));
        assertThat(pool.zfs("list", "-H", "-t", "snapshot", "-o", "name").lines())
                .containsExactly(pool.name() + "/photos@daily-1");
    }
}
