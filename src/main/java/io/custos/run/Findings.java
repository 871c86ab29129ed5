package io.custos.run;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * What a run found: its counters, its problems and the exit code they add up to. The parts of one
 * run (scan, parity, verification, repair) report into the same findings.
 */
public final class Findings {
    private record Entry(Problem problem, ExitCode code) {}

    private final Log log;
    private final Stats stats;
    private final List<Entry> entries = new ArrayList<>();
    private ExitCode interrupted = ExitCode.OK;

    public Findings(Log log, String... counters) {
        this.log = log;
        this.stats = new Stats(counters);
    }

    public Stats stats() {
        return stats;
    }

    /** Records a problem; it makes the run exit with {@code code} (or a worse one). */
    public synchronized void problem(Problem p, ExitCode code) {
        entries.add(new Entry(p, code));
        if (code != ExitCode.OK) {
            // A path without a root may be absolute already (rehome, the data dir): no second slash.
            String path = p.path() == null ? "" : p.path().startsWith("/") ? p.path() : "/" + p.path();
            log.warn("%s%s: %s", p.root() == null ? "" : p.root(), path, p.message());
        }
    }

    /** Takes back the problems a later step of the run resolved (a damaged file repaired). */
    public synchronized void resolved(Predicate<Problem> which) {
        entries.removeIf(e -> which.test(e.problem()));
    }

    public synchronized void interrupted() {
        interrupted = ExitCode.INTERRUPTED;
    }

    public synchronized List<Problem> problems() {
        List<Problem> out = new ArrayList<>(entries.size());
        entries.forEach(e -> out.add(e.problem()));
        return out;
    }

    public synchronized ExitCode exit() {
        ExitCode exit = interrupted;
        for (Entry e : entries) {
            exit = exit.worst(e.code());
        }
        return exit;
    }

    /** Puts exit code, counters and problems into the run's summary. */
    public void fill(RunSummary summary) {
        summary.exitCode(exit()).stats(stats.asMap()).problems(problems());
    }
}
