package io.custos.cli;

import io.custos.run.CancelToken;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/** What a command may touch of the outside world: passed in, so that tests run in parallel. */
public record Context(
        Map<String, String> env,
        Clock clock,
        PrintStream out,
        PrintStream err,
        CancelToken cancel,
        String host,
        Path workingDir) {}
