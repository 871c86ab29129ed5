package io.custos.torrent;

import io.custos.catalog.Catalog;
import io.custos.catalog.EventType;
import io.custos.catalog.RootRow;
import io.custos.config.Config;
import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.notify.Notice;
import io.custos.notify.Notifier;
import io.custos.parity.ParityStore;
import io.custos.run.CustosException;
import io.custos.run.ExitCode;
import io.custos.run.Log;
import io.custos.run.Problem;
import io.custos.run.RunContext;
import io.custos.run.RunSummary;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * {@code rehome apply} (SPEC §9). Plans again and refuses a BLOCK plan (exit 2) or one whose facts
 * changed (exit 4). Then: builds the target (hardlinks on one filesystem, verified copies across
 * filesystems) and the views of other layouts, each under a temp name renamed into place; stops
 * every moving sibling; points each at its new save path, where its files already are; rechecks
 * each and waits until it is complete at 100 %; starts those that were active before; only then
 * removes the source (a MOVE, or a REUSE with {@code --cleanup-source}) and updates the catalog.
 * Any failure before the torrents are confirmed points every torrent back (waiting a while for a
 * qBittorrent that went away), rechecks it there, restores its state, removes what this run built,
 * and leaves the source as it was: exit 1 and {@code rehome.failed}. Every step is recorded in
 * {@code rehome_steps} as it happens.
 */
public final class RehomeApply {
    /** {@code patience}: how long the undo keeps trying to reach qBittorrent. */
    public record Options(boolean dryRun, int spotCheck, boolean cleanupSource, Duration patience) {}

    /** A test's view of the apply: after each step, and when the undo starts (fault injection only). */
    public interface Hook {
        default void after(String action, String torrent) {}

        default void undoing() {}
    }

    /** The counters of {@code rehome apply}. */
    public static final String[] COUNTERS = {
        "torrents_moved",
        "files_linked",
        "files_copied",
        "bytes_copied",
        "files_spot_checked",
        "views_built",
        "source_files_removed"
    };

    private static final Duration MOVE_WAIT = Duration.ofSeconds(60);
    private static final Duration STATE_WAIT = Duration.ofSeconds(30);
    private static final Duration CHECK_START_WAIT = Duration.ofSeconds(3);
    private static final long CHECK_BYTES_PER_SECOND = 20L << 20;

    private final RunContext run;
    private final Catalog catalog;
    private final QbClient qb;
    private final Log log;
    private final String host;
    private final QbClient.Sleeper sleeper;
    private Hook hook = new Hook() {};

    private final List<Map<String, Object>> steps = new ArrayList<>();
    private long rehomeId;
    private int seq;

    public RehomeApply(RunContext run, QbClient qb, String host, QbClient.Sleeper sleeper) {
        this.run = run;
        this.catalog = run.catalog();
        this.qb = qb;
        this.log = run.log();
        this.host = host;
        this.sleeper = sleeper;
    }

    public RehomeApply hook(Hook h) {
        this.hook = h;
        return this;
    }

    /** What one apply changed, for the undo. */
    private static final class State {
        final List<PayloadData.Built> built = new ArrayList<>();
        final Map<PayloadData.Built, Payloads.Kind> kinds = new LinkedHashMap<>();
        final Set<String> activeBefore = new LinkedHashSet<>();
        boolean stopped;
        final Set<String> relocated = new LinkedHashSet<>();
    }

