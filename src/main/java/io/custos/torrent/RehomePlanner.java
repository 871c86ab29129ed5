package io.custos.torrent;

import io.custos.catalog.Catalog;
import io.custos.catalog.PayloadTable;
import io.custos.catalog.RootRow;
import io.custos.config.Config;
import io.custos.config.RootSet;
import io.custos.fs.FileIdentity;
import io.custos.fs.RawPaths;
import io.custos.run.CustosException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code rehome plan} (SPEC §9): decides BLOCK, REUSE or MOVE for a payload and its siblings, from
 * qBittorrent (live), the catalog and the files on disk. {@code --demote} goes from the stash to
 * the pool, {@code --promote} from the pool to the stash and only reuses a copy already there.
 *
 * <p>BLOCK when: the payload hash is missing; the payload is not on the side it leaves; a seeding
 * or library root is not covered by a scan within {@code rehome.max_scan_age_hours}; a file of the
 * payload changed since the scan, or has a hardlink outside the seeding roots (in the catalog, or
 * one the catalog does not know: more links on disk than names in the seeding roots); a moving
 * torrent is incomplete, checking or in error, or its files are not the payload's; another torrent
 * uses files of the payload or of the target; the target exists with other content; the target is
 * in no scanned root; a copy would not fit.
 */
public final class RehomePlanner {
    /** A payload on the side it leaves, its siblings, and what happens to each. */
    record Details(
            String direction,
            Payloads.Instance primary,
            List<Payloads.Instance> sources,
            Payloads.Instance reuse,
            String targetPath,
            Payloads.Kind targetKind,
            List<Move> moves,
            List<View> views,
            boolean sameFilesystem) {}

    /** A sibling that moves: where it is and where it goes. */
    record Move(Torrent torrent, Payloads.Instance source, String targetSave, String targetContent, String action) {}

    /** A view of hardlinks to build for a layout that differs from the target's. */
    record View(String path, Payloads.Kind kind) {}

    /** The plan as written, and what apply needs to carry it out. */
    public record Planned(RehomePlan plan, Details details) {}

    private static final long FREE_MARGIN = 16L << 20;

    private final Config config;
    private final Catalog catalog;
    private final QbClient qb;
    private final Clock clock;
    private final String host;

    public RehomePlanner(Config config, Catalog catalog, QbClient qb, Clock clock, String host) {
        this.config = config;
        this.catalog = catalog;
        this.qb = qb;
        this.clock = clock;
        this.host = host;
    }

