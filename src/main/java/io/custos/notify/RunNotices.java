package io.custos.notify;

import io.custos.run.ExitCode;
import io.custos.run.Problem;
import io.custos.run.RunSummary;
import io.custos.run.Units;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The notices a finished run produces, in this order: the run itself ({@code run.completed} or
 * {@code run.failed}, always exactly one), then {@code file.damaged}, {@code file.repaired},
 * {@code large_change} and {@code guard.tripped} when they apply (at most one of each).
 */
public final class RunNotices {
    /** Paths (or guard findings) named in one message; the rest are counted. */
    static final int MAX_LISTED = 20;
    /** Problems carried in one webhook document; {@code problems_total} gives the full count. */
    static final int MAX_DOCUMENT_PROBLEMS = 200;

    private static final Set<String> BAD_FILE = Set.of("damaged", "truncated");
    private static final Set<String> GUARD = Set.of("root_unavailable", "root_empty", "large_change");
    private static final Set<ExitCode> FAILED =
            Set.of(ExitCode.USAGE, ExitCode.LOCKED, ExitCode.ENVIRONMENT, ExitCode.INTERRUPTED);

    private RunNotices() {}

    /**
     * @param repaired files repaired in this run, as {@code root/path}; null or empty for none
     */
    public static List<Notice> of(RunSummary s, String host, List<String> repaired) {
        Run run = new Run(s, host == null ? "unknown host" : host);
        List<Notice> out = new ArrayList<>();
        out.add(run.summary());
        List<Problem> bad = run.problems(p -> BAD_FILE.contains(p.kind()));
        if (!bad.isEmpty()) {
            out.add(run.damaged(bad));
        }
        if (repaired != null && !repaired.isEmpty()) {
            out.add(run.repaired(repaired));
        }
        List<Problem> large = run.problems(p -> "large_change".equals(p.kind()));
        if (!large.isEmpty()) {
            out.add(run.largeChange(large));
        }
        List<Problem> guard = run.problems(p -> GUARD.contains(p.kind()));
        // A guard held back work even when a later failure (exit 5, 130) hides exit 4.
        if (s.exitCode() == ExitCode.GUARD || !guard.isEmpty()) {
            out.add(run.guardTripped(guard));
        }
        return out;
    }

    /** One run's facts and the wording shared by its notices. */
    private static final class Run {
        private final RunSummary s;
        private final String host;
        private final String command;
        private final String runRef;
        private final Object time;

        Run(RunSummary s, String host) {
            this.s = s;
            this.host = host;
            this.command = s.command() == null ? "custos" : s.command();
            this.runRef = s.runId() == null ? "" : " (run " + s.runId() + ")";
            Map<String, Object> m = s.toMap();
            Object t = m.get("finished_at");
            this.time = t != null ? t : m.get("started_at");
        }

        List<Problem> problems(Predicate<Problem> p) {
            return s.problems().stream().filter(p).toList();
        }