    /**
     * Carries out the plan read from {@code planFile}, filling {@code s}. {@code planner} plans
     * again from live facts; the fingerprints must match.
     */
    public void apply(RehomePlan plan, Path planFile, RehomePlanner planner, Options o, RunSummary s) {
        s.put("plan_file", planFile.toString())
                .put("dry_run", o.dryRun())
                .put("direction", plan.direction())
                .put("decision", plan.decision())
                .put("payload_hash", plan.payloadHash())
                .put("source", plan.source() == null ? null : plan.source().path())
                .put("target", plan.target() == null ? null : plan.target().path())
                .put("steps", steps);
        if (plan.blocked()) {
            throw CustosException.usage(
                    "the plan " + planFile + " is BLOCK: " + String.join("; ", plan.reasons()) + ". Nothing was done.");
        }
        RehomePlanner.Planned fresh = planner.plan(plan.request());
        if (!fresh.plan().fingerprint().equals(plan.fingerprint())) {
            String why = fresh.plan().blocked()
                    ? "it would now be BLOCK: " + String.join("; ", fresh.plan().reasons())
                    : "the files, the torrents or the decision (now "
                            + fresh.plan().decision() + ") changed";
            s.put("status", "refused");
            run.problem(
                    new Problem(
                            null,
                            planFile.toString(),
                            "stale_plan",
                            "the plan no longer matches the facts (" + why + "): make a new plan. Nothing was done."),
                    ExitCode.GUARD);
            return;
        }
        RehomePlanner.Details d = fresh.details();
        if (o.dryRun()) {
            dryRun(d, plan, o);
            s.put("status", "would_apply");
            return;
        }
        rehomeId = catalog.rehome()
                .start(
                        run.runId(),
                        planFile.toString(),
                        plan.fingerprint(),
                        plan.direction(),
                        plan.decision(),
                        plan.payloadHash(),
                        plan.source().path(),
                        plan.target().path(),
                        run.now());
        s.put("rehome_id", rehomeId);
        State st = new State();
        String error = null;
        try {
            forward(d, plan, o, st);
        } catch (IOException | RuntimeException e) {
            error = e.getMessage() == null ? e.toString() : e.getMessage();
            if (e instanceof CustosException ce && ce.exitCode() == ExitCode.INTERRUPTED) {
                error = "interrupted: " + error;
            }
            log.error("rehome: %s; undoing", error);
            step("failed", null, null, "failed", error);
            boolean clean = undo(d, st, o);
            String status = clean ? "rolled_back" : "rollback_failed";
            catalog.rehome().finish(rehomeId, status, error, run.now());
            s.put("status", status);
            run.problem(
                    new Problem(
                            null,
                            plan.source().path(),
                            "rehome_failed",
                            error
                                    + (clean
                                            ? "; every torrent is back on "
                                                    + plan.source().path() + " and the source is intact"
                                            : "; the undo did not finish: see problems and rehome_steps")),
                    ExitCode.PROBLEMS);
            notice(plan, false, error, clean);
            return;
        }
        finishSource(d, plan, o);
        updateCatalog(d, plan, o, st);
        catalog.rehome().finish(rehomeId, "completed", null, run.now());
        s.put("status", "completed");
        notice(plan, true, null, true);
    }

    public List<Map<String, Object>> steps() {
        return steps;
    }

    // ---- forward

