package io.custos.scan;

import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.custos.testing.Harness;
import io.custos.testing.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A real second filesystem (tmpfs) mounted inside a root. */
class CrossFilesystemTest {
    @TempDir
    Path tmp;

    Path mount;

    @AfterEach
    void unmount() {
        if (mount != null) {
            try {
                Harness.sh("umount", mount.toString());
            } catch (AssertionError e) {
                // not mounted
            }
        }
    }

    @Test
    void walkDoesNotCrossIntoAnotherFilesystemUnlessItIsARoot() throws Exception {
        Requirements.root("mounts a tmpfs");
        Harness h = new Harness(tmp);
        Path data = h.root("data");
        write(data.resolve("on-data.txt"), "d");
        mount = data.resolve("usb");
        Files.createDirectories(mount);
        Harness.sh("mount", "-t", "tmpfs", "-o", "size=4m", "custos-test", mount.toString());
        write(mount.resolve("on-usb.txt"), "u");
        // when
        Harness.Result r = h.scan();
        // then: the mount is not crossed
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("files_scanned")).isEqualTo(1);
        // when the mounted directory is itself a root, it is walked as that root
        ((com.fasterxml.jackson.databind.node.ArrayNode) h.config().get("roots"))
                .addObject()
                .put("name", "usb")
                .put("path", mount.toString());
        Harness.Result both = h.scan();
        assertThat(both.stat("files_scanned")).isEqualTo(2);
        assertThat(h.queryString("SELECT r.name FROM files f JOIN roots r ON r.id = f.root_id"
                        + " WHERE f.path = CAST('on-usb.txt' AS BLOB)"))
                .isEqualTo("usb");
    }
}
