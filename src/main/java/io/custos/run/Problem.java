package io.custos.run;

/** Something a run found wrong, reported in {@code problems} of the JSON output. */
public record Problem(String root, String path, String kind, String message) {}