    private void forward(RehomePlanner.Details d, RehomePlan plan, Options o, State st) throws IOException {
        Payloads.Instance primary = d.primary();
        String tag = Long.toString(rehomeId);
        if (plan.decision().equals(RehomePlan.MOVE)) {
            Path place = RawPaths.path(d.targetPath());
            PayloadData.Built b = new PayloadData.Built(place, PayloadData.tempFor(place, tag));
            st.built.add(b);
            st.kinds.put(b, d.targetKind());
            PayloadData.build(primary, place, d.targetKind(), d.sameFilesystem(), tag, b);
            PayloadData.publish(b, d.targetKind(), primary.entries().size(), primary.bytes());
            run.stats().add("files_linked", b.filesLinked);
            run.stats().add("files_copied", b.filesCopied);
            run.stats().add("bytes_copied", b.bytesCopied);
            String how = d.sameFilesystem()
                    ? b.filesLinked + " files hardlinked (one filesystem: nothing copied)"
                    : b.filesCopied + " files, " + b.bytesCopied + " bytes copied, each hashed against the catalog";
            step(d.sameFilesystem() ? "link_data" : "copy_data", null, d.targetPath(), "done", how);
            hook.after("place_data", null);
            if (!d.sameFilesystem()) {
                int checked = PayloadData.spotCheck(primary, place, d.targetKind(), o.spotCheck());
                run.stats().add("files_spot_checked", checked);
                step("spot_check", null, d.targetPath(), "done", checked + " files read back and hashed");
            }
        }
        Payloads.Instance data = d.reuse() != null ? d.reuse() : null;
        for (RehomePlanner.View v : d.views()) {
            Path place = RawPaths.path(v.path());
            PayloadData.Built b = new PayloadData.Built(place, PayloadData.tempFor(place, tag));
            st.built.add(b);
            st.kinds.put(b, v.kind());
            Payloads.Instance from = data != null ? data : relocated(primary, d.targetPath(), d.targetKind());
            PayloadData.build(from, place, v.kind(), true, tag, b);
            PayloadData.publish(b, v.kind(), primary.entries().size(), primary.bytes());
            run.stats().inc("views_built");
            step("build_view", null, v.path(), "done", b.filesLinked + " hardlinks of " + from.path());
        }

        List<String> hashes = new ArrayList<>();
        for (RehomePlanner.Move m : d.moves()) {
            hashes.add(m.torrent().hash());
        }
        for (Torrent t : qb.torrents(hashes)) {
            if (t.active()) {
                st.activeBefore.add(t.hash());
            }
        }
        st.stopped = true;
        qb.stop(hashes);
        for (String h : hashes) {
            qb.await(h, "stop", Torrent::stopped, STATE_WAIT);
        }
        step("stop", String.join(",", hashes), null, "done", st.activeBefore.size() + " were active");
        hook.after("stop", null);

        for (RehomePlanner.Move m : d.moves()) {
            String h = m.torrent().hash();
            checkCancelled();
            st.relocated.add(h);
            qb.setLocation(List.of(h), m.targetSave());
            step(
                    "set_location",
                    h,
                    m.targetSave(),
                    "done",
                    "from " + Payloads.normal(m.torrent().savePath()));
            hook.after("set_location", h);
            qb.await(h, "take its new save path", t -> same(t.savePath(), m.targetSave()) && !t.busy(), MOVE_WAIT);
        }
        long bytes = primary.bytes();
        for (RehomePlanner.Move m : d.moves()) {
            checkCancelled();
            Torrent t = recheck(m.torrent().hash(), bytes);
            if (!t.complete() || !same(t.contentPath(), m.targetContent())) {
                throw CustosException.environment(
                        String.format(
                                Locale.ROOT,
                                "torrent %s is not complete at %s after the recheck (%.1f%%, %s)",
                                t.hash(),
                                m.targetContent(),
                                t.progress() * 100,
                                t.state()),
                        null);
            }
            step("recheck", t.hash(), m.targetSave(), "done", "complete at 100%");
            hook.after("recheck", t.hash());
        }
        List<String> again = new ArrayList<>(st.activeBefore);
        qb.start(again);
        for (String h : again) {
            qb.await(h, "start", Torrent::active, STATE_WAIT);
        }
        step("start", String.join(",", again), null, "done", again.size() + " started; the others stay stopped");
        // Confirmed: every sibling is on the target, complete.
        for (Torrent t : qb.torrents(hashes)) {
            RehomePlanner.Move m = d.moves().stream()
                    .filter(x -> x.torrent().hash().equals(t.hash()))
                    .findFirst()
                    .orElseThrow();
            if (!same(t.savePath(), m.targetSave()) || t.progress() < 1.0) {
                throw CustosException.environment(
                        "torrent " + t.hash() + " is not on " + m.targetSave() + " complete after it was started ("
                                + t.state() + ")",
                        null);
            }
        }
        run.stats().add("torrents_moved", hashes.size());
        step("confirm", String.join(",", hashes), d.targetPath(), "done", "every sibling on the target, complete");
    }

    /** The primary instance's files as they are now at the target (for views of a moved payload). */
    private static Payloads.Instance relocated(Payloads.Instance p, String target, Payloads.Kind kind) {
        return new Payloads.Instance(
                target, kind, p.hash(), p.reason(), p.root(), p.rootRow(), p.rootRel(), p.entries(), p.bytes());
    }

    /**
     * Asks for a recheck and waits until it ends; returns the torrent as it then is. A torrent
     * at progress 1 may look complete before its check starts, so it is waited on until the check
     * is seen (or briefly, when the check is quicker than a poll).
     */
    private Torrent recheck(String hash, long bytes) {
        Torrent before = qb.torrent(hash).orElseThrow(() -> gone(hash));
        qb.recheck(List.of(hash));
        boolean[] seen = {false};
        if (before.progress() >= 1.0) {
            try {
                qb.await(
                        hash,
                        "start its recheck",
                        t -> Torrent.isChecking(t.state()) || t.progress() < 1,
                        CHECK_START_WAIT);
                seen[0] = true;
            } catch (CustosException e) {
                if (e.exitCode() != ExitCode.ENVIRONMENT || !e.getMessage().contains("did not start its recheck")) {
                    throw e;
                }
                log.debug("torrent %s: no check seen; it may have been quicker than a poll", hash);
            }
        }
        Duration wait = Duration.ofSeconds(60 + bytes / CHECK_BYTES_PER_SECOND);
        Predicate<Torrent> ended = t -> {
            if (Torrent.isChecking(t.state())) {
                seen[0] = true;
            }
            return t.complete()
                    || t.state().equals("error")
                    || t.state().equals("missingFiles")
                    || (seen[0] && !t.busy());
        };
        return qb.await(hash, "finish its recheck", ended, wait);
    }

