package io.custos.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Loads the configuration: the file ({@code --config}, else {@code $CUSTOS_CONFIG}, else
 * {@code /etc/custos/config.json} when it exists, else none), then environment overrides, then
 * validation. Every error names the key and what it accepts; all errors are reported together
 * (exit 2).
 */
public final class ConfigLoader {
    public static final String DEFAULT_FILE = "/etc/custos/config.json";
    static final List<String> DEFAULT_EXCLUDE =
            List.of(".DS_Store", "Thumbs.db", "*.tmp", "*.partial", "#recycle", "@eaDir");
    /** Events a notification target can subscribe to (SPEC §10). */
    public static final List<String> NOTIFY_EVENTS = List.of(
            "run.completed",
            "run.failed",
            "file.damaged",
            "file.repaired",
            "large_change",
            "guard.tripped",
            "zip.completed",
            "zip.failed",
            "rehome.completed",
            "rehome.failed");

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");
    private static final long MAX_BYTES = Long.MAX_VALUE / 2;
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Map<String, String> env;

    public ConfigLoader(Map<String, String> env) {
        this.env = env;
    }

    /** Which file is read, or null for built-in defaults. */
    public Path configFile(String flag) {
        if (flag != null && !flag.isEmpty()) {
            return Path.of(flag);
        }
        String fromEnv = env.get("CUSTOS_CONFIG");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return Path.of(fromEnv);
        }
        Path etc = Path.of(DEFAULT_FILE);
        return Files.isRegularFile(etc) ? etc : null;
    }

    public Config load(String flag) {
        Path file = configFile(flag);
        ObjectNode tree;
        if (file == null) {
            tree = JsonNodeFactory.instance.objectNode();
        } else {
            tree = read(file);
        }
        Map<String, String> sources = new HashMap<>();
        applyEnvironment(tree, sources);
        return new Validator(sources, file == null ? "built-in defaults" : file.toString()).config(tree);
    }

    /** Validates a JSON document as a configuration (no environment applied). */
    public static Config parse(String json) {
        try {
            JsonNode node = JSON.readTree(json);
            if (!(node instanceof ObjectNode obj)) {
                throw CustosException.usage("configuration: the top level must be a JSON object");
            }
            return new Validator(Map.of(), "text").config(obj);
        } catch (JsonProcessingException e) {
            throw CustosException.usage("configuration is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static ObjectNode read(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw CustosException.usage("configuration file not found: " + file);
        } catch (IOException e) {
            throw CustosException.usage("cannot read configuration file " + file + ": " + e.getMessage());
        }
        try {
            JsonNode node = JSON.readTree(text);
            if (!(node instanceof ObjectNode obj)) {
                throw CustosException.usage(file + ": the top level must be a JSON object");
            }
            return obj;
        } catch (JsonProcessingException e) {
            String where = e.getLocation() == null
                    ? ""
                    : " (line " + e.getLocation().getLineNr() + ", column "
                            + e.getLocation().getColumnNr() + ")";
            throw CustosException.usage(file + " is not valid JSON" + where + ": " + e.getOriginalMessage());
        }
    }

    private void applyEnvironment(ObjectNode tree, Map<String, String> sources) {
        setScalar(tree, sources, "CUSTOS_PARITY_ROOT", "parity_root", false);
        setScalar(tree, sources, "CUSTOS_DATA_DIR", "data_dir", false);
        setScalar(tree, sources, "CUSTOS_PAR2_REDUNDANCY", "parity.redundancy_percent", true);
        setScalar(tree, sources, "CUSTOS_VERIFY_PERCENT", "verify.percent", true);
        setScalar(tree, sources, "CUSTOS_LOG_LEVEL", "log.level", false);
        String exclude = env.get("CUSTOS_EXCLUDE");
        if (exclude != null) {
            ArrayNode arr = tree.putArray("exclude");
            for (String s : exclude.split(",")) {
                if (!s.trim().isEmpty()) {
                    arr.add(s.trim());
                }
            }
            sources.put("exclude", "CUSTOS_EXCLUDE");
        }
        String webhook = env.get("CUSTOS_NOTIFY_WEBHOOK");
        if (webhook != null && !webhook.isEmpty()) {
            JsonNode notify = tree.get("notify");
            ObjectNode n = notify instanceof ObjectNode o ? o : tree.putObject("notify");
            JsonNode targets = n.get("targets");
            ArrayNode arr = targets instanceof ArrayNode a ? a : n.putArray("targets");
            arr.addObject().put("type", "webhook").put("url", webhook);
            sources.put("notify.targets[" + (arr.size() - 1) + "]", "CUSTOS_NOTIFY_WEBHOOK");
        }
    }

    private void setScalar(ObjectNode tree, Map<String, String> sources, String var, String key, boolean numeric) {
        String value = env.get(var);
        if (value == null || value.isEmpty()) {
            return;
        }
        String[] parts = key.split("\\.");
        ObjectNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            JsonNode child = node.get(parts[i]);
            node = child instanceof ObjectNode o ? o : node.putObject(parts[i]);
        }
        String leaf = parts[parts.length - 1];
        if (numeric && value.trim().matches("-?[0-9]{1,9}")) {
            node.put(leaf, Integer.parseInt(value.trim()));
        } else {
            node.put(leaf, value);
        }
        sources.put(key, var);
    }

    /** Reads and checks the tree, collecting every error. */
    private static final class Validator {
        private final Map<String, String> sources;
        private final String origin;
        private final List<String> errors = new ArrayList<>();

        Validator(Map<String, String> sources, String origin) {
            this.sources = sources;
            this.origin = origin;
        }

        Config config(ObjectNode t) {
            keys(
                    t,
                    "",
                    "parity_root",
                    "roots",
                    "data_dir",
                    "exclude",
                    "hash",
                    "parity",
                    "verify",
                    "repair",
                    "guard",
                    "process",
                    "retention_days",
                    "quarantine_days",
                    "catalog_backups",
                    "notify",
                    "metrics",
                    "log",
                    "zip",
                    "link",
                    "qbittorrent",
                    "rehome");
            String parityRoot = absPath(t, "", "parity_root", "/parity", false);
            List<Config.Root> roots = roots(t.get("roots"));
            String dataDir = absPath(t, "", "data_dir", null, true);
            List<String> exclude = strings(t, "", "exclude", DEFAULT_EXCLUDE);

            JsonNode h = object(t, "", "hash");
            keys(h, "hash", "workers", "per_device_workers");
            Config.Hash hash = new Config.Hash(
                    integer(h, "hash", "workers", 0, 0, 256), integer(h, "hash", "per_device_workers", 1, 1, 64));

            JsonNode p = object(t, "", "parity");
            keys(
                    p,
                    "parity",
                    "redundancy_percent",
                    "min_file_size",
                    "max_file_size",
                    "par2_binary",
                    "timeout_seconds",
                    "trash_days");
            Config.Parity parity = new Config.Parity(
                    integer(p, "parity", "redundancy_percent", 10, 1, 100),
                    longInt(p, "parity", "min_file_size", 4096, 0, MAX_BYTES),
                    longInt(p, "parity", "max_file_size", 0, 0, MAX_BYTES),
                    string(p, "parity", "par2_binary", "par2", false),
                    integer(p, "parity", "timeout_seconds", 3600, 1, 604800),
                    integer(p, "parity", "trash_days", 30, 0, 36500));
            if (parity.maxFileSize() > 0 && parity.maxFileSize() < parity.minFileSize()) {
                errors.add("parity.max_file_size: must be 0 (no limit) or at least parity.min_file_size ("
                        + parity.minFileSize() + "), got " + parity.maxFileSize());
            }

            JsonNode v = object(t, "", "verify");
            keys(v, "verify", "percent", "max_age_days");
            Config.Verify verify = new Config.Verify(
                    integer(v, "verify", "percent", 5, 0, 100), integer(v, "verify", "max_age_days", 0, 0, 36500));

            JsonNode rp = object(t, "", "repair");
            keys(rp, "repair", "auto");
            Config.Repair repair = new Config.Repair(bool(rp, "repair", "auto", false));

            JsonNode g = object(t, "", "guard");
            keys(g, "guard", "max_deleted_percent", "max_modified_percent", "min_files");
            Config.Guard guard = new Config.Guard(
                    integer(g, "guard", "max_deleted_percent", 25, 0, 100),
                    integer(g, "guard", "max_modified_percent", 25, 0, 100),
                    integer(g, "guard", "min_files", 100, 0, Integer.MAX_VALUE));

            JsonNode pr = object(t, "", "process");
            keys(pr, "process", "nice", "ionice_idle", "umask");
            String umask = string(pr, "process", "umask", "027", false);
            int umaskValue = 027;
            if (umask != null && umask.matches("0?[0-7]{3}")) {
                umaskValue = Integer.parseInt(umask, 8);
            } else if (umask != null) {
                errors.add(name("process", "umask") + ": must be an octal string of three digits such as \"027\", got "
                        + quote(umask));
            }
            Config.Process process = new Config.Process(
                    integer(pr, "process", "nice", 10, 0, 19), bool(pr, "process", "ionice_idle", true), umaskValue);

            int retention = integer(t, "", "retention_days", 3650, 1, 36500);
            int quarantine = integer(t, "", "quarantine_days", 30, 0, 36500);
            int backups = integer(t, "", "catalog_backups", 7, 0, 1000);

            Config.Notify notify = notify(object(t, "", "notify"));
            JsonNode m = object(t, "", "metrics");
            keys(m, "metrics", "textfile", "healthchecks_url");
            Config.Metrics metrics = new Config.Metrics(
                    absPath(m, "metrics", "textfile", null, true), url(m, "metrics", "healthchecks_url", null, true));
            Config.LogSettings log = log(object(t, "", "log"));
            Config.Zip zip = zip(object(t, "", "zip"));
            JsonNode l = object(t, "", "link");
            keys(l, "link", "min_size");
            Config.Link link = new Config.Link(longInt(l, "link", "min_size", 1, 1, MAX_BYTES));
            JsonNode q = object(t, "", "qbittorrent");
            Config.Qbittorrent qb = qbittorrent(q);
            JsonNode r = object(t, "", "rehome");
            keys(r, "rehome", "seeding_roots", "library_roots", "stash_root", "pool_root", "max_scan_age_hours");
            Config.Rehome rehome = new Config.Rehome(
                    absPaths(r, "rehome", "seeding_roots"),
                    absPaths(r, "rehome", "library_roots"),
                    absPath(r, "rehome", "stash_root", null, true),
                    absPath(r, "rehome", "pool_root", null, true),
                    integer(r, "rehome", "max_scan_age_hours", 48, 1, 87600));

            if (!errors.isEmpty()) {
                throw new CustosException(
                        ExitCode.USAGE, "configuration error (" + origin + "):\n  " + String.join("\n  ", errors));
            }
            return new Config(
                    parityRoot,
                    roots,
                    dataDir,
                    exclude,
                    hash,
                    parity,
                    verify,
                    guard,
                    process,
                    retention,
                    quarantine,
                    backups,
                    notify,
                    metrics,
                    log,
                    zip,
                    link,
                    qb,
                    rehome,
                    repair);
        }

        private List<Config.Root> roots(JsonNode node) {
            List<Config.Root> out = new ArrayList<>();
            if (node == null || node.isNull()) {
                return out;
            }
            if (!node.isArray()) {
                errors.add("roots: must be an array of {name, path, parity, marker} objects");
                return out;
            }
            Set<String> names = new HashSet<>();
            for (int i = 0; i < node.size(); i++) {
                String at = "roots[" + i + "]";
                JsonNode r = node.get(i);
                if (!r.isObject()) {
                    errors.add(at + ": must be an object {name, path, parity, marker}");
                    continue;
                }
                keys(r, at, "name", "path", "parity", "marker");
                String name = string(r, at, "name", null, false);
                if (name != null && !NAME.matcher(name).matches()) {
                    errors.add(at + ".name: must be 1 to 64 letters, digits, '.', '_' or '-' (not starting with"
                            + " '.', '_' or '-'), got " + quote(name));
                } else if (name != null && !names.add(name)) {
                    errors.add(at + ".name: " + quote(name) + " is used by another root; names must be unique");
                }
                String path = absPath(r, at, "path", null, false);
                boolean parity = bool(r, at, "parity", true);
                String marker = string(r, at, "marker", null, true);
                if (marker != null && (marker.isEmpty() || marker.startsWith("/") || marker.contains(".."))) {
                    errors.add(
                            at + ".marker: must be a file name relative to the root (no '..'), got " + quote(marker));
                }
                if (name != null && path != null) {
                    out.add(new Config.Root(name, path, parity, marker));
                }
            }
            return out;
        }

        private Config.Notify notify(JsonNode n) {
            keys(n, "notify", "targets");
            List<Config.Target> targets = new ArrayList<>();
            JsonNode arr = n.get("targets");
            if (arr == null || arr.isNull()) {
                return new Config.Notify(targets);
            }
            if (!arr.isArray()) {
                errors.add("notify.targets: must be an array of target objects");
                return new Config.Notify(targets);
            }
            for (int i = 0; i < arr.size(); i++) {
                String at = "notify.targets[" + i + "]";
                JsonNode t = arr.get(i);
                if (!t.isObject()) {
                    errors.add(at + ": must be an object {type, url, ...}");
                    continue;
                }
                keys(
                        t,
                        at,
                        "type",
                        "url",
                        "token",
                        "token_file",
                        "priority",
                        "events",
                        "exclude_events",
                        "timeout_seconds",
                        "retries");
                String type = oneOf(t, at, "type", null, List.of("webhook", "gotify", "ntfy", "healthchecks"));
                String url = url(t, at, "url", null, false);
                Integer priority = t.hasNonNull("priority") ? integer(t, at, "priority", 0, 0, 10) : null;
                List<String> events = eventList(t, at, "events");
                List<String> exclude = eventList(t, at, "exclude_events");
                targets.add(new Config.Target(
                        type,
                        url,
                        string(t, at, "token", null, true),
                        absPath(t, at, "token_file", null, true),
                        priority,
                        events,
                        exclude,
                        integer(t, at, "timeout_seconds", 10, 1, 300),
                        integer(t, at, "retries", 3, 0, 10)));
            }
            return new Config.Notify(targets);
        }

        private Config.Qbittorrent qbittorrent(JsonNode q) {
            keys(q, "qbittorrent", "url", "username", "password", "password_file", "api_key", "api_key_file");
            Config.Qbittorrent qb = new Config.Qbittorrent(
                    url(q, "qbittorrent", "url", "http://localhost:8080", false),
                    string(q, "qbittorrent", "username", null, true),
                    string(q, "qbittorrent", "password", null, true),
                    absPath(q, "qbittorrent", "password_file", null, true),
                    string(q, "qbittorrent", "api_key", null, true),
                    absPath(q, "qbittorrent", "api_key_file", null, true));
            // Two ways to give one secret, or two ways to log in, leave the user guessing which wins.
            if (qb.password() != null && qb.passwordFile() != null) {
                errors.add("qbittorrent.password_file: set either password or password_file, not both");
            }
            if (qb.apiKey() != null && qb.apiKeyFile() != null) {
                errors.add("qbittorrent.api_key_file: set either api_key or api_key_file, not both");
            }
            boolean apiKey = qb.apiKey() != null || qb.apiKeyFile() != null;
            if (apiKey && qb.username() != null) {
                errors.add(
                        "qbittorrent.api_key: log in either with an API key or with username and password, not both");
            }
            if (qb.username() == null && (qb.password() != null || qb.passwordFile() != null)) {
                errors.add("qbittorrent.username: is required when a password or password_file is set");
            }
            if (qb.username() != null && qb.password() == null && qb.passwordFile() == null) {
                errors.add("qbittorrent.password_file: is required with qbittorrent.username (or set password)");
            }
            if (qb.apiKey() != null && !qb.apiKey().chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                // never echoed: it is a secret
                errors.add("qbittorrent.api_key: must be printable ASCII without spaces");
            }
            return qb;
        }

        private List<String> eventList(JsonNode t, String at, String key) {
            List<String> list = strings(t, at, key, List.of());
            for (String e : list) {
                if (!NOTIFY_EVENTS.contains(e)) {
                    errors.add(name(at, key) + ": unknown event " + quote(e) + "; accepted: "
                            + String.join(", ", NOTIFY_EVENTS));
                }
            }
            return list;
        }

        private Config.LogSettings log(JsonNode l) {
            keys(l, "log", "level", "file", "syslog");
            String level = oneOf(l, "log", "level", "info", List.of("error", "warn", "info", "debug", "trace"));
            String file = absPath(l, "log", "file", null, true);
            Config.Syslog syslog = null;
            JsonNode s = l.get("syslog");
            if (s != null && !s.isNull()) {
                if (!s.isObject()) {
                    errors.add("log.syslog: must be null or an object {host, port, facility}");
                } else {
                    keys(s, "log.syslog", "host", "port", "facility");
                    syslog = new Config.Syslog(
                            string(s, "log.syslog", "host", "localhost", false),
                            integer(s, "log.syslog", "port", 514, 1, 65535),
                            oneOf(
                                    s,
                                    "log.syslog",
                                    "facility",
                                    "daemon",
                                    List.of(
                                            "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp",
                                            "cron", "local0", "local1", "local2", "local3", "local4", "local5",
                                            "local6", "local7")));
                }
            }
            return new Config.LogSettings(level, file, syslog);
        }

        private Config.Zip zip(JsonNode z) {
            keys(z, "zip", "jobs");
            List<Config.ZipJob> jobs = new ArrayList<>();
            JsonNode arr = z.get("jobs");
            if (arr == null || arr.isNull()) {
                return new Config.Zip(jobs);
            }
            if (!arr.isArray()) {
                errors.add("zip.jobs: must be an array of job objects");
                return new Config.Zip(jobs);
            }
            Set<String> names = new HashSet<>();
            for (int i = 0; i < arr.size(); i++) {
                String at = "zip.jobs[" + i + "]";
                JsonNode j = arr.get(i);
                if (!j.isObject()) {
                    errors.add(at + ": must be an object {name, source_path, target_path, ...}");
                    continue;
                }
                keys(
                        j,
                        at,
                        "name",
                        "source_path",
                        "target_path",
                        "folder_pattern",
                        "snapshot",
                        "keep",
                        "compression",
                        "max_workers",
                        "retries",
                        "retry_backoff_seconds",
                        "task_timeout_seconds",
                        "tmp_dir",
                        "min_free_bytes",
                        "notify_success");
                String name = string(j, at, "name", null, false);
                if (name != null && !NAME.matcher(name).matches()) {
                    errors.add(at + ".name: must be 1 to 64 letters, digits, '.', '_' or '-', got " + quote(name));
                } else if (name != null && !names.add(name)) {
                    errors.add(at + ".name: " + quote(name) + " is used by another job; names must be unique");
                }
                String pattern = string(j, at, "folder_pattern", "^[A-Z0-9]{4}$", false);
                if (pattern != null) {
                    try {
                        Pattern.compile(pattern);
                    } catch (PatternSyntaxException e) {
                        errors.add(at + ".folder_pattern: must be a valid regular expression: " + e.getDescription());
                    }
                }
                JsonNode s = object(j, at, "snapshot");
                String sat = at + ".snapshot";
                keys(s, sat, "mode", "prefix", "retention");
                String prefix = string(s, sat, "prefix", "auto-zip", false);
                if (prefix != null && !NAME.matcher(prefix).matches()) {
                    errors.add(sat + ".prefix: must be 1 to 64 letters, digits, '.', '_' or '-', got " + quote(prefix));
                }
                Config.Snapshot snap = new Config.Snapshot(
                        oneOf(s, sat, "mode", "auto", List.of("auto", "zfs", "none")),
                        prefix,
                        integer(s, sat, "retention", 10, 1, 1000));
                jobs.add(new Config.ZipJob(
                        name,
                        absPath(j, at, "source_path", null, false),
                        absPath(j, at, "target_path", null, false),
                        pattern,
                        snap,
                        integer(j, at, "keep", 2, 1, 2),
                        oneOf(j, at, "compression", "auto", List.of("deflate", "store", "auto")),
                        integer(j, at, "max_workers", 1, 1, 64),
                        integer(j, at, "retries", 3, 0, 100),
                        integer(j, at, "retry_backoff_seconds", 2, 0, 3600),
                        integer(j, at, "task_timeout_seconds", 0, 0, 604800),
                        absPath(j, at, "tmp_dir", null, true),
                        longInt(j, at, "min_free_bytes", 0, 0, MAX_BYTES),
                        bool(j, at, "notify_success", false)));
            }
            return new Config.Zip(jobs);
        }

        // ---- primitives ---------------------------------------------------------------------

        private String name(String path, String key) {
            String full = path.isEmpty() ? key : path + "." + key;
            String var = sources.get(full);
            return var == null ? full : full + " (from " + var + ")";
        }

        private void keys(JsonNode obj, String path, String... allowed) {
            if (obj == null || !obj.isObject()) {
                return;
            }
            Set<String> ok = Set.of(allowed);
            obj.fieldNames().forEachRemaining(k -> {
                if (!ok.contains(k)) {
                    errors.add((path.isEmpty() ? k : path + "." + k) + ": unknown key; accepted keys"
                            + (path.isEmpty() ? "" : " in " + path) + ": " + String.join(", ", allowed));
                }
            });
        }

        private JsonNode object(JsonNode parent, String path, String key) {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return JsonNodeFactory.instance.objectNode();
            }
            if (!n.isObject()) {
                errors.add(name(path, key) + ": must be an object");
                return JsonNodeFactory.instance.objectNode();
            }
            return n;
        }

        private int integer(JsonNode parent, String path, String key, int def, int min, int max) {
            return (int) longInt(parent, path, key, def, min, max);
        }

        private long longInt(JsonNode parent, String path, String key, long def, long min, long max) {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return def;
            }
            String range = max >= MAX_BYTES ? "an integer of at least " + min : "an integer from " + min + " to " + max;
            if (!n.isIntegralNumber() || !n.canConvertToLong() || n.asLong() < min || n.asLong() > max) {
                errors.add(name(path, key) + ": must be " + range + ", got " + n);
                return def;
            }
            return n.asLong();
        }

        private boolean bool(JsonNode parent, String path, String key, boolean def) {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return def;
            }
            if (!n.isBoolean()) {
                errors.add(name(path, key) + ": must be true or false, got " + n);
                return def;
            }
            return n.asBoolean();
        }

        private String string(JsonNode parent, String path, String key, String def, boolean nullable) {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                if (!nullable && def == null) {
                    errors.add(name(path, key) + ": is required (a string)");
                }
                return def;
            }
            if (!n.isTextual() || n.asText().isEmpty()) {
                errors.add(
                        name(path, key) + ": must be a non-empty string" + (nullable ? " or null" : "") + ", got " + n);
                return def;
            }
            return n.asText();
        }

        private String absPath(JsonNode parent, String path, String key, String def, boolean nullable) {
            String s = string(parent, path, key, def, nullable);
            if (s != null && !s.startsWith("/")) {
                errors.add(name(path, key) + ": must be an absolute path (starting with /), got " + quote(s));
                return def;
            }
            return s;
        }

        /** An array of absolute paths (empty by default). */
        private List<String> absPaths(JsonNode parent, String path, String key) {
            List<String> out = strings(parent, path, key, List.of());
            for (String s : out) {
                if (!s.startsWith("/")) {
                    errors.add(name(path, key) + ": must be an array of absolute paths (starting with /), got "
                            + quote(s));
                }
            }
            return out;
        }

        private String url(JsonNode parent, String path, String key, String def, boolean nullable) {
            String s = string(parent, path, key, def, nullable);
            if (s != null && !(s.startsWith("http://") || s.startsWith("https://"))) {
                errors.add(name(path, key) + ": must be an http:// or https:// URL, got " + quote(s));
                return def;
            }
            return s;
        }

        private String oneOf(JsonNode parent, String path, String key, String def, List<String> accepted) {
            String s = string(parent, path, key, def, false);
            if (s != null && !accepted.contains(s)) {
                errors.add(name(path, key) + ": must be one of " + String.join(", ", accepted) + ", got " + quote(s));
                return def;
            }
            return s;
        }

        private List<String> strings(JsonNode parent, String path, String key, List<String> def) {
            JsonNode n = parent.get(key);
            if (n == null || n.isNull()) {
                return def;
            }
            List<String> out = new ArrayList<>();
            if (!n.isArray()) {
                errors.add(name(path, key) + ": must be an array of strings, got " + n);
                return def;
            }
            for (JsonNode e : n) {
                if (!e.isTextual() || e.asText().isEmpty()) {
                    errors.add(name(path, key) + ": must be an array of non-empty strings, got element " + e);
                } else {
                    out.add(e.asText());
                }
            }
            return List.copyOf(out);
        }

        private static String quote(String s) {
            return "\"" + s + "\"";
        }
    }
}
