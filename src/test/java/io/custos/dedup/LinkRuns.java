package io.custos.dedup;

import io.custos.catalog.LinkTable;
import io.custos.config.Config;
import io.custos.config.ConfigLoader;
import io.custos.run.CancelToken;
import io.custos.run.Log;
import io.custos.run.Progress;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import io.custos.run.Workspace;
import io.custos.testing.Harness;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Clock;

/** Runs a link plan in process with a fault injected where no real one can be made on cue. */
final class LinkRuns {
    /** What the simulated crash throws: an Error, which no code path of the executor catches. */
    static final class Crash extends Error {
        private static final long serialVersionUID = 1L;

        Crash() {
            super("simulated crash");
        }
    }

    private LinkRuns() {}

    /** Executes the plan and dies right after the first temp link is made; returns what was thrown. */
    static Throwable executeWithCrash(Harness h, long planId) {
        Config cfg;
        try {
            cfg = ConfigLoader.parse(Harness.JSON.writeValueAsString(h.config()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
        Clock clock = Clock.systemUTC();
        Log log = Log.open(new PrintStream(new ByteArrayOutputStream()), clock, Log.Level.ERROR, null, "testhost");
        try (Workspace ws = Workspace.open(cfg, "link execute", "testhost", clock, log)) {
            RunContext run = ws.context(null, new CancelToken(), Progress.off(log), LinkExecutor.COUNTERS);
            LinkTable.Plan plan = ws.catalog().links().plan(planId);
            new LinkExecutor(run, Plans.rootsById(cfg, ws.catalog()))
                    .hook((temp, dup) -> {
                        throw new Crash();
                    })
                    .execute(
                            plan,
                            new LinkExecutor.Options(LinkExecutor.Verify.FULL, null, false),
                            new RunSummary("link execute", clock.instant()));
            return null;
        } catch (Crash e) {
            return e;
        }
    }
}