        Notice summary() {
            ExitCode code = s.exitCode();
            boolean failed = s.error() != null || FAILED.contains(code);
            String title;
            StringBuilder msg = new StringBuilder();
            if (failed) {
                switch (code) {
                    case INTERRUPTED -> {
                        title = "custos: " + command + " interrupted on " + host;
                        msg.append(command)
                                .append(" on ")
                                .append(host)
                                .append(" was interrupted")
                                .append(runRef)
                                .append("; the catalog is consistent and the next run continues.");
                        if (s.error() != null) {
                            msg.append(' ').append(sentence(s.error()));
                        }
                    }
                    case LOCKED, USAGE -> {
                        title = "custos: " + command + " did not run on " + host;
                        msg.append(command)
                                .append(" on ")
                                .append(host)
                                .append(" did not run (exit ")
                                .append(code.code())
                                .append("): ")
                                .append(sentence(s.error() != null ? s.error() : code.meaning()))
                                .append(" Nothing was done.");
                    }
                    default -> {
                        title = "custos: " + command + " failed on " + host;
                        msg.append(command)
                                .append(" failed on ")
                                .append(host)
                                .append(runRef)
                                .append(" (exit ")
                                .append(code.code())
                                .append("): ")
                                .append(sentence(s.error() != null ? s.error() : code.meaning()));
                    }
                }
                if (!s.problems().isEmpty()) {
                    msg.append(" Problems: ").append(kinds(s.problems())).append('.');
                }
                return notice(Notice.RUN_FAILED, title, msg.toString(), s.problems(), null);
            }
            String counters = counters(s.stats());
            switch (code) {
                case OK -> {
                    title = "custos: " + command + " ok on " + host;
                    msg.append(command).append(" finished on ").append(host).append(runRef);
                    msg.append(counters.isEmpty() ? "; nothing wrong." : ": " + counters + ". Nothing wrong.");
                }
                case GUARD -> {
                    title = "custos: " + command + " held changes back on " + host;
                    msg.append(command)
                            .append(" on ")
                            .append(host)
                            .append(runRef)
                            .append(": a safety guard held back changes");
                    msg.append("; the rest was done.");
                    // the remedy is in each finding's message ("is the disk mounted?", --accept-changes)
                    List<Problem> guard = problems(p -> GUARD.contains(p.kind()));
                    findings(msg, guard.subList(0, Math.min(3, guard.size())));
                    if (guard.size() > 3) {
                        msg.append(" And ").append(guard.size() - 3).append(" more.");
                    }
                    List<Problem> other = problems(p -> !GUARD.contains(p.kind()));
                    if (!other.isEmpty()) {
                        msg.append(" Other problems: ").append(kinds(other)).append('.');
                    }
                }
                default -> {
                    title = "custos: " + command + " found problems on " + host;
                    msg.append(command)
                            .append(" finished on ")
                            .append(host)
                            .append(runRef)
                            .append(" with problems: ")
                            .append(kinds(s.problems()))
                            .append('.');
                    int shown = 0;
                    for (Problem p : s.problems()) {
                        if (shown == 3) {
                            break;
                        }
                        msg.append(' ').append(path(p, true)).append(": ").append(sentence(clip(p.message(), 160)));
                        shown++;
                    }
                    if (s.problems().size() > shown) {
                        msg.append(" (and ").append(s.problems().size() - shown).append(" more)");
                    }
                    if (!problems(p -> BAD_FILE.contains(p.kind())).isEmpty()) {
                        msg.append(" Run: custos repair");
                    }
                }
            }
            if (code != ExitCode.OK && !counters.isEmpty()) {
                msg.append(msg.charAt(msg.length() - 1) == '.' ? " " : ". ")
                        .append(capitalize(counters))
                        .append('.');
            }
            return notice(Notice.RUN_COMPLETED, title, msg.toString().strip(), s.problems(), null);
        }

        Notice damaged(List<Problem> bad) {
            long d = bad.stream().filter(p -> "damaged".equals(p.kind())).count();
            long t = bad.size() - d;
            String what;
            if (t == 0) {
                what = files(d) + " damaged";
            } else if (d == 0) {
                what = files(t) + " truncated";
            } else {
                what = files(d) + " damaged and " + t + " truncated";
            }
            String title = "custos: " + what + " on " + host;
            String msg = what + " on " + host + list(bad) + ". Run: custos repair";
            return notice(Notice.FILE_DAMAGED, title, msg, bad, null);
        }

        Notice repaired(List<String> paths) {
            String what = files(paths.size()) + " repaired";
            StringBuilder msg =
                    new StringBuilder(what).append(" on ").append(host).append(": ");
            join(msg, paths);
            msg.append(". The damaged originals are kept in quarantine.");
            return notice(Notice.FILE_REPAIRED, "custos: " + what + " on " + host, msg.toString(), List.of(), paths);
        }

        Notice largeChange(List<Problem> large) {
            String roots = roots(large);
            String title = "custos: large change held back on " + host + (roots.isEmpty() ? "" : " (" + roots + ")");
            StringBuilder msg =
                    new StringBuilder("Large change held back on ").append(host).append(':');
            findings(msg, large);
            return notice(Notice.LARGE_CHANGE, title, msg.toString(), large, null);
        }

        Notice guardTripped(List<Problem> guard) {
            String title = "custos: safety guard tripped on " + host;
            StringBuilder msg = new StringBuilder(command)
                    .append(" on ")
                    .append(host)
                    .append(runRef)
                    .append(": a safety guard held back destructive work; the rest was done.");
            if (guard.isEmpty()) {
                msg.append(" Details: custos status.");
            } else {
                findings(msg, guard);
            }
            return notice(Notice.GUARD_TRIPPED, title, msg.toString(), guard, null);
        }

