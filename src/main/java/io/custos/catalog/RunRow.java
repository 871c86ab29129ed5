package io.custos.catalog;

/** One recorded run of a command. {@code summary} is its JSON summary. */
public record RunRow(
        long id, String command, String host, long startedAt, Long finishedAt, Integer exitCode, String summary) {}
