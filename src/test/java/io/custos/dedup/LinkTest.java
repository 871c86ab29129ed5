package io.custos.dedup;

import static io.custos.testing.Harness.bytes;
import static io.custos.testing.Harness.write;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.custos.fs.FileIdentity;
import io.custos.testing.Harness;
import io.custos.testing.Harness.Result;
import io.custos.testing.Requirements;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** custos link: duplicate groups from the catalog, stored plans, safe hardlinking (SPEC §8). */
class LinkTest {
    @TempDir
    Path tmp;

    Harness h;
    Path media;
    Path stash;
    Path mount;

    @BeforeEach
    void setUp() {
        h = new Harness(tmp);
        media = root("media");
        stash = root("stash");
    }

    @AfterEach
    void unmount() {
        if (mount != null) {
            try {
                Harness.sh("umount", mount.toString());
            } catch (AssertionError e) {
                // not mounted
            }
        }
    }

    /** A root without parity: link works on the catalog alone. */
    private Path root(String name) {
        Path p = h.root(name);
        ArrayNode roots = (ArrayNode) h.config().get("roots");
        ((ObjectNode) roots.get(roots.size() - 1)).put("parity", false);
        return p;
    }

    private static long inode(Path p) throws IOException {
        return FileIdentity.of(p).inode();
    }

    /** Kilobytes in use under both directories, a hardlinked inode counted once. */
    private static long du(Path a, Path b) {
        String[] lines =
                Harness.sh("du", "-skc", a.toString(), b.toString()).trim().split("\n");
        return Long.parseLong(lines[lines.length - 1].split("\\s+")[0]);
    }

    private long planId(Result plan) {
        assertThat(plan.exit()).as(plan.toString()).isZero();
        return plan.json().get("plan_id").asLong();
    }

    @Test
    void twoGroupsAndAUniqueFileGiveTwoGroupsWithTheirSavings() {
        // given: a 3-copy group, a 2-copy group and a unique file
        byte[] movie = bytes(300_000, 1);
        byte[] song = bytes(50_000, 2);
        write(media.resolve("movies/m.mkv"), movie);
        write(stash.resolve("t1/m.mkv"), movie);
        write(stash.resolve("t2/m.mkv"), movie);
        write(media.resolve("music/s.flac"), song);
        write(stash.resolve("t3/s.flac"), song);
        write(stash.resolve("unique.bin"), bytes(70_000, 3));
        assertThat(h.scan().exit()).isZero();
        // when
        Result r = h.run("--json", "link", "analyze");
        // then: largest first, (inodes - 1) x size
        assertThat(r.exit()).as(r.toString()).isZero();
        JsonNode groups = r.json().get("groups");
        assertThat(groups).hasSize(2);
        assertThat(groups.get(0).get("size").asLong()).isEqualTo(300_000);
        assertThat(groups.get(0).get("reclaimable_bytes").asLong()).isEqualTo(600_000);
        assertThat(groups.get(0).get("files")).hasSize(3);
        assertThat(groups.get(1).get("reclaimable_bytes").asLong()).isEqualTo(50_000);
        assertThat(groups.get(0).get("sha256").asText()).isEqualTo(Harness.sha256Hex(movie));
        assertThat(r.stat("groups")).isEqualTo(2);
        assertThat(r.stat("files")).isEqualTo(5);
        assertThat(r.stat("reclaimable_bytes")).isEqualTo(650_000);
        // and --root limits the search to one root's files
        Result onlyStash = h.run("--json", "link", "analyze", "--root", "stash");
        assertThat(onlyStash.stat("groups")).isEqualTo(1);
        assertThat(onlyStash.stat("reclaimable_bytes")).isEqualTo(300_000);
        // and the text output names the kept file
        Result text = h.run("link", "analyze");
        assertThat(text.out()).contains("2 duplicate groups, 5 files").contains("keep ");
    }