        private void findings(StringBuilder msg, List<Problem> list) {
            int n = 0;
            for (Problem p : list) {
                if (n == MAX_LISTED) {
                    msg.append(" And ").append(list.size() - n).append(" more.");
                    break;
                }
                String at = path(p, true);
                msg.append(' ').append(at.isEmpty() ? "" : at + ": ").append(sentence(p.message()));
                n++;
            }
        }

        private Notice notice(
                String event, String title, String message, List<Problem> problems, List<String> repaired) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("event", event);
            doc.put("host", host);
            doc.put("command", s.command());
            doc.put("run_id", s.runId());
            doc.put("exit_code", s.exitCode().code());
            doc.put("time", time);
            doc.put("title", title);
            doc.put("message", message);
            List<Map<String, Object>> ps = new ArrayList<>();
            for (Problem p : problems) {
                if (ps.size() == MAX_DOCUMENT_PROBLEMS) {
                    break;
                }
                Map<String, Object> pm = new LinkedHashMap<>();
                pm.put("root", p.root());
                pm.put("path", p.path());
                pm.put("kind", p.kind());
                pm.put("message", p.message());
                ps.add(pm);
            }
            doc.put("problems", ps);
            doc.put("problems_total", problems.size());
            doc.put("stats", s.stats() == null ? Map.of() : s.stats());
            if (s.error() != null) {
                doc.put("error", s.error());
            }
            if (repaired != null) {
                doc.put("repaired", repaired);
            }
            return new Notice(event, title, message, doc);
        }
    }

    /** " (photos): a.jpg, b.jpg" for one root, ": photos/a.jpg, music/b.mp3" for several. */
    private static String list(List<Problem> ps) {
        Set<String> roots = new LinkedHashSet<>();
        ps.forEach(p -> roots.add(String.valueOf(p.root())));
        boolean one = roots.size() == 1 && ps.get(0).root() != null;
        StringBuilder sb = new StringBuilder(one ? " (" + ps.get(0).root() + "): " : ": ");
        List<String> paths = new ArrayList<>();
        for (Problem p : ps) {
            paths.add(path(p, !one));
        }
        join(sb, paths);
        return sb.toString();
    }

    private static void join(StringBuilder sb, List<String> items) {
        int n = Math.min(items.size(), MAX_LISTED);
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(items.get(i));
        }
        if (items.size() > n) {
            sb.append(" and ").append(items.size() - n).append(" more");
        }
    }

    private static String path(Problem p, boolean withRoot) {
        if (p.path() == null) {
            return p.root() == null ? "" : p.root();
        }
        return withRoot && p.root() != null ? p.root() + "/" + p.path() : p.path();
    }

    private static String roots(List<Problem> ps) {
        Set<String> roots = new LinkedHashSet<>();
        ps.forEach(p -> {
            if (p.root() != null) {
                roots.add(p.root());
            }
        });
        return String.join(", ", roots);
    }

    /** "2 damaged, 1 unreadable": counts per kind, in the order found. */
    private static String kinds(List<Problem> ps) {
        Map<String, Integer> count = new LinkedHashMap<>();
        ps.forEach(p -> count.merge(p.kind(), 1, Integer::sum));
        List<String> parts = new ArrayList<>();
        count.forEach((k, n) -> parts.add(n + " " + k.replace('_', ' ')));
        return String.join(", ", parts);
    }

    /** Non-zero counters: "1234 files scanned, 3 new, 1.2 GB hashed". */
    private static String counters(Map<String, Long> stats) {
        if (stats == null) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, Long> e : stats.entrySet()) {
            long v = e.getValue() == null ? 0 : e.getValue();
            if (v == 0) {
                continue;
            }
            String k = e.getKey();
            if (k.equals("bytes_hashed")) {
                parts.add(Units.bytes(v) + " hashed");
            } else if (k.equals("files_scanned")) {
                parts.add(v + " files scanned");
            } else {
                parts.add(v + " " + k.replace("files_", "").replace('_', ' '));
            }
        }
        return String.join(", ", parts);
    }

    private static String files(long n) {
        return n == 1 ? "1 file" : n + " files";
    }

    private static String sentence(String s) {
        String t = s == null ? "" : s.strip();
        return t.isEmpty() || t.endsWith(".") || t.endsWith("!") || t.endsWith("?") ? t : t + ".";
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1);
    }

    private static String clip(String s, int max) {
        if (s == null || s.length() <= max) {
            return s;
        }
        return s.substring(0, max) + "...";
    }
}