    private void checkCancelled() {
        if (run.cancel().cancelled()) {
            throw new CustosException(ExitCode.INTERRUPTED, "interrupted before the torrents were confirmed");
        }
    }

    // ---- after success

    /** Removes the source of a MOVE (or of a REUSE with --cleanup-source), once no torrent uses it. */
    private void finishSource(RehomePlanner.Details d, RehomePlan plan, Options o) {
        boolean remove = plan.decision().equals(RehomePlan.MOVE) || o.cleanupSource();
        if (!remove) {
            step(
                    "keep_source",
                    null,
                    plan.source().path(),
                    "skipped",
                    "REUSE keeps the source (--cleanup-source removes it)");
            return;
        }
        List<Torrent> all;
        try {
            all = qb.torrents();
        } catch (CustosException e) {
            run.problem(
                    new Problem(
                            null,
                            plan.source().path(),
                            "source_kept",
                            "the source was kept: qBittorrent could not be asked whether a torrent uses it: "
                                    + e.getMessage()),
                    ExitCode.PROBLEMS);
            return;
        }
        for (Payloads.Instance s : d.sources()) {
            Optional<Torrent> user = all.stream()
                    .filter(t -> Payloads.under(t.contentPath(), s.path()) || Payloads.under(s.path(), t.contentPath()))
                    .findFirst();
            if (user.isPresent()) {
                run.problem(
                        new Problem(
                                null,
                                s.path(),
                                "source_kept",
                                "kept: torrent " + user.get().hash() + " still uses it"),
                        ExitCode.PROBLEMS);
                step("remove_source", user.get().hash(), s.path(), "skipped", "a torrent still uses it");
                continue;
            }
            try {
                List<Path> left = PayloadData.remove(s);
                run.stats().add("source_files_removed", s.entries().size() - countPayloadFiles(left, s));
                step(
                        "remove_source",
                        null,
                        s.path(),
                        "done",
                        left.isEmpty() ? "removed" : left.size() + " files that are not the payload's were left");
                if (!left.isEmpty()) {
                    log.warn(
                            "rehome: %s keeps %d files that are not the payload's, e.g. %s",
                            s.path(), left.size(), left.get(0));
                }
            } catch (IOException e) {
                run.problem(
                        new Problem(
                                null,
                                s.path(),
                                "source_not_removed",
                                "the torrents are on the target, but the source could not be removed: "
                                        + e.getMessage()),
                        ExitCode.PROBLEMS);
                step("remove_source", null, s.path(), "failed", e.getMessage());
            }
        }
    }

    private static long countPayloadFiles(List<Path> left, Payloads.Instance s) {
        long n = 0;
        for (Payloads.Entry e : s.entries()) {
            if (left.contains(s.file(e.rel()))) {
                n++;
            }
        }
        return n;
    }

