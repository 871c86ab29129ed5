package io.custos.repair;

import io.custos.catalog.FileRow;
import io.custos.fs.RawPaths;
import io.custos.run.RunContext;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code <parity_root>/_quarantine/<run id>/<root>/<path>}: the damaged originals that repairs
 * replaced, kept {@code quarantine_days} after their run.
 */
public final class Quarantine {
    private final RunContext ctx;
    private final Path dir;

    public Quarantine(RunContext ctx) {
        this.ctx = ctx;
        this.dir = ctx.parityRoot().resolve("_quarantine");
    }

    /** Where this run keeps the damaged original of {@code row} of root {@code rootName}. */
    public Path of(String rootName, FileRow row) {
        return RawPaths.resolve(dir.resolve(Long.toString(ctx.runId())).resolve(rootName), row.path());
    }

    /** Deletes what runs older than {@code quarantine_days} put here. */
    public void purge() {
        if (!Files.isDirectory(dir)) {
            return;
        }
        long before = ctx.now() - TimeUnit.DAYS.toMillis(ctx.config().quarantineDays());
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path run : ds) {
                if (Files.getLastModifiedTime(run).toMillis() < before && isRunId(run)) {
                    ctx.log().info("deleting %s (older than quarantine_days)", run);
                    deleteTree(run);
                }
            }
        } catch (IOException e) {
            ctx.log().warn("cannot clean %s: %s", dir, e.getMessage());
        }
    }

    private static boolean isRunId(Path p) {
        return p.getFileName().toString().matches("[0-9]+");
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