    public Planned plan(RehomePlan.Request req) {
        Config.Rehome rc = config.rehome();
        if (rc.stashRoot() == null || rc.poolRoot() == null) {
            throw CustosException.usage("rehome needs rehome.stash_root and rehome.pool_root in the configuration");
        }
        if (rc.seedingRoots().isEmpty()) {
            throw CustosException.usage("rehome needs rehome.seeding_roots in the configuration: the directories"
                    + " torrents seed from (on the stash and on the pool)");
        }
        if (catalog == null) {
            throw CustosException.usage("the catalog is empty: run custos scan first");
        }
        boolean demote = req.direction().equals("demote");
        Payloads.Side from = demote ? Payloads.Side.STASH : Payloads.Side.POOL;
        Payloads.Side to = demote ? Payloads.Side.POOL : Payloads.Side.STASH;
        String fromRoot = Payloads.normal(demote ? rc.stashRoot() : rc.poolRoot());
        String toRoot = Payloads.normal(demote ? rc.poolRoot() : rc.stashRoot());
        Payloads payloads = new Payloads(config, catalog);
        List<Torrent> all = qb.torrents();
        Map<String, Payloads.Instance> of = new HashMap<>();
        for (Torrent t : all) {
            of.put(t.hash(), payloads.at(t.contentPath()));
        }
        Torrent primaryTorrent = primary(req, all, of, payloads, from);
        Payloads.Instance primary = of.get(primaryTorrent.hash());
        List<String> reasons = new ArrayList<>();

        // Siblings: the same payload hash; without one, the torrents of the same files.
        List<Torrent> siblings = new ArrayList<>();
        for (Torrent t : all) {
            Payloads.Instance i = of.get(t.hash());
            boolean same = primary.complete()
                    ? i.complete() && java.util.Arrays.equals(i.hash(), primary.hash())
                    : i.path().equals(primary.path());
            if (same) {
                siblings.add(t);
            }
        }
        // The named torrent first; the rest in qBittorrent's order.
        siblings.sort(java.util.Comparator.comparing((Torrent t) -> !t.hash().equals(primaryTorrent.hash())));
        if (!primary.complete()) {
            reasons.add("the payload hash is missing: " + primary.reason());
        }
        if (payloads.side(primary.path()) != from) {
            reasons.add("the payload " + primary.path() + " is not on the " + from.label() + " (" + fromRoot + ")");
        }
        coverage(payloads, reasons);

        // What moves: every sibling on the side it leaves, and their instances.
        List<Torrent> moving = new ArrayList<>();
        List<Payloads.Instance> sources = new ArrayList<>();
        for (Torrent t : siblings) {
            Payloads.Instance i = of.get(t.hash());
            if (payloads.side(i.path()) == from) {
                moving.add(t);
                if (sources.stream().noneMatch(s -> s.path().equals(i.path()))) {
                    sources.add(i);
                }
            }
        }
        List<String> facts = new ArrayList<>();
        Map<Long, String> rootPaths = rootPaths();
        for (Payloads.Instance s : sources) {
            facts.add("source " + s.path() + " " + s.kind().sql());
            files(s, rootPaths, reasons, facts);
        }
        for (Torrent t : moving) {
            torrentState(t, reasons);
            torrentFiles(t, of.get(t.hash()), reasons);
        }

        // Where it goes.
        String target = primary.complete() && payloads.side(primary.path()) == from
                ? mirror(primary.path(), fromRoot, toRoot)
                : null;
        Payloads.Instance reuse = null;
        String decision;
        if (target == null) {
            decision = RehomePlan.BLOCK;
        } else {
            List<Payloads.Instance> candidates = new ArrayList<>();
            Payloads.Instance atMirror = payloads.at(target);
            if (atMirror.complete() && java.util.Arrays.equals(atMirror.hash(), primary.hash())) {
                candidates.add(atMirror);
            }
            for (Torrent t : siblings) {
                Payloads.Instance i = of.get(t.hash());
                if (payloads.side(i.path()) == to
                        && candidates.stream().noneMatch(c -> c.path().equals(i.path()))) {
                    candidates.add(i);
                }
            }
            if (!candidates.isEmpty()) {
                reuse = candidates.get(0);
                target = reuse.path();
                decision = RehomePlan.REUSE;
            } else if (!demote) {
                decision = RehomePlan.BLOCK;
                reasons.add("--promote only reuses a copy already on the stash, and there is none of this payload"
                        + " (custos makes no blind copies)");
            } else if (exists(target)) {
                decision = RehomePlan.BLOCK;
                reasons.add("the target " + target + " exists but does not hold this payload (or is not cataloged:"
                        + " scan it)");
            } else {
                decision = RehomePlan.MOVE;
            }
            Config.Root tr = payloads.rootOf(target);
            RootRow trow = payloads.row(tr);
            if (tr == null || trow == null || trow.lastScanAt() == null) {
                reasons.add("the target " + target + " is in no scanned root: add the " + to.label()
                        + " to roots and scan it");
            }
        }
        if (reuse != null) {
            facts.add("reuse " + reuse.path());
            for (Payloads.Entry e : reuse.entries()) {
                facts.add("reuse-file " + identity(reuse.file(e.rel())));
            }
        } else if (target != null) {
            facts.add("target " + target + " " + (exists(target) ? "exists" : "absent"));
        }

        // Each moving sibling's place on the other side, and the views that need building.
        List<Move> moves = new ArrayList<>();
        List<View> views = new ArrayList<>();
        Payloads.Kind targetKind = reuse != null ? reuse.kind() : primary.kind();
        for (Torrent t : moving) {
            Payloads.Instance i = of.get(t.hash());
            String save = Payloads.normal(t.savePath());
            if (!Payloads.under(save, fromRoot) || target == null) {
                if (target != null) {
                    reasons.add("torrent " + t.hash() + " saves to " + save + ", outside " + fromRoot);
                }
                continue;
            }
            String ts = mirror(save, fromRoot, toRoot);
            String tc = mirror(i.path(), fromRoot, toRoot);
            String action;
            if (tc.equals(target)) {
                action = decision.equals(RehomePlan.REUSE) ? "reuse" : "move";
            } else if (payloads.at(tc).complete()
                    && java.util.Arrays.equals(payloads.at(tc).hash(), primary.hash())) {
                action = "reuse";
            } else {
                action = "view";
                if (views.stream().noneMatch(v -> v.path().equals(tc))) {
                    if (exists(tc)) {
                        reasons.add("the place for torrent " + t.hash() + "'s layout, " + tc + ", exists already");
                    }
                    views.add(new View(tc, i.kind()));
                    facts.add("view " + tc);
                }
            }
            moves.add(new Move(t, i, ts, tc, action));
            facts.add("torrent " + t.hash() + " " + save + " " + i.path() + " " + action + " " + ts + " " + tc);
        }
        for (Torrent t : siblings) {
            if (!moving.contains(t)) {
                facts.add("stays " + t.hash() + " " + Payloads.normal(t.contentPath()));
            }
        }
        overlaps(all, siblings, sources, target, views, reasons);

        Boolean sameFs = null;
        if (decision.equals(RehomePlan.MOVE)) {
            sameFs = sameFilesystem(primary, target, reasons);
        }
        if (!reasons.isEmpty()) {
            decision = RehomePlan.BLOCK;
        }
        facts.add("decision " + decision);
        facts.add("payload " + primary.hashHex());
        reasons.forEach(r -> facts.add("reason " + r));
        String fingerprint = fingerprint(facts);

        List<RehomePlan.FileFact> fileList = new ArrayList<>();
        HexFormat hex = HexFormat.of();
        for (Payloads.Entry e : primary.entries()) {
            fileList.add(new RehomePlan.FileFact(
                    RawPaths.display(e.rel()),
                    e.row().size(),
                    e.row().sha256() == null ? null : hex.formatHex(e.row().sha256())));
        }
        List<RehomePlan.Sibling> sib = new ArrayList<>();
        for (Torrent t : siblings) {
            Move m = moves.stream().filter(x -> x.torrent() == t).findFirst().orElse(null);
            sib.add(new RehomePlan.Sibling(
                    t.hash(),
                    t.name(),
                    t.state(),
                    t.category(),
                    t.tags(),
                    Payloads.normal(t.savePath()),
                    Payloads.normal(t.contentPath()),
                    payloads.side(t.contentPath()).label(),
                    m == null ? "stays" : m.action(),
                    m == null ? null : m.targetSave(),
                    m == null ? null : m.targetContent()));
        }
        List<String> sourcePaths = new ArrayList<>();
        sources.forEach(s -> sourcePaths.add(s.path()));
        List<RehomePlan.Place> viewPlaces = new ArrayList<>();
        views.forEach(
                v -> viewPlaces.add(new RehomePlan.Place(v.path(), v.kind().sql(), false)));
        RehomePlan plan = new RehomePlan(
                RehomePlan.FORMAT,
                RehomePlan.VERSION,
                clock.instant().toString(),
                host,
                req.direction(),
                decision,
                List.copyOf(reasons),
                req,
                primary.hashHex(),
                Payloads.normal(rc.stashRoot()),
                Payloads.normal(rc.poolRoot()),
                new RehomePlan.Place(primary.path(), primary.kind().sql(), true),
                target == null ? null : new RehomePlan.Place(target, targetKind.sql(), exists(target)),
                sameFs,
                primary.entries().size(),
                primary.bytes(),
                fileList,
                sib,
                sourcePaths,
                viewPlaces,
                fingerprint);
        Details d = new Details(
                req.direction(),
                primary,
                sources,
                reuse,
                target,
                targetKind,
                moves,
                views,
                Boolean.TRUE.equals(sameFs));
        return new Planned(plan, d);
    }