    /**
     * The catalog follows the data: rows of a source whose place was built by this run move
     * there (when the source was removed) or are added there; rows of a removed source whose
     * place already existed are deleted. Then the torrents and payloads tables.
     */
    private void updateCatalog(RehomePlanner.Details d, RehomePlan plan, Options o, State st) {
        boolean removed = plan.decision().equals(RehomePlan.MOVE) || o.cleanupSource();
        Payloads payloads = new Payloads(run.config(), catalog);
        Set<String> builtPlaces = new LinkedHashSet<>();
        st.built.forEach(b -> builtPlaces.add(Payloads.normal(b.place.toString())));
        String fromRoot = Payloads.normal(d.direction().equals("demote") ? plan.stashRoot() : plan.poolRoot());
        String toRoot = Payloads.normal(d.direction().equals("demote") ? plan.poolRoot() : plan.stashRoot());
        int[] moved = {0};
        catalog.inTransaction(() -> {
            for (Payloads.Instance s : d.sources()) {
                String dest = RehomePlanner.mirror(s.path(), fromRoot, toRoot);
                boolean built = builtPlaces.contains(dest);
                Config.Root root = payloads.rootOf(dest);
                RootRow row = payloads.row(root);
                Payloads.Kind kind = built
                        ? st.kinds.entrySet().stream()
                                .filter(e -> Payloads.normal(e.getKey().place.toString())
                                        .equals(dest))
                                .findFirst()
                                .map(Map.Entry::getValue)
                                .orElse(s.kind())
                        : s.kind();
                for (Payloads.Entry e : s.entries()) {
                    Path at = Payloads.fileOf(dest, kind, e.rel());
                    byte[] rel = root == null
                            ? null
                            : RawPaths.bytes(
                                    RawPaths.path(Payloads.normal(root.path())).relativize(at));
                    String from = "{\"from_root\":"
                            + RunSummary.toJson(
                                    s.root() == null ? null : s.root().name())
                            + ",\"from_path\":"
                            + RunSummary.toJson(RawPaths.display(e.row().path()))
                            + ",\"rehome\":" + rehomeId + "}";
                    if (built && row != null) {
                        FileIdentity id;
                        try {
                            id = FileIdentity.of(at);
                        } catch (IOException x) {
                            log.warn("rehome: %s: %s; the next scan catalogs it", at, x.getMessage());
                            continue;
                        }
                        boolean eligible = ParityStore.eligible(run.config(), root, id.size());
                        if (removed) {
                            catalog.files()
                                    .move(
                                            e.row().id(),
                                            row.id(),
                                            rel,
                                            id.size(),
                                            id.mtimeNs(),
                                            id.device(),
                                            id.inode(),
                                            run.now());
                            run.event(EventType.MOVED, row.id(), e.row().id(), rel, from);
                            if (eligible) {
                                catalog.parity().setDue(e.row().id(), true);
                            }
                            moved[0]++;
                        } else {
                            long fid = catalog.files()
                                    .insert(
                                            row.id(),
                                            rel,
                                            id.size(),
                                            id.mtimeNs(),
                                            id.device(),
                                            id.inode(),
                                            e.row().sha256(),
                                            run.now(),
                                            eligible);
                            run.event(EventType.ADDED, row.id(), fid, rel, "{\"rehome\":" + rehomeId + "}");
                        }
                    } else if (removed) {
                        catalog.files().setStatus(e.row().id(), io.custos.catalog.FileStatus.DELETED, run.now());
                        run.event(
                                EventType.DELETED,
                                e.row().rootId(),
                                e.row().id(),
                                e.row().path(),
                                "{\"rehome\":" + rehomeId + "}");
                        catalog.parity().releaseLater(e.row().sha256(), null);
                    }
                }
            }
        });
        try {
            List<String> hashes = new ArrayList<>();
            d.moves().forEach(m -> hashes.add(m.torrent().hash()));
            payloads.forget();
            List<Torrent> now = qb.torrents(hashes);
            catalog.inTransaction(() -> PayloadSync.store(catalog, now, payloads, run.now()));
        } catch (CustosException e) {
            log.warn("rehome: the torrents table was not refreshed (%s); payload sync does it", e.getMessage());
        }
        step("update_catalog", null, d.targetPath(), "done", moved[0] + " file rows moved");
    }

    // ---- undo

