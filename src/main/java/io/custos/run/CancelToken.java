package io.custos.run;

import java.util.concurrent.atomic.AtomicBoolean;

/** Set by SIGINT/SIGTERM: work stops at the next safe point and the run exits 130. */
public final class CancelToken {
    private final AtomicBoolean cancelled = new AtomicBoolean();

    public void cancel() {
        cancelled.set(true);
    }

    public boolean cancelled() {
        return cancelled.get();
    }
}
