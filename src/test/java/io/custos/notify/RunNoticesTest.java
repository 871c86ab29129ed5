package io.custos.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.custos.run.ExitCode;
import io.custos.run.Problem;
import io.custos.run.RunSummary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunNoticesTest {
    static RunSummary summary(String command, ExitCode code, Problem... problems) {
        Map<String, Long> stats = new LinkedHashMap<>();
        stats.put("files_scanned", 1200L);
        stats.put("files_new", 3L);
        stats.put("files_damaged", 0L);
        return new RunSummary(command, Instant.parse("2026-01-01T03:00:00Z"))
                .runId(12L)
                .exitCode(code)
                .stats(stats)
                .problems(List.of(problems))
                .finishedAt(Instant.parse("2026-01-01T03:10:00Z"));
    }

    static List<String> events(List<Notice> ns) {
        return ns.stream().map(Notice::event).toList();
    }

    static Notice only(List<Notice> ns, String event) {
        List<Notice> match = ns.stream().filter(n -> n.event().equals(event)).toList();
        assertThat(match).as("notices of %s in %s", event, ns).hasSize(1);
        return match.get(0);
    }

    @Test
    void aCleanRunSendsOnlyRunCompleted() {
        List<Notice> ns = RunNotices.of(summary("scan", ExitCode.OK), "nas1", List.of());

        assertThat(events(ns)).containsExactly("run.completed");
        Notice n = ns.get(0);
        assertThat(n.title()).isEqualTo("custos: scan ok on nas1");
        assertThat(n.message()).contains("scan finished on nas1 (run 12)").contains("1200 files scanned, 3 new");
        assertThat(n.message()).doesNotContain("damaged");
        assertThat(n.document().get("exit_code")).isEqualTo(0);
        assertThat(n.document().get("time")).isEqualTo("2026-01-01T03:10:00Z");
        assertThat(n.document().get("problems")).isEqualTo(List.of());
    }

    @Test
    void damagedAndTruncatedFilesMakeOneFileDamagedNoticeListingThem() {
        RunSummary s = summary(
                "verify",
                ExitCode.PROBLEMS,
                new Problem("photos", "2019/img1.jpg", "damaged", "content differs from the recorded hash"),
                new Problem("photos", "2019/img2.jpg", "damaged", "content differs from the recorded hash"),
                new Problem("photos", "2020/clip.mp4", "truncated", "the file is now empty"),
                new Problem("photos", "locked.jpg", "unreadable", "cannot read: permission denied"));

        List<Notice> ns = RunNotices.of(s, "nas1", List.of());

        assertThat(events(ns)).containsExactly("run.completed", "file.damaged");
        Notice d = only(ns, "file.damaged");
        assertThat(d.message())
                .isEqualTo("2 files damaged and 1 truncated on nas1 (photos): 2019/img1.jpg, 2019/img2.jpg,"
                        + " 2020/clip.mp4. Run: custos repair");
        assertThat(d.title()).isEqualTo("custos: 2 files damaged and 1 truncated on nas1");
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> problems =
                (List<Map<String, Object>>) d.document().get("problems");
        assertThat(problems)
                .extracting(p -> p.get("path"))
                .containsExactly("2019/img1.jpg", "2019/img2.jpg", "2020/clip.mp4");
        Notice run = only(ns, "run.completed");
        assertThat(run.title()).isEqualTo("custos: verify found problems on nas1");
        assertThat(run.message())
                .contains("with problems: 2 damaged, 1 truncated, 1 unreadable.")
                .contains("photos/2019/img1.jpg: content differs from the recorded hash.")
                .contains("(and 1 more) Run: custos repair")
                .endsWith("1200 files scanned, 3 new.");
    }

    @Test
    void manyDamagedFilesAreCappedWithAndMore() {
        List<Problem> ps = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            ps.add(new Problem(i % 2 == 0 ? "photos" : "music", "f" + i, "damaged", "differs"));
        }
        RunSummary s = summary("scan", ExitCode.PROBLEMS, ps.toArray(new Problem[0]));

        Notice d = only(RunNotices.of(s, "nas1", List.of()), "file.damaged");

        assertThat(d.message()).startsWith("25 files damaged on nas1: photos/f0, music/f1, ");
        assertThat(d.message()).contains("photos/f18, music/f19 and 5 more. Run: custos repair");
        assertThat(d.message()).doesNotContain("f20");
    }

    @Test
    void repairedFilesMakeAFileRepairedNotice() {
        List<Notice> ns =
                RunNotices.of(summary("repair", ExitCode.OK), "nas1", List.of("photos/a.jpg", "photos/b.jpg"));

        assertThat(events(ns)).containsExactly("run.completed", "file.repaired");
        Notice r = only(ns, "file.repaired");
        assertThat(r.message()).startsWith("2 files repaired on nas1: photos/a.jpg, photos/b.jpg.");
        assertThat(r.document().get("repaired")).isEqualTo(List.of("photos/a.jpg", "photos/b.jpg"));
    }

    @Test
    void exitFourTripsTheGuardAndALargeChangeIsReportedToo() {
        RunSummary s = summary(
                "scan",
                ExitCode.GUARD,
                new Problem(
                        "photos",
                        null,
                        "large_change",
                        "600 deleted and 0 modified of 1000 files exceed guard.max_deleted_percent (25%); none of"
                                + " these changes was applied. If they are intended, run: custos scan"
                                + " --accept-changes photos"),
                new Problem("music", null, "root_unavailable", "/data/music does not exist (is the disk mounted?)"));

        List<Notice> ns = RunNotices.of(s, "nas1", List.of());

        assertThat(events(ns)).containsExactly("run.completed", "large_change", "guard.tripped");
        Notice g = only(ns, "guard.tripped");
        assertThat(g.title()).isEqualTo("custos: safety guard tripped on nas1");
        assertThat(g.message())
                .contains("photos: 600 deleted")
                .contains("--accept-changes photos")
                .contains("music: /data/music does not exist");
        Notice l = only(ns, "large_change");
        assertThat(l.title()).isEqualTo("custos: large change held back on nas1 (photos)");
        assertThat(l.message()).doesNotContain("music");
        Notice run = only(ns, "run.completed");
        assertThat(run.message())
                .contains("a safety guard held back changes; the rest was done.")
                .contains("photos: 600 deleted")
                .contains("music: /data/music does not exist");
        assertThat(Notifier.alarming(run)).isTrue();
    }

    @Test
    void anErrorMakesRunFailed() {
        RunSummary s =
                summary("scan", ExitCode.ENVIRONMENT).error("par2 not found: install par2 or set parity.par2_binary");

        List<Notice> ns = RunNotices.of(s, "nas1", List.of());

        assertThat(events(ns)).containsExactly("run.failed");
        assertThat(ns.get(0).title()).isEqualTo("custos: scan failed on nas1");
        assertThat(ns.get(0).message())
                .isEqualTo("scan failed on nas1 (run 12) (exit 5): par2 not found: install par2 or set"
                        + " parity.par2_binary.");
        assertThat(ns.get(0).document().get("error"))
                .isEqualTo("par2 not found: install par2 or set parity.par2_binary");
    }

    @Test
    void anErrorWithExitOneIsAFailureToo() {
        RunSummary s = summary("verify", ExitCode.PROBLEMS).error("internal error: boom");

        assertThat(events(RunNotices.of(s, "nas1", null))).containsExactly("run.failed");
    }

    @Test
    void lockedAndInterruptedRunsAreFailures() {
        Notice locked = RunNotices.of(summary("scan", ExitCode.LOCKED).runId(null), "nas1", List.of())
                .get(0);
        Notice interrupted = RunNotices.of(summary("scan", ExitCode.INTERRUPTED), "nas1", List.of())
                .get(0);

        assertThat(locked.event()).isEqualTo("run.failed");
        assertThat(locked.message()).contains("did not run (exit 3)").contains("Nothing was done.");
        assertThat(interrupted.event()).isEqualTo("run.failed");
        assertThat(interrupted.message()).contains("interrupted").contains("next run continues");
    }
}