    /** Points every torrent back, restores its state, removes what was built. True when all went well. */
    private boolean undo(RehomePlanner.Details d, State st, Options o) {
        hook.undoing();
        boolean clean = true;
        long deadline = System.nanoTime() + o.patience().toNanos();
        // Before the stop no torrent was touched: they keep their paths and states.
        List<RehomePlanner.Move> touched = st.stopped ? d.moves() : List.of();
        for (RehomePlanner.Move m : touched) {
            String h = m.torrent().hash();
            String back = Payloads.normal(m.torrent().savePath());
            try {
                patiently(deadline, () -> {
                    Torrent t = qb.torrent(h).orElseThrow(() -> gone(h));
                    if (!same(t.savePath(), back)) {
                        if (!t.stopped()) {
                            qb.stop(List.of(h));
                            qb.await(h, "stop", Torrent::stopped, STATE_WAIT);
                        }
                        // The source is intact: qBittorrent finds the files there and moves nothing.
                        qb.setLocation(List.of(h), back);
                        qb.await(
                                h,
                                "take its old save path back",
                                x -> same(x.savePath(), back) && !x.busy(),
                                MOVE_WAIT);
                        step("undo_set_location", h, back, "done", "from " + t.savePath());
                    }
                    Torrent now = qb.torrent(h).orElseThrow(() -> gone(h));
                    if (!now.complete()) {
                        if (!now.stopped()) {
                            qb.stop(List.of(h));
                            qb.await(h, "stop", Torrent::stopped, STATE_WAIT);
                        }
                        Torrent checked = recheck(h, d.primary().bytes());
                        if (!checked.complete()) {
                            throw CustosException.environment(
                                    "torrent " + h + " is not complete on " + back + " after a recheck ("
                                            + checked.state() + ")",
                                    null);
                        }
                        step("undo_recheck", h, back, "done", "complete at 100%");
                    }
                    boolean wasActive = st.activeBefore.contains(h);
                    Torrent last = qb.torrent(h).orElseThrow(() -> gone(h));
                    if (wasActive && last.stopped()) {
                        qb.start(List.of(h));
                        qb.await(h, "start", Torrent::active, STATE_WAIT);
                        step("undo_start", h, null, "done", null);
                    } else if (!wasActive && last.active()) {
                        qb.stop(List.of(h));
                        step("undo_stop", h, null, "done", "it was stopped before");
                    }
                });
            } catch (RuntimeException e) {
                clean = false;
                step("undo_torrent", h, back, "failed", e.getMessage());
                run.problem(
                        new Problem(
                                null,
                                back,
                                "rollback_failed",
                                "torrent " + h + " could not be put back on " + back + ": " + e.getMessage()),
                        ExitCode.PROBLEMS);
            }
        }
        // What this run built goes, unless a torrent still points into it.
        List<Torrent> live = List.of();
        boolean known = false;
        try {
            List<String> hashes = new ArrayList<>();
            d.moves().forEach(m -> hashes.add(m.torrent().hash()));
            live = patientlyGet(deadline, () -> qb.torrents());
            known = true;
        } catch (RuntimeException e) {
            clean = false;
        }
        for (int i = st.built.size() - 1; i >= 0; i--) {
            PayloadData.Built b = st.built.get(i);
            String place = Payloads.normal(b.place.toString());
            Optional<Torrent> user = live.stream()
                    .filter(t -> Payloads.under(t.contentPath(), place) || Payloads.under(place, t.contentPath()))
                    .findFirst();
            if (!known || (b.published && user.isPresent())) {
                clean = false;
                String why = known ? "torrent " + user.get().hash() + " still uses it" : "qBittorrent cannot be asked";
                step("undo_build", null, place, "skipped", "kept: " + why);
                run.problem(
                        new Problem(null, place, "rollback_failed", "kept " + place + ": " + why), ExitCode.PROBLEMS);
                continue;
            }
            try {
                PayloadData.undo(b, st.kinds.get(b));
                step("undo_build", null, place, "done", "removed what this run built");
            } catch (IOException e) {
                // The torrents are back on the source; a leftover copy costs space, not data.
                step("undo_build", null, place, "failed", e.getMessage());
                run.problem(
                        new Problem(null, place, "leftover", "could not remove what this run built: " + e.getMessage()),
                        ExitCode.PROBLEMS);
            }
        }
        return clean;
    }

    /** Runs a step of the undo, trying again while qBittorrent cannot be reached, until the deadline. */
    private void patiently(long deadline, Runnable r) {
        patientlyGet(deadline, () -> {
            r.run();
            return null;
        });
    }

