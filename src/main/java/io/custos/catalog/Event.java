package io.custos.catalog;

/** One recorded event. {@code detail} is a JSON object as text, or null. */
public record Event(
        long id, Long runId, long time, String type, Long rootId, Long fileId, byte[] path, String detail) {}