    /** The torrent the plan is about: named, or the first on the leaving side with the payload hash. */
    private Torrent primary(
            RehomePlan.Request req,
            List<Torrent> all,
            Map<String, Payloads.Instance> of,
            Payloads payloads,
            Payloads.Side from) {
        if (req.torrent() != null) {
            String h = req.torrent().strip().toLowerCase(Locale.ROOT);
            List<Torrent> match = all.stream()
                    .filter(t -> t.hash().toLowerCase(Locale.ROOT).startsWith(h))
                    .toList();
            if (h.length() < 6 || match.isEmpty()) {
                throw CustosException.usage("qBittorrent has no torrent " + req.torrent());
            }
            if (match.size() > 1) {
                throw CustosException.usage(req.torrent() + " starts " + match.size() + " torrent hashes: give more");
            }
            return match.get(0);
        }
        String p = req.payload().strip().toLowerCase(Locale.ROOT);
        if (p.length() < 6) {
            throw CustosException.usage("--payload: give at least 6 hex digits of the payload hash");
        }
        List<Torrent> match = all.stream()
                .filter(t -> of.get(t.hash()).complete()
                        && of.get(t.hash()).hashHex().startsWith(p))
                .sorted((a, b) -> {
                    int sa = payloads.side(of.get(a.hash()).path()) == from ? 0 : 1;
                    int sb = payloads.side(of.get(b.hash()).path()) == from ? 0 : 1;
                    if (sa != sb) {
                        return Integer.compare(sa, sb);
                    }
                    int c = of.get(a.hash()).path().compareTo(of.get(b.hash()).path());
                    return c != 0 ? c : a.hash().compareTo(b.hash());
                })
                .toList();
        if (match.isEmpty()) {
            throw CustosException.usage(
                    "no torrent in qBittorrent has a payload " + req.payload() + " (custos payload sync lists them)");
        }
        if (match.stream().map(t -> of.get(t.hash()).hashHex()).distinct().count() > 1) {
            throw CustosException.usage(req.payload() + " starts several payload hashes: give more digits");
        }
        return match.get(0);
    }

