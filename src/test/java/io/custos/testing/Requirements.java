package io.custos.testing;

import io.custos.exec.ExternalProcess;
import java.nio.file.Path;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** Tests that need root (mounts, other users): under CI=true a missing requirement fails, elsewhere it skips. */
public final class Requirements {
    private Requirements() {}

    public static void root(String why) {
        if (Harness.root()) {
            return;
        }
        String msg = "this test needs root: " + why;
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(msg + " (CI=true: required, not skipped)");
        }
        Assumptions.abort(msg);
    }

    /** The par2 program on PATH: under CI=true a missing one fails the test, elsewhere it skips. */
    public static Path par2() {
        Path par2 = ExternalProcess.find("par2", System.getenv());
        if (par2 != null) {
            return par2;
        }
        String msg = "this test needs par2 on PATH (Debian: apt-get install par2)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(msg + " (CI=true: required, not skipped)");
        }
        Assumptions.abort(msg);
        return null;
    }

    /**
     * shellcheck on PATH, for the shell scripts' lint: under CI=true a missing one fails the test,
     * elsewhere it skips.
     */
    public static Path shellcheck() {
        Path shellcheck = ExternalProcess.find("shellcheck", System.getenv());
        if (shellcheck != null) {
            return shellcheck;
        }
        String msg = "this test needs shellcheck on PATH (Debian: apt-get install shellcheck)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(msg + " (CI=true: required, not skipped)");
        }
        Assumptions.abort(msg);
        return null;
    }

    /**
     * qbittorrent-nox and mktorrent on PATH, for {@link QbittorrentNox}: under CI=true a missing one
     * fails the test, elsewhere it skips.
     */
    public static void qbittorrent() {
        java.util.Map<String, String> env = System.getenv();
        if (ExternalProcess.find("qbittorrent-nox", env) != null && ExternalProcess.find("mktorrent", env) != null) {
            return;
        }
        String msg = "this test needs qbittorrent-nox and mktorrent on PATH"
                + " (Debian: apt-get install qbittorrent-nox mktorrent)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(msg + " (CI=true: required, not skipped)");
        }
        Assumptions.abort(msg);
    }

    /**
     * Real ZFS for {@link ZfsPool}: root, {@code zfs} and {@code zpool} on PATH, and zfs-fuse (or a
     * kernel ZFS, {@code /dev/zfs}). Under CI=true a missing piece fails the test, elsewhere it skips.
     */
    public static void zfs() {
        root("ZFS pools are made and destroyed");
        java.util.Map<String, String> env = System.getenv();
        boolean tools = ExternalProcess.find("zfs", env) != null && ExternalProcess.find("zpool", env) != null;
        boolean engine =
                (ExternalProcess.find("zfs-fuse", env) != null && java.nio.file.Files.exists(Path.of("/dev/fuse")))
                        || java.nio.file.Files.exists(Path.of("/dev/zfs"));
        if (tools && engine) {
            return;
        }
        String msg = "this test needs ZFS: zfs, zpool and zfs-fuse with /dev/fuse (Debian: apt-get install zfs-fuse)";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(msg + " (CI=true: required, not skipped)");
        }
        Assumptions.abort(msg);
    }
}