    @Test
    void minSizeLeavesSmallFilesOut() {
        write(media.resolve("big.bin"), bytes(200_000, 1));
        write(stash.resolve("big.bin"), bytes(200_000, 1));
        write(media.resolve("small.txt"), bytes(1_000, 2));
        write(stash.resolve("small.txt"), bytes(1_000, 2));
        assertThat(h.scan().exit()).isZero();
        assertThat(h.run("--json", "link", "analyze").stat("groups")).isEqualTo(2);
        assertThat(h.run("--json", "link", "analyze", "--min-size", "100K").stat("groups"))
                .isEqualTo(1);
        // the configured default applies when the flag is absent
        h.section("link").put("min_size", 1_001);
        Result r = h.run("--json", "link", "plan");
        assertThat(r.json().get("plan").get("actions").asLong()).isEqualTo(1);
        assertThat(h.run("--json", "link", "analyze", "--min-size", "0").exit()).isEqualTo(2);
    }

    @Test
    void keptFileIsTheLowestInodeThenTheShortestThenTheFirstPath() throws IOException {
        // given: four copies; the lowest inode has two names of equal length
        byte[] c = bytes(20_000, 5);
        Path[] copies = {
            write(stash.resolve("zz/copy1"), c), write(stash.resolve("a/copy22"), c), write(stash.resolve("b/c3"), c)
        };
        Path lowest = copies[0];
        for (Path p : copies) {
            if (inode(p) < inode(lowest)) {
                lowest = p;
            }
        }
        // two more names of the lowest inode: one as short as can be, in two spellings
        Files.createLink(stash.resolve("y"), lowest);
        Files.createLink(stash.resolve("x"), lowest);
        assertThat(h.scan().exit()).isZero();
        // when
        JsonNode g = h.run("--json", "link", "analyze").json().get("groups").get(0);
        // then: lowest inode, then the shortest path, then alphabetical
        assertThat(g.get("files").get(0).get("path").asText()).isEqualTo("x");
        assertThat(g.get("files").get(0).get("inode").asLong()).isEqualTo(inode(lowest));
        assertThat(g.get("inodes").asInt()).isEqualTo(3);
        // and the plan has one action per path on another inode, none for the kept inode's names
        Result plan = h.run("--json", "link", "plan");
        assertThat(plan.json().get("plan").get("actions").asLong()).isEqualTo(2);
        JsonNode shown = h.run("--json", "link", "show-plan", "" + planId(plan)).json();
        for (JsonNode a : shown.get("actions")) {
            assertThat(a.get("keep").get("path").asText()).isEqualTo("x");
            assertThat(a.get("status").asText()).isEqualTo("pending");
        }
    }