    /** Every seeding and library root must lie in a root scanned recently. */
    private void coverage(Payloads payloads, List<String> reasons) {
        long maxAge = TimeUnit.HOURS.toMillis(config.rehome().maxScanAgeHours());
        long now = clock.millis();
        List<String> places = new ArrayList<>();
        config.rehome().seedingRoots().forEach(p -> places.add("seeding root " + p));
        config.rehome().libraryRoots().forEach(p -> places.add("library root " + p));
        for (String place : places) {
            String p = place.substring(place.indexOf(" root ") + 6);
            Config.Root r = payloads.rootOf(p);
            RootRow row = payloads.row(r);
            if (r == null) {
                reasons.add("the " + place + " is in no configured root: custos cannot know its files");
            } else if (row == null || row.lastScanAt() == null) {
                reasons.add("the " + place + " (root " + r.name() + ") has not been scanned");
            } else if (now - row.lastScanAt() > maxAge) {
                reasons.add("the " + place + " (root " + r.name() + ") was last scanned "
                        + Instant.ofEpochMilli(row.lastScanAt()) + ", more than "
                        + config.rehome().maxScanAgeHours()
                        + " hours ago: scan it first");
            }
        }
    }

    /** Catalog root id to its configured path. */
    private Map<Long, String> rootPaths() {
        Map<String, Config.Root> configured = RootSet.resolve(config).roots();
        Map<Long, String> out = new HashMap<>();
        for (RootRow r : catalog.roots().all()) {
            Config.Root c = configured.get(r.name());
            if (c != null) {
                out.put(r.id(), Payloads.normal(c.path()));
            }
        }
        return out;
    }

    /** Each file as on disk now: unchanged since the scan, with no name outside the seeding roots. */
    private void files(Payloads.Instance s, Map<Long, String> rootPaths, List<String> reasons, List<String> facts) {
        List<String> seeding = config.rehome().seedingRoots();
        int external = 0;
        for (Payloads.Entry e : s.entries()) {
            Path file = s.file(e.rel());
            FileIdentity id;
            try {
                id = FileIdentity.of(file);
            } catch (NoSuchFileException x) {
                reasons.add("file " + file + " is missing");
                facts.add("file " + file + " absent");
                continue;
            } catch (IOException x) {
                reasons.add("file " + file + " cannot be read: " + x.getMessage());
                continue;
            }
            facts.add("file " + file + " " + id.size() + " " + id.mtimeNs() + " " + id.device() + " " + id.inode() + " "
                    + id.links());
            PayloadTable.PayloadFile row = e.row();
            if (id.kind() != FileIdentity.Kind.FILE
                    || id.size() != row.size()
                    || id.mtimeNs() != row.mtimeNs()
                    || id.inode() != row.inode()
                    || id.device() != row.device()) {
                reasons.add("file " + file + " changed since the last scan: scan again");
                continue;
            }
            int known = 0;
            boolean outside = false;
            for (PayloadTable.PayloadFile n : catalog.payloads().namesOf(row.device(), row.inode())) {
                String root = rootPaths.get(n.rootId());
                String abs = root == null
                        ? null
                        : RawPaths.resolve(RawPaths.path(root), n.path()).toString();
                boolean inSeeding = abs != null && seeding.stream().anyMatch(sr -> Payloads.under(abs, sr));
                if (inSeeding) {
                    known++;
                } else if (!outside) {
                    outside = true;
                    if (external++ < 5) {
                        String where = abs == null ? "a root no longer configured" : abs;
                        boolean library = abs != null
                                && config.rehome().libraryRoots().stream().anyMatch(lr -> Payloads.under(abs, lr));
                        reasons.add("file " + file + " has a hardlink outside the seeding roots"
                                + (library ? ", in the library" : "") + ": " + where);
                    }
                }
            }
            if (id.links() > known && !outside) {
                reasons.add("file " + file + " has " + id.links() + " links but the catalog knows " + known
                        + " in the seeding roots: another name exists outside them (scan the library roots)");
            }
        }
    }

