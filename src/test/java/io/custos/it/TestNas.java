package io.custos.it;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * A NAS in a temp directory: one root {@code data/}, a parity root {@code parity/}, and the JSON
 * configuration file custos is run with.
 */
final class TestNas {
    static final String ROOT = "data";

    final Path dir;
    final Path data;
    final Path parity;
    final Path config;
    private final ObjectNode settings = CustosProcess.JSON.createObjectNode();

    TestNas(Path dir) {
        this.dir = dir;
        this.data = dir.resolve("data");
        this.parity = dir.resolve("parity");
        this.config = dir.resolve("config.json");
        try {
            Files.createDirectories(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        settings.put("parity_root", parity.toString());
        ArrayNode roots = settings.putArray("roots");
        roots.addObject().put("name", ROOT).put("path", data.toString());
        writeConfig();
    }

    /** The configuration; change it, then call {@link #writeConfig}. */
    ObjectNode settings() {
        return settings;
    }

    TestNas writeConfig() {
        try {
            Files.writeString(
                    config, CustosProcess.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(settings));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** custos with this NAS's configuration, run in its directory. */
    CustosProcess custos(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "--config";
        all[1] = config.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        return CustosProcess.custos(all).in(dir);
    }

    CatalogDb catalog() {
        return new CatalogDb(parity.resolve("_db").resolve("catalog.db"));
    }

    Path file(String rel, String content) {
        Path p = data.resolve(rel);
        try {
            Files.createDirectories(p.getParent());
            Files.writeString(p, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return p;
    }

    /**
     * {@code count} files of {@code size} bytes, 100 per directory, each with a distinct random head
     * and a sparse tail: hashing them costs as much as hashing real data, creating them costs almost
     * nothing and they take no disk space.
     */
    List<Path> sparseTree(int count, int size) {
        Random random = new Random(count * 31L + size);
        byte[] head = new byte[4096];
        List<Path> files = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                Path d = data.resolve(String.format("dir%03d", i / 100));
                if (i % 100 == 0) {
                    Files.createDirectories(d);
                }
                Path f = d.resolve(String.format("file%05d.bin", i));
                random.nextBytes(head);
                try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                    raf.write(head, 0, Math.min(head.length, size));
                    raf.setLength(size);
                }
                files.add(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return files;
    }

    /** The files of the NAS's {@code _logs/} directory, sorted by name. */
    List<Path> logs() {
        return list(parity.resolve("_logs"));
    }

    /** The files of {@code _db/backups/}, sorted by name. */
    List<Path> backups() {
        return list(parity.resolve("_db").resolve("backups"));
    }

    private static List<Path> list(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
