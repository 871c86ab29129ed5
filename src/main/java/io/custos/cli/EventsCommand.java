package io.custos.cli;

import io.custos.catalog.Catalog;
import io.custos.catalog.EventType;
import io.custos.catalog.Reports;
import io.custos.config.Config;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.RunSummary;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

@Command(name = "events", mixinStandardHelpOptions = true, description = "Change events, newest first.")
final class EventsCommand implements Callable<Integer> {
    private static final Pattern DURATION = Pattern.compile("([0-9]+)([smhdw])");

    private final Context ctx;

    @ParentCommand
    RootCommand root;

    @Option(
            names = "--since",
            paramLabel = "DURATION|DATE",
            description = "Only events since then: a duration back from now (30m, 12h, 7d, 2w) or a date"
                    + " (2026-01-31, or 2026-01-31T12:00:00Z).")
    String since;

    @Option(
            names = "--type",
            paramLabel = "T",
            arity = "1..*",
            description = "Only these types: added, modified, touched, moved, deleted, truncated, busy, verified,"
                    + " damaged, repaired, repair_failed, parity_created, parity_recreated, parity_trashed,"
                    + " parity_restored, large_change.")
    List<String> types = new ArrayList<>();

    @Option(names = "--root", paramLabel = "R", description = "Only events of this root.")
    String rootName;

    @Option(
            names = "--limit",
            paramLabel = "N",
            defaultValue = "1000",
            description = "At most N events (default ${DEFAULT-VALUE}; 0 = all).")
    int limit;

    EventsCommand(Context ctx) {
        this.ctx = ctx;
    }

    @Override
    public Integer call() {
        List<String> typeNames = new ArrayList<>();
        for (String t : types) {
            for (String one : t.split(",")) {
                try {
                    typeNames.add(EventType.of(one.trim()).sql());
                } catch (IllegalArgumentException e) {
                    throw CustosException.usage("--type: unknown event type \"" + one + "\"");
                }
            }
        }
        if (limit < 0) {
            throw CustosException.usage("--limit: must be 0 (all) or more, got " + limit);
        }
        Long sinceMillis = since == null ? null : parseSince(since, ctx.clock().instant());
        Config cfg = root.loadConfig();
        RunSummary s = new RunSummary("events", ctx.clock().instant());
        List<Map<String, Object>> events;
        try (Catalog c = ReadCommands.open(cfg)) {
            events = c == null ? List.of() : new Reports(c).events(sinceMillis, typeNames, rootName, limit);
        }
        s.put("events", events).finishedAt(ctx.clock().instant());
        if (root.json()) {
            ctx.out().println(s.toJson());
        } else {
            StringBuilder sb = new StringBuilder();
            for (Map<String, Object> e : events) {
                sb.append(String.format(
                        Locale.ROOT,
                        "%s  %-16s %s%s%s%n",
                        e.get("time"),
                        e.get("type"),
                        e.get("root") == null ? "" : e.get("root"),
                        e.get("path") == null ? "" : "/" + e.get("path"),
                        e.get("detail") == null ? "" : "  " + e.get("detail")));
            }
            ctx.out().print(sb);
        }
        return ExitCode.OK.code();
    }

    static long parseSince(String text, Instant now) {
        Matcher m = DURATION.matcher(text.trim());
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                case "d" -> Duration.ofDays(n);
                default -> Duration.ofDays(7 * n);
            };
            return now.minus(d).toEpochMilli();
        }
        try {
            return LocalDate.parse(text.trim())
                    .atStartOfDay(ZoneOffset.UTC)
                    .toInstant()
                    .toEpochMilli();
        } catch (DateTimeParseException e) {
            // not a plain date; try a date and time
        }
        try {
            return OffsetDateTime.parse(text.trim()).toInstant().toEpochMilli();
        } catch (DateTimeParseException e) {
            throw CustosException.usage("--since: expected a duration such as 30m, 12h, 7d or 2w, or a date such as"
                    + " 2026-01-31 or 2026-01-31T12:00:00Z; got \"" + text + "\"");
        }
    }
}
