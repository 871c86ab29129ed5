package io.custos.cli;

import io.custos.run.Problem;
import io.custos.run.RunSummary;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Results on stdout: one JSON object with {@code --json}, else short text for people. */
final class Render {
    private Render() {}

    static void summary(Context ctx, boolean json, RunSummary s) {
        if (json) {
            ctx.out().println(s.toJson());
            return;
        }
        StringBuilder sb = new StringBuilder();
        sb.append(s.command())
                .append(s.runId() == null ? "" : " (run " + s.runId() + ")")
                .append(": ")
                .append(verdict(s))
                .append('\n');
        if (s.stats() != null && !s.stats().isEmpty()) {
            sb.append("  ").append(counters(s.stats())).append('\n');
        }
        if (s.error() != null) {
            sb.append("  error: ").append(s.error()).append('\n');
        }
        Object roots = s.extra().get("roots");
        if (roots instanceof List<?> list) {
            java.util.Set<String> withProblems = new java.util.HashSet<>();
            s.problems().forEach(p -> withProblems.add(p.root()));
            int shown = 0;
            for (Object o : list) {
                if (o instanceof Map<?, ?> m
                        && (list.size() <= 20
                                || !"scanned".equals(m.get("state"))
                                || withProblems.contains(String.valueOf(m.get("name"))))) {
                    sb.append(String.format(
                            Locale.ROOT,
                            "  root %s (%s): %s, %s files%n",
                            m.get("name"),
                            m.get("path"),
                            m.get("state"),
                            m.get("files")));
                    shown++;
                }
            }
            if (shown < list.size()) {
                sb.append("  ").append(list.size() - shown).append(" more roots scanned without remarks\n");
            }
        }
        Object files = s.extra().get("files");
        if (files instanceof List<?> list) {
            // repair: what happened to each file, or with --dry-run what would.
            for (Object o : list) {
                if (o instanceof Map<?, ?> m) {
                    sb.append(String.format(
                            Locale.ROOT,
                            "  %s/%s [%s]: %s%n",
                            m.get("root"),
                            m.get("path"),
                            m.get("status"),
                            m.get("result")));
                }
            }
        }
        appendProblems(sb, s.problems());
        ctx.out().print(sb);
    }

    static String verdict(RunSummary s) {
        return switch (s.exitCode()) {
            case OK -> "ok";
            case PROBLEMS -> "finished with problems (exit 1)";
            case GUARD -> "a safety guard held changes back (exit 4)";
            case INTERRUPTED -> "interrupted (exit 130); the next run continues";
            default -> "failed (exit " + s.exitCode().code() + ")";
        };
    }

    /** Non-zero counters as "12 files scanned, 3 new, ...". */
    static String counters(Map<String, Long> stats) {
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, Long> e : stats.entrySet()) {
            if (e.getValue() == 0 && !e.getKey().equals("files_scanned")) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(", ");
            }
            String k = e.getKey();
            String v =
                    k.equals("bytes_hashed") ? io.custos.run.Units.bytes(e.getValue()) : String.valueOf(e.getValue());
            sb.append(v)
                    .append(' ')
                    .append(
                            k.equals("bytes_hashed")
                                    ? "hashed"
                                    : k.replace("files_", "").replace('_', ' '));
        }
        return sb.toString();
    }

    static void appendProblems(StringBuilder sb, List<Problem> problems) {
        if (problems.isEmpty()) {
            return;
        }
        sb.append("problems:\n");
        int n = 0;
        for (Problem p : problems) {
            if (++n > 50) {
                sb.append("  ... and ").append(problems.size() - 50).append(" more (see --json)\n");
                break;
            }
            String where = (p.root() == null ? "" : p.root()) + (p.path() == null ? "" : "/" + p.path());
            sb.append("  [")
                    .append(p.kind())
                    .append("] ")
                    .append(where.isEmpty() ? "" : where + ": ")
                    .append(p.message())
                    .append('\n');
        }
    }
}
