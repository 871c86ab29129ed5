package io.custos.run;

import io.custos.catalog.Catalog;
import io.custos.catalog.EventType;
import io.custos.config.Config;
import java.nio.file.Path;
import java.time.Clock;

/**
 * What the parts of one run share: the configuration, the open catalog, the parity root, the par2
 * program (null when no root of the run keeps parity), the run's id (0 for a run that records
 * nothing), the clock, the log, the cancellation, the findings and the progress display.
 */
public record RunContext(
        Config config,
        Catalog catalog,
        Path parityRoot,
        Path par2,
        long runId,
        Clock clock,
        Log log,
        CancelToken cancel,
        Findings findings,
        Progress progress) {

    public long now() {
        return clock.millis();
    }

    public Stats stats() {
        return findings.stats();
    }

    public void problem(Problem p, ExitCode code) {
        findings.problem(p, code);
    }

    /** Records an event of this run. */
    public void event(EventType type, Long rootId, Long fileId, byte[] path, String detail) {
        catalog.events().add(runId, clock.millis(), type, rootId, fileId, path, detail);
    }
}
