package io.custos.notify;

import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One message for the notification targets: the event it stands for (the names a target's
 * {@code events} filter uses), a short title, a short text for people (what happened, where, what
 * to do) and the JSON document a webhook receives.
 */
public record Notice(String event, String title, String message, Map<String, Object> document) {
    public static final String RUN_COMPLETED = "run.completed";
    public static final String RUN_FAILED = "run.failed";
    public static final String FILE_DAMAGED = "file.damaged";
    public static final String FILE_REPAIRED = "file.repaired";
    public static final String LARGE_CHANGE = "large_change";
    public static final String GUARD_TRIPPED = "guard.tripped";
    /** {@code custos notify test}: goes to every target, whatever its filters. */
    public static final String TEST = "test";

    public Notice {
        Objects.requireNonNull(event, "event");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(message, "message");
        // a copy that keeps the field order and allows null values (run_id of a test message)
        document = Collections.unmodifiableMap(new LinkedHashMap<>(document));
    }

    /** The message of {@code custos notify test}. */
    public static Notice test(String host, Instant time) {
        String title = "custos test message";
        String message =
                "custos test message from " + host + ". If you read this, notifications from this NAS reach you.";
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("event", TEST);
        doc.put("host", host);
        doc.put("command", "notify");
        doc.put("run_id", null);
        doc.put("exit_code", null);
        doc.put("time", time == null ? null : time.toString());
        doc.put("title", title);
        doc.put("message", message);
        doc.put("problems", List.of());
        doc.put("stats", Map.of());
        return new Notice(TEST, title, message, doc);
    }
}
