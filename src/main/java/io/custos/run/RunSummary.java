package io.custos.run;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one JSON object a command prints with {@code --json} and writes to {@code _logs/}: the
 * common fields of SPEC §2 and the command's own ones in {@code extra}.
 */
public final class RunSummary {
    private static final ObjectMapper JSON = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private final String command;
    private Long runId;
    private ExitCode exitCode = ExitCode.OK;
    private Instant startedAt;
    private Instant finishedAt;
    private Map<String, Long> stats;
    private final List<Problem> problems = new ArrayList<>();
    private final Map<String, Object> extra = new LinkedHashMap<>();
    private String error;

    public RunSummary(String command, Instant startedAt) {
        this.command = command;
        this.startedAt = startedAt;
    }

    public String command() {
        return command;
    }

    public Long runId() {
        return runId;
    }

    public RunSummary runId(Long id) {
        this.runId = id;
        return this;
    }

    public ExitCode exitCode() {
        return exitCode;
    }

    public RunSummary exitCode(ExitCode code) {
        this.exitCode = code;
        return this;
    }

    public Instant startedAt() {
        return startedAt;
    }

    public RunSummary finishedAt(Instant at) {
        this.finishedAt = at;
        return this;
    }

    public Map<String, Long> stats() {
        return stats;
    }

    public RunSummary stats(Map<String, Long> s) {
        this.stats = s;
        return this;
    }

    public List<Problem> problems() {
        return problems;
    }

    public RunSummary problems(List<Problem> p) {
        problems.addAll(p);
        return this;
    }

    public Map<String, Object> extra() {
        return extra;
    }

    public RunSummary put(String key, Object value) {
        extra.put(key, value);
        return this;
    }

    public String error() {
        return error;
    }

    public RunSummary error(String message) {
        this.error = message;
        return this;
    }

    /** The object, with SPEC field names, in a stable order. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("command", command);
        m.put("run_id", runId);
        m.put("exit_code", exitCode.code());
        m.put("started_at", startedAt == null ? null : startedAt.toString());
        m.put("finished_at", finishedAt == null ? null : finishedAt.toString());
        m.put("stats", stats == null ? Map.of() : stats);
        List<Map<String, Object>> ps = new ArrayList<>();
        for (Problem p : problems) {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("root", p.root());
            pm.put("path", p.path());
            pm.put("kind", p.kind());
            pm.put("message", p.message());
            ps.add(pm);
        }
        m.put("problems", ps);
        if (error != null) {
            m.put("error", error);
        }
        m.putAll(extra);
        return m;
    }

    public String toJson() {
        return toJson(toMap());
    }

    public static String toJson(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render JSON", e);
        }
    }
}
