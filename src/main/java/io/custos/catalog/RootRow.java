package io.custos.catalog;

/** A root as the catalog knows it. {@code lastScanAt}: end of its last complete scan, or null. */
public record RootRow(long id, String name, String path, Long lastScanAt, Long lastScanRun) {}
