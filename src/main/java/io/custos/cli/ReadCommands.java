package io.custos.cli;

import io.custos.catalog.Catalog;
import io.custos.config.Config;
import io.custos.run.Workspace;

/** Opening the catalog for the commands that only read it (no lock, no run recorded). */
final class ReadCommands {
    private ReadCommands() {}

    /** The catalog, or null when no scan has created it yet. */
    static Catalog open(Config cfg) {
        return Catalog.openReadOnly(Catalog.fileIn(Workspace.parityRoot(cfg)));
    }
}
