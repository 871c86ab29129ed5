package io.custos.config;

import io.custos.fs.RawPaths;
import io.custos.run.CustosException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/** The roots in force: {@code roots}, plus every directory directly under {@code data_dir}. */
public final class RootSet {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    /**
     * The roots by name; {@code warnings} for people; {@code dataDirError} when {@code data_dir}
     * is set but cannot be listed (then none of its roots is known, which must not read as "all gone").
     */
    public record Resolved(Map<String, Config.Root> roots, List<String> warnings, String dataDirError) {}

    private RootSet() {}

    public static Resolved resolve(Config config) {
        Map<String, Config.Root> out = new LinkedHashMap<>();
        List<String> warnings = new ArrayList<>();
        String dataDirError = null;
        for (Config.Root r : config.roots()) {
            out.put(r.name(), r);
        }
        if (config.dataDir() != null) {
            Path dir = RawPaths.path(config.dataDir());
            List<Path> subdirs = new ArrayList<>();
            // Symlinks are not followed: a link to a sibling would make one directory two roots.
            try (DirectoryStream<Path> ds =
                    Files.newDirectoryStream(dir, p -> Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS))) {
                ds.forEach(subdirs::add);
            } catch (IOException | RuntimeException e) {
                dataDirError = "data_dir " + config.dataDir() + " cannot be listed: "
                        + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
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
        return new Resolved(out, warnings, dataDirError);
    }

    /**
     * The named roots (all when none are named); an unknown name is a usage error, and so is a
     * configuration without roots or data_dir.
     */
    public static List<Config.Root> select(Config config, Resolved resolved, List<String> names) {
        Map<String, Config.Root> all = resolved.roots();
        if (all.isEmpty() && config.dataDir() == null) {
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
                throw CustosException.usage("unknown root \"" + n + "\"; configured roots: "
                        + (all.isEmpty() ? "none" : String.join(", ", all.keySet()))
                        + (resolved.dataDirError() == null ? "" : " (" + resolved.dataDirError() + ")"));
            }
            if (!out.contains(r)) {
                out.add(r);
            }
        }
        return out;
    }
}
