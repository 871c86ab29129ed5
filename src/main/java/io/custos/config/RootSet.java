package io.custos.config;

import io.custos.fs.RawPaths;
import io.custos.run.CustosException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The roots in force: {@code roots}, plus every directory directly under {@code data_dir}. */
public final class RootSet {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private RootSet() {}

    /** All roots, by name. A {@code data_dir} that cannot be listed yields none of its roots. */
    public static Map<String, Config.Root> all(Config config, List<String> warnings) {
        Map<String, Config.Root> out = new LinkedHashMap<>();
        for (Config.Root r : config.roots()) {
            out.put(r.name(), r);
        }
        if (config.dataDir() != null) {
            Path dir = RawPaths.path(config.dataDir());
            List<Path> subdirs = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
                ds.forEach(subdirs::add);
            } catch (IOException | RuntimeException e) {
                warnings.add("data_dir " + config.dataDir() + " cannot be listed: " + e.getMessage());
            }
            subdirs.sort(null);
            for (Path p : subdirs) {
                String name = p.getFileName().toString();
                if (name.startsWith(".")) {
                    continue;
                }
                if (!NAME.matcher(name).matches()) {
                    warnings.add("data_dir entry " + p
                            + " is not a usable root name (letters, digits, '.', '_', '-'); skipped");
                    continue;
                }
                if (out.containsKey(name)) {
                    warnings.add(
                            "data_dir entry " + p + " has the name of a configured root; the configured root wins");
                    continue;
                }
                out.put(name, new Config.Root(name, p.toString(), true, null));
            }
        }
        return out;
    }

    /** The named roots (all when none are named); an unknown name is a usage error. */
    public static List<Config.Root> select(Map<String, Config.Root> all, List<String> names) {
        if (all.isEmpty()) {
            throw CustosException.usage(
                    "no roots configured: set \"roots\" or \"data_dir\" in the configuration (or CUSTOS_DATA_DIR)");
        }
        if (names == null || names.isEmpty()) {
            return new ArrayList<>(all.values());
        }
        List<Config.Root> out = new ArrayList<>();
        for (String n : names) {
            Config.Root r = all.get(n);
            if (r == null) {
                throw CustosException.usage(
                        "unknown root \"" + n + "\"; configured roots: " + String.join(", ", all.keySet()));
            }
            if (!out.contains(r)) {
                out.add(r);
            }
        }
        return out;
    }
}