    private static void torrentState(Torrent t, List<String> reasons) {
        String s = t.state();
        if (t.progress() < 1.0 || t.amountLeft() > 0) {
            reasons.add(String.format(
                    Locale.ROOT, "torrent %s (%s) is not complete (%.1f%%)", t.hash(), t.name(), t.progress() * 100));
        } else if (t.busy() || s.equals("error") || s.equals("missingFiles") || s.equals("unknown")) {
            reasons.add("torrent " + t.hash() + " (" + t.name() + ") is " + s + ": try again when it seeds");
        }
    }

    /** Every wanted file of the torrent must be a file of the payload, of the same size. */
    private void torrentFiles(Torrent t, Payloads.Instance i, List<String> reasons) {
        if (!i.complete()) {
            return;
        }
        Map<String, Long> sizes = new HashMap<>();
        for (Payloads.Entry e : i.entries()) {
            sizes.put(i.file(e.rel()).toString(), e.row().size());
        }
        for (TorrentFile f : qb.files(t.hash())) {
            if (f.priority() == 0) {
                continue;
            }
            String abs = Payloads.normal(
                    RawPaths.path(t.savePath()).resolve(f.name()).toString());
            Long size = sizes.get(abs);
            if (size == null || size != f.size()) {
                reasons.add("torrent " + t.hash() + " (" + t.name() + ") has a file " + f.name()
                        + " that is not in the payload with its size");
                return;
            }
        }
    }

    /** Another torrent using files of what moves, or of the target, would lose them. */
    private static void overlaps(
            List<Torrent> all,
            List<Torrent> siblings,
            List<Payloads.Instance> sources,
            String target,
            List<View> views,
            List<String> reasons) {
        List<String> places = new ArrayList<>();
        sources.forEach(s -> places.add(s.path()));
        if (target != null) {
            places.add(target);
        }
        views.forEach(v -> places.add(v.path()));
        for (Torrent t : all) {
            if (siblings.contains(t)) {
                continue;
            }
            String c = Payloads.normal(t.contentPath());
            for (String p : places) {
                if (Payloads.under(c, p) || Payloads.under(p, c)) {
                    reasons.add("torrent " + t.hash() + " (" + t.name() + ") uses " + c + ", which overlaps " + p);
                    break;
                }
            }
        }
    }

    /** Whether a move is a rename on one filesystem; across filesystems, whether the copy fits. */
    private Boolean sameFilesystem(Payloads.Instance primary, String target, List<String> reasons) {
        try {
            Path existing = RawPaths.path(target);
            while (existing != null && !Files.exists(existing)) {
                existing = existing.getParent();
            }
            if (existing == null || primary.entries().isEmpty()) {
                return null;
            }
            long targetDevice = FileIdentity.of(existing).device();
            long sourceDevice = primary.entries().get(0).row().device();
            if (targetDevice == sourceDevice) {
                return true;
            }
            long free = Files.getFileStore(existing).getUsableSpace();
            if (free < primary.bytes() + FREE_MARGIN) {
                reasons.add("the target's filesystem has " + free + " bytes free; the payload needs " + primary.bytes()
                        + " and a margin of " + FREE_MARGIN);
            }
            return false;
        } catch (IOException e) {
            reasons.add("cannot inspect the target's filesystem: " + e.getMessage());
            return null;
        }
    }

    /** {@code path} under {@code from}, mirrored under {@code to}. */
    static String mirror(String path, String from, String to) {
        Path rel = RawPaths.path(from).relativize(RawPaths.path(Payloads.normal(path)));
        return Payloads.normal(
                RawPaths.resolve(RawPaths.path(to), RawPaths.bytes(rel)).toString());
    }

    private static boolean exists(String path) {
        return Files.exists(RawPaths.path(path), java.nio.file.LinkOption.NOFOLLOW_LINKS);
    }

    private static String identity(Path p) {
        try {
            FileIdentity id = FileIdentity.of(p);
            return p + " " + id.size() + " " + id.mtimeNs() + " " + id.device() + " " + id.inode();
        } catch (IOException e) {
            return p + " unreadable";
        }
    }

    static String fingerprint(List<String> facts) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (String f : facts) {
                md.update(f.getBytes(StandardCharsets.UTF_8));
                md.update((byte) '\n');
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