    private <T> T patientlyGet(long deadline, java.util.function.Supplier<T> r) {
        while (true) {
            try {
                return r.get();
            } catch (QbUnreachableException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                log.warn("rehome undo: %s; trying again", e.getMessage());
                try {
                    sleeper.sleep(Duration.ofMillis(500));
                } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }

    // ---- dry run

    private void dryRun(RehomePlanner.Details d, RehomePlan plan, Options o) {
        if (plan.decision().equals(RehomePlan.MOVE)) {
            step(
                    d.sameFilesystem() ? "link_data" : "copy_data",
                    null,
                    d.targetPath(),
                    "would",
                    d.primary().entries().size() + " files, " + d.primary().bytes() + " bytes from "
                            + d.primary().path());
            if (!d.sameFilesystem()) {
                step("spot_check", null, d.targetPath(), "would", o.spotCheck() + " files read back and hashed");
            }
        }
        for (RehomePlanner.View v : d.views()) {
            step("build_view", null, v.path(), "would", "hardlinks of " + d.targetPath());
        }
        List<String> hashes = new ArrayList<>();
        d.moves().forEach(m -> hashes.add(m.torrent().hash()));
        step("stop", String.join(",", hashes), null, "would", null);
        for (RehomePlanner.Move m : d.moves()) {
            step(
                    "set_location",
                    m.torrent().hash(),
                    m.targetSave(),
                    "would",
                    "from " + m.torrent().savePath());
        }
        for (RehomePlanner.Move m : d.moves()) {
            step("recheck", m.torrent().hash(), m.targetSave(), "would", "wait until complete at 100%");
        }
        List<String> active = new ArrayList<>();
        d.moves().stream()
                .filter(m -> m.torrent().active())
                .forEach(m -> active.add(m.torrent().hash()));
        step("start", String.join(",", active), null, "would", "those active now");
        if (plan.decision().equals(RehomePlan.MOVE) || o.cleanupSource()) {
            for (Payloads.Instance s : d.sources()) {
                step("remove_source", null, s.path(), "would", "once every torrent is confirmed on the target");
            }
        } else {
            step("keep_source", null, plan.source().path(), "would", "REUSE keeps the source without --cleanup-source");
        }
        step("update_catalog", null, d.targetPath(), "would", null);
    }

    // ---- records

    private void step(String action, String torrent, String path, String status, String detail) {
        seq++;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", seq);
        m.put("action", action);
        m.put("torrent", torrent);
        m.put("path", path);
        m.put("status", status);
        m.put("detail", detail);
        m.put("at", Instant.ofEpochMilli(run.now()).toString());
        steps.add(m);
        if (rehomeId > 0 && !status.equals("would")) {
            catalog.rehome().step(rehomeId, seq, action, torrent, path, status, detail, run.now());
        }
        log.info(
                "rehome: %s%s%s: %s%s",
                action,
                torrent == null ? "" : " " + torrent,
                path == null ? "" : " " + path,
                status,
                detail == null ? "" : " (" + detail + ")");
    }

    private void notice(RehomePlan plan, boolean ok, String error, boolean clean) {
        List<Config.Target> targets = run.config().notifications().targets();
        if (targets.isEmpty()) {
            return;
        }
        String event = ok ? "rehome.completed" : "rehome.failed";
        String what = plan.direction() + " " + plan.decision() + " of "
                + plan.source().path();
        String title = "custos: rehome " + (ok ? "done" : "failed") + " on " + host;
        String message = ok
                ? "Rehome " + what + " to " + plan.target().path() + " on " + host + " is done: "
                        + plan.siblings().size() + " torrent(s) point at the target, complete after a recheck."
                : "Rehome " + what + " on " + host + " failed: " + error + ". "
                        + (clean
                                ? "Every torrent is back on the source, which is intact."
                                : "The undo did not finish; see custos rehome apply --json and rehome_steps.");
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("event", event);
        doc.put("host", host);
        doc.put("command", "rehome apply");
        doc.put("run_id", run.runId());
        doc.put("rehome_id", rehomeId);
        doc.put("direction", plan.direction());
        doc.put("decision", plan.decision());
        doc.put("payload_hash", plan.payloadHash());
        doc.put("source", plan.source().path());
        doc.put("target", plan.target().path());
        List<String> hashes = new ArrayList<>();
        plan.siblings().forEach(x -> hashes.add(x.hash()));
        doc.put("torrents", hashes);
        doc.put("error", error);
        doc.put("time", Instant.ofEpochMilli(run.now()).toString());
        doc.put("title", title);
        doc.put("message", message);
        new Notifier(targets, log).send(new Notice(event, title, message, doc));
    }

    private static boolean same(String a, String b) {
        return a != null && b != null && Payloads.normal(a).equals(Payloads.normal(b));
    }

    private static CustosException gone(String hash) {
        return CustosException.environment("qBittorrent no longer has torrent " + hash, null);
    }
}
