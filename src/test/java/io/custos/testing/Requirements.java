package io.custos.testing;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/** Tests that need root (mounts, other users): under CI=true a missing requirement fails, elsewhere it skips. */
public final class Requirements {
    private Requirements() {}

    public static void root(String why) {
        if (Harness.root()) {
            return;
        }
        String msg = "this test needs root: " + why;
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(msg + " (CI=true: required, not skipped)");
        }
        Assumptions.abort(msg);
    }
}