    @Test
    void planThenExecuteLinksEveryDuplicateAndFreesTheBytes() throws IOException {
        // given: 3 copies of one content, 2 of another (one of them already hardlinked twice)
        byte[] movie = bytes(2_000_000, 7);
        byte[] song = bytes(400_000, 8);
        Path m1 = write(media.resolve("movies/m.mkv"), movie);
        Path m2 = write(stash.resolve("t1/m.mkv"), movie);
        Path m3 = write(stash.resolve("t2/m.mkv"), movie);
        Path s1 = write(media.resolve("music/s.flac"), song);
        Path s2 = write(stash.resolve("t3/s.flac"), song);
        Path s3 = stash.resolve("t4/s.flac");
        Files.createDirectories(s3.getParent());
        Files.createLink(s3, s2);
        assertThat(h.scan().exit()).isZero();
        long before = du(media, stash);
        // when
        long id = planId(h.run("--json", "link", "plan", "--name", "first"));
        Result r = h.run("--json", "link", "execute", "" + id);
        // then: one inode per content, and the bytes of the extra copies are free
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("links_made")).isEqualTo(4);
        assertThat(r.stat("bytes_reclaimed")).isEqualTo(2L * movie.length + song.length);
        Set<Long> movieInodes = new HashSet<>(List.of(inode(m1), inode(m2), inode(m3)));
        Set<Long> songInodes = new HashSet<>(List.of(inode(s1), inode(s2), inode(s3)));
        assertThat(movieInodes).hasSize(1);
        assertThat(songInodes).hasSize(1);
        for (Path p : List.of(m1, m2, m3)) {
            assertThat(Harness.sha256Hex(Files.readAllBytes(p))).isEqualTo(Harness.sha256Hex(movie));
        }
        long after = du(media, stash);
        assertThat(before - after).isGreaterThanOrEqualTo((2L * movie.length + song.length) / 1024 - 64);
        assertThat(r.json().get("plan").get("status").asText()).isEqualTo("completed");
        // and the catalog knows the new inodes: the next scan finds nothing changed, nothing to link
        assertThat(h.queryLong("SELECT COUNT(DISTINCT inode) FROM files WHERE status = 'ok'"))
                .isEqualTo(2);
        assertThat(h.queryLong("SELECT COUNT(*) FROM events WHERE type = 'linked'"))
                .isEqualTo(4);
        Result scan = h.scan();
        assertThat(scan.stat("files_unchanged")).isEqualTo(6);
        assertThat(scan.stat("files_modified") + scan.stat("files_touched") + scan.stat("files_new"))
                .isZero();
        assertThat(h.run("--json", "link", "analyze").stat("groups")).isZero();
        assertThat(Harness.files(stash).stream().map(p -> p.getFileName().toString()))
                .noneMatch(n -> n.startsWith(".custos-link-"));
        // and history tells where each path was linked to
        Result history = h.run("--json", "history", "stash/t1/m.mkv");
        assertThat(history.out()).contains("linked").contains("media/movies/m.mkv");
    }

    @Test
    void rerunningACompletedPlanDoesNothing() throws IOException {
        byte[] c = bytes(30_000, 9);
        Path a = write(media.resolve("a.bin"), c);
        Path b = write(stash.resolve("b.bin"), c);
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        assertThat(h.run("--json", "link", "execute", "" + id).stat("links_made"))
                .isEqualTo(1);
        long linked = inode(b);
        // someone replaces b with a copy again; a completed plan does not touch it
        Files.delete(b);
        write(b, c);
        Result again = h.run("--json", "link", "execute", "" + id);
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(again.stat("links_made")).isZero();
        assertThat(again.json().get("actions")).isEmpty();
        assertThat(inode(b)).isNotEqualTo(linked).isNotEqualTo(inode(a));
    }

    @Test
    void aFileModifiedAfterPlanningIsSkippedNotLinked() throws IOException {
        byte[] c = bytes(40_000, 10);
        write(media.resolve("a.bin"), c);
        Path b = write(stash.resolve("b.bin"), c);
        Path d = write(stash.resolve("d.bin"), c);
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        // when: b gets new content after planning
        byte[] changed = bytes(40_000, 11);
        write(b, changed);
        long bInode = inode(b);
        Result r = h.run("--json", "link", "execute", "" + id);
        // then: b is left alone with its new content; d is linked
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("actions_skipped")).isEqualTo(1);
        assertThat(r.stat("links_made")).isEqualTo(1);
        assertThat(inode(b)).isEqualTo(bInode);
        assertThat(Files.readAllBytes(b)).isEqualTo(changed);
        assertThat(inode(d)).isEqualTo(inode(media.resolve("a.bin")));
        JsonNode shown = h.run("--json", "link", "show-plan", "" + id).json();
        List<String> reasons = new ArrayList<>();
        shown.get("actions")
                .forEach(a -> reasons.add(
                        a.get("status").asText() + ": " + a.get("reason").asText()));
        assertThat(reasons).contains("skipped: modified since planning");
        assertThat(shown.get("plan").get("status").asText()).isEqualTo("completed");
    }

    @Test
    void sameSizeAndPrefixButOtherContentIsNeverLinked() throws IOException {
        // given: same size, same first 64 KiB, a different last byte
        byte[] a = bytes(100_000, 12);
        byte[] b = a.clone();
        b[b.length - 1] ^= 1;
        write(media.resolve("a.bin"), a);
        write(stash.resolve("b.bin"), b);
        assertThat(h.scan().exit()).isZero();
        // then: not a group
        assertThat(h.run("--json", "link", "analyze").stat("groups")).isZero();
        // given: equal when cataloged, then one changed without a new mtime (the catalog cannot know)
        byte[] c = bytes(100_000, 13);
        Path c1 = write(media.resolve("c.bin"), c);
        Path c2 = write(stash.resolve("c.bin"), c);
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        java.nio.file.attribute.FileTime t = Harness.mtime(c2);
        byte[] rot = c.clone();
        rot[99_999] ^= 1;
        write(c2, rot);
        Harness.mtime(c2, t);
        for (String verify : List.of("full", "fast")) {
            // when
            Result r = h.run("--json", "link", "execute", "" + id, "--verify", verify);
            // then: the bytes differ, nothing is linked, exit 1 with the reason
            assertThat(r.exit()).as(r.toString()).isEqualTo(1);
            assertThat(r.stat("actions_failed")).isEqualTo(1);
            assertThat(r.json().get("problems").get(0).get("message").asText()).contains("verify");
            assertThat(inode(c1)).isNotEqualTo(inode(c2));
            assertThat(Files.readAllBytes(c2)).isEqualTo(rot);
            assertThat(h.run("--json", "link", "show-plan", "" + id)
                            .json()
                            .get("plan")
                            .get("status")
                            .asText())
                    .isEqualTo("failed");
        }
    }

    @Test
    void otherModeOrOwnerIsSkipped() throws IOException {
        byte[] c = bytes(30_000, 14);
        write(media.resolve("a.bin"), c);
        Path b = write(stash.resolve("b.bin"), c);
        Path d = write(stash.resolve("d.bin"), c);
        Files.setPosixFilePermissions(media.resolve("a.bin"), PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(b, PosixFilePermissions.fromString("rw-------"));
        Files.setPosixFilePermissions(d, PosixFilePermissions.fromString("rw-r--r--"));
        boolean chown = Harness.root();
        if (chown) {
            Harness.sh("chown", "65534:65534", d.toString());
        }
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        Result r = h.run("--json", "link", "execute", "" + id);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("actions_skipped")).isEqualTo(chown ? 2 : 1);
        assertThat(inode(b)).isNotEqualTo(inode(media.resolve("a.bin")));
        for (JsonNode a : r.json().get("actions")) {
            if (a.get("status").asText().equals("skipped")) {
                assertThat(a.get("reason").asText()).startsWith("different owner, group or mode");
            }
        }
        if (chown) {
            assertThat(inode(d)).isNotEqualTo(inode(media.resolve("a.bin")));
        }
    }

    @Test
    void filesOnTwoFilesystemsAreReportedCrossDeviceAndNeverLinked() throws IOException {
        Requirements.root("mounts a tmpfs");
        mount = tmp.resolve("usb");
        Files.createDirectories(mount);
        Harness.sh("mount", "-t", "tmpfs", "-o", "size=8m", "custos-test", mount.toString());
        ((ArrayNode) h.config().get("roots"))
                .addObject()
                .put("name", "usb")
                .put("path", mount.toString())
                .put("parity", false);
        byte[] c = bytes(500_000, 15);
        Path onDisk = write(media.resolve("a.bin"), c);
        Path onUsb = write(mount.resolve("a.bin"), c);
        assertThat(h.scan().exit()).isZero();
        // when
        Result r = h.run("--json", "link", "analyze", "--cross-device");
        // then
        assertThat(r.stat("groups")).isZero();
        assertThat(r.stat("cross_device_groups")).isEqualTo(1);
        JsonNode x = r.json().get("cross_device").get(0);
        assertThat(x.get("devices")).hasSize(2);
        assertThat(x.get("files")).hasSize(2);
        Result plan = h.run("--json", "link", "plan");
        assertThat(plan.json().get("plan").get("actions").asLong()).isZero();
        assertThat(FileIdentity.of(onDisk).device())
                .isNotEqualTo(FileIdentity.of(onUsb).device());
        // and a plan made when both were on one device skips a file that is on another one now
        Path local = write(stash.resolve("a.bin"), c);
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        Files.delete(local);
        Files.createSymbolicLink(local, onUsb);
        Result e = h.run("--json", "link", "execute", "" + id);
        assertThat(e.stat("links_made")).isZero();
        assertThat(Files.isSymbolicLink(local)).isTrue();
    }

    @Test
    void dryRunChangesNoInode() throws IOException {
        byte[] c = bytes(30_000, 16);
        Path a = write(media.resolve("a.bin"), c);
        Path b = write(stash.resolve("b.bin"), c);
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        long ia = inode(a);
        long ib = inode(b);
        long events = h.queryLong("SELECT COUNT(*) FROM events");
        long runs = h.queryLong("SELECT COUNT(*) FROM runs");
        // when
        Result r = h.run("--json", "link", "execute", "" + id, "--dry-run");
        // then
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.json().get("would_link").asLong()).isEqualTo(1);
        assertThat(r.json().get("actions").get(0).get("status").asText()).isEqualTo("would_link");
        assertThat(inode(a)).isEqualTo(ia);
        assertThat(inode(b)).isEqualTo(ib);
        assertThat(h.queryLong("SELECT COUNT(*) FROM events")).isEqualTo(events);
        assertThat(h.queryLong("SELECT COUNT(*) FROM runs")).isEqualTo(runs);
        assertThat(h.queryString("SELECT status FROM link_plans WHERE id = " + id))
                .isEqualTo("pending");
        assertThat(h.queryString("SELECT status FROM link_actions WHERE plan_id = " + id))
                .isEqualTo("pending");
    }

    @Test
    void aFailedRenameLeavesTheDuplicateAsItWasAndTheRetryLinksIt() throws IOException {
        Requirements.root("chattr +i needs root");
        byte[] c = bytes(60_000, 17);
        Path a = write(media.resolve("a.bin"), c);
        Path b = write(stash.resolve("b.bin"), c);
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        long ib = inode(b);
        // when: the duplicate cannot be replaced (the link is made, the rename over it fails)
        Harness.sh("chattr", "+i", b.toString());
        Result r;
        try {
            r = h.run("--json", "link", "execute", "" + id);
        } finally {
            Harness.sh("chattr", "-i", b.toString());
        }
        // then: exit 1, the duplicate untouched, no temp link left, the plan says why
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.stat("actions_failed")).isEqualTo(1);
        assertThat(inode(b)).isEqualTo(ib);
        assertThat(Files.readAllBytes(b)).isEqualTo(c);
        assertThat(Harness.files(stash)).containsExactly(b);
        JsonNode shown = h.run("--json", "link", "show-plan", "" + id).json();
        assertThat(shown.get("plan").get("status").asText()).isEqualTo("failed");
        assertThat(shown.get("actions").get(0).get("reason").asText()).startsWith("cannot link");
        // when the cause is gone, executing the failed plan again retries its failed action
        Result again = h.run("--json", "link", "execute", "" + id);
        assertThat(again.exit()).as(again.toString()).isZero();
        assertThat(inode(b)).isEqualTo(inode(a));
    }

    @Test
    void aCrashBetweenLinkAndRenameLeavesTheDuplicateAndTheNextRunFinishes() throws IOException {
        byte[] c = bytes(60_000, 18);
        Path a = write(media.resolve("a.bin"), c);
        Path b = write(stash.resolve("b.bin"), c);
        Path d = write(stash.resolve("d.bin"), c);
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        long ib = inode(b);
        // when: the process dies right after the first temp link is made (simulated: an Error
        // that no code path catches, the way a kill leaves things)
        Throwable crash = LinkRuns.executeWithCrash(h, id);
        assertThat(crash).isInstanceOf(LinkRuns.Crash.class);
        // then: both duplicates are present with their content; the temp link is beside b
        assertThat(inode(b)).isEqualTo(ib);
        assertThat(Files.readAllBytes(b)).isEqualTo(c);
        assertThat(Files.readAllBytes(d)).isEqualTo(c);
        assertThat(Harness.files(stash).stream().map(p -> p.getFileName().toString()))
                .anyMatch(n -> n.startsWith(".custos-link-"));
        assertThat(h.queryString("SELECT status FROM link_plans WHERE id = " + id))
                .isEqualTo("in_progress");
        // and a scan meanwhile does not catalog the temp link
        assertThat(h.scan().stat("files_new")).isZero();
        // when: the next run
        Result r = h.run("--json", "link", "execute", "" + id);
        // then: it goes on, links both, leaves no temp link
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.stat("links_made")).isEqualTo(2);
        assertThat(inode(b)).isEqualTo(inode(a));
        assertThat(inode(d)).isEqualTo(inode(a));
        assertThat(Harness.files(stash)).containsExactlyInAnyOrder(b, d);
    }

    @Test
    void aTempLinkLeftByACrashIsRemovedAlsoWhenItsActionIsSkipped() throws IOException {
        byte[] c = bytes(20_000, 20);
        write(media.resolve("a.bin"), c);
        Path b = write(stash.resolve("b.bin"), c);
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        assertThat(LinkRuns.executeWithCrash(h, id)).isInstanceOf(LinkRuns.Crash.class);
        // when: the duplicate changes before the next run, so its action is skipped
        byte[] changed = bytes(20_000, 21);
        write(b, changed);
        Result r = h.run("--json", "link", "execute", "" + id);
        // then: skipped, the new content kept, and no temp link left beside it
        assertThat(r.stat("actions_skipped")).isEqualTo(1);
        assertThat(Files.readAllBytes(b)).isEqualTo(changed);
        assertThat(Harness.files(stash)).containsExactly(b);
    }

    @Test
    void anInterruptedPlanResumesWhereItStopped() throws IOException {
        byte[] c = bytes(10_000, 19);
        write(media.resolve("a.bin"), c);
        for (int i = 0; i < 5; i++) {
            write(stash.resolve("copy" + i), c);
        }
        assertThat(h.scan().exit()).isZero();
        long id = planId(h.run("--json", "link", "plan"));
        // when: two actions per run
        Result first = h.run("--json", "link", "execute", "" + id, "--limit", "2", "--verify", "fast");
        // then
        assertThat(first.stat("links_made")).isEqualTo(2);
        assertThat(first.json().get("plan").get("status").asText()).isEqualTo("in_progress");
        Result rest = h.run("--json", "link", "execute", "" + id, "--verify", "fast");
        assertThat(rest.stat("links_made")).isEqualTo(3);
        assertThat(rest.json().get("plan").get("status").asText()).isEqualTo("completed");
        assertThat(rest.json().get("plan").get("action_status").get("done").asLong())
                .isEqualTo(5);
        assertThat(h.queryLong("SELECT COUNT(DISTINCT inode) FROM files WHERE status = 'ok'"))
                .isEqualTo(1);
    }

    @Test
    void anEmptyCatalogIsToldToScanFirst() {
        Result r = h.run("--json", "link", "analyze");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("run custos scan first");
        Result p = h.run("--json", "link", "plan");
        assertThat(p.exit()).isEqualTo(2);
        assertThat(p.err()).contains("run custos scan first");
        Result missing = h.run("--json", "link", "show-plan", "42");
        assertThat(missing.exit()).isEqualTo(2);
        // a root that was never scanned gets a warning naming it
        write(media.resolve("a.bin"), bytes(1000, 1));
        assertThat(h.scan("media").exit()).isZero();
        Result w = h.run("--json", "link", "analyze");
        assertThat(w.exit()).isZero();
        assertThat(w.json().get("warnings").get(0).asText()).contains("stash").contains("scan");
        assertThat(h.run("--json", "link", "list").json().get("plans")).isEmpty();
    }
}
