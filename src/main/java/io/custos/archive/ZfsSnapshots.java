package io.custos.archive;

import io.custos.run.Log;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The ZFS snapshots of one zip job (SPEC §7): each run makes {@code <dataset>@<prefix>-<UTC
 * yyyyMMddHHmmss>}, reads the source from it, and keeps the newest {@code retention} of them.
 *
 * <p>A snapshot is custos's when its short name is exactly {@code <prefix>-} and 14 digits; no
 * other snapshot of the dataset (a manual one, one of another prefix or of a periodic task) is
 * ever destroyed. Likewise the only clones destroyed are {@code <pool>/custos-zip-<job>-<14
 * digits>} whose origin is one of this job's snapshots.
 *
 * <p>Two runs within one second would want the same name: the later one takes the next second
 * that is free instead (it does not wait), so every name keeps the form that {@link #prune}
 * recognises.
 */
public final class ZfsSnapshots {
    private static final DateTimeFormatter STAMP =
            DateTimeFormatter.ofPattern("yyyyMMddHHmmss").withZone(ZoneOffset.UTC);
    /** Characters ZFS accepts in a snapshot or dataset name component. */
    private static final Pattern NAME_CHARS = Pattern.compile("[A-Za-z0-9_.:-]+");
    /** How many names are tried when another process takes the chosen one first. */
    private static final int NAME_ATTEMPTS = 5;

    private final Zfs zfs;
    private final String job;
    private final Zfs.Dataset dataset;
    private final Path source;
    private final String prefix;
    private final int retention;
    private final Clock clock;
    private final Log log;
    private final Pattern ours;
    private final Pattern ourClones;
    private Zfs.Snapshot current;

    /**
     * @param dataset the dataset that holds {@code source} ({@link Zfs#datasetOf})
     * @param source the job's {@code source_path}
     * @param prefix {@code snapshot.prefix}: letters, digits and {@code _.:-}
     * @param retention {@code snapshot.retention}, at least 1
     */
    public ZfsSnapshots(
            Zfs zfs, String job, Zfs.Dataset dataset, Path source, String prefix, int retention, Clock clock, Log log) {
        if (!NAME_CHARS.matcher(prefix).matches()) {
            throw new IllegalArgumentException(
                    "a snapshot prefix takes letters, digits and _ . : - only: \"" + prefix + "\"");
        }
        if (retention < 1) {
            throw new IllegalArgumentException("snapshot retention must be at least 1: " + retention);
        }
        this.zfs = zfs;
        this.job = job;
        this.dataset = dataset;
        this.source = source;
        this.prefix = prefix;
        this.retention = retention;
        this.clock = clock;
        this.log = log;
        this.ours = Pattern.compile(Pattern.quote(prefix) + "-\\d{14}");
        this.ourClones = Pattern.compile(Pattern.quote(dataset.pool() + "/" + clonePrefix(job)) + "\\d{14}");
    }

    /** Whether a snapshot's short name has the form this job's snapshots have. */
    public boolean isOurs(String shortName) {
        return ours.matcher(shortName).matches();
    }

    /** The short name {@link #open} would give a snapshot now, for {@code --dry-run}. */
    public String plannedName() {
        return prefix + "-" + STAMP.format(Instant.now(clock));
    }

    /** The snapshot made by {@link #open}, or null before. */
    public Zfs.Snapshot current() {
        return current;
    }

    /**
     * Makes this run's snapshot and returns where the source can be read as it was at that
     * instant. Clones left by an earlier run that did not finish are destroyed first. Close the
     * view to destroy its clone; the snapshot stays.
     *
     * @throws IOException when the source cannot be resolved or is not below the dataset's mountpoint
     */
    public View open() throws ZfsException, IOException {
        if (current != null) {
            throw new IllegalStateException("this run's snapshot is made already: " + current.fullName());
        }
        Path real = source.toRealPath();
        if (!real.startsWith(dataset.mountpoint())) {
            throw new IOException(
                    source + " is not below the mountpoint " + dataset.mountpoint() + " of " + dataset.name());
        }
        removeStaleClones();
        String shortName = makeSnapshot();
        warnAboutNestedDatasets(real);

        Path snapdir = Zfs.snapshotDir(dataset, shortName);
        if (snapdir != null) {
            Path dir = sourceIn(snapdir, dataset, real);
            requireDirectory(dir, null);
            log.info("zip job %s: reading %s from %s", job, source, dir);
            return new View(dir, current, null);
        }
        String cloneName = dataset.pool() + "/" + clonePrefix(job) + stampOf(shortName);
        Path mount = zfs.cloneReadOnly(current.fullName(), cloneName);
        log.info("zip job %s: made read-only clone %s of %s at %s", job, cloneName, current.fullName(), mount);
        Path dir = sourceIn(mount, dataset, real);
        requireDirectory(dir, cloneName);
        log.info("zip job %s: reading %s from %s", job, source, dir);
        return new View(dir, current, cloneName);
    }

    /**
     * The newest of this job's snapshots made before this run's (before now when {@link #open} has
     * not been called): the base for {@code zfs diff}. Null when there is none.
     */
    public Zfs.Snapshot previous() throws ZfsException {
        Zfs.Snapshot previous = null;
        for (Zfs.Snapshot s : zfs.snapshots(dataset.name())) {
            if (current != null && s.fullName().equals(current.fullName())) {
                break;
            }
            if (isOurs(s.shortName())) {
                previous = s;
            }
        }
        return previous;
    }

    /** What {@link #prune} did: snapshots destroyed, snapshots of this job kept, failures. */
    public record Pruned(List<Zfs.Snapshot> destroyed, List<Zfs.Snapshot> kept, List<String> failures) {}

    /**
     * Destroys this job's snapshots but the newest {@code retention}, never this run's. A snapshot
     * that cannot be destroyed (still busy after the retries, held, cloned by someone) is logged
     * and listed in {@link Pruned#failures}; the others are still pruned.
     */
    public Pruned prune() throws ZfsException {
        List<Zfs.Snapshot> mine = new ArrayList<>();
        for (Zfs.Snapshot s : zfs.snapshots(dataset.name())) {
            if (isOurs(s.shortName())) {
                mine.add(s);
            }
        }
        int excess = Math.max(0, mine.size() - retention);
        List<Zfs.Snapshot> destroyed = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (Zfs.Snapshot s : mine.subList(0, excess)) {
            if (current != null && s.fullName().equals(current.fullName())) {
                continue;
            }
            try {
                zfs.destroy(s.fullName());
                destroyed.add(s);
                log.info("zip job %s: destroyed snapshot %s (keeping the newest %d)", job, s.fullName(), retention);
            } catch (ZfsException e) {
                failures.add(e.getMessage());
                log.warn("zip job %s: cannot destroy old snapshot %s: %s", job, s.fullName(), e.getMessage());
            }
        }
        List<Zfs.Snapshot> kept = new ArrayList<>(mine);
        kept.removeAll(destroyed);
        return new Pruned(List.copyOf(destroyed), List.copyOf(kept), List.copyOf(failures));
    }

    /**
     * Datasets mounted inside the source: a snapshot is of one dataset only, so their files are
     * not in it (their mountpoints show as empty directories).
     */
    public List<Zfs.Dataset> nestedDatasets() throws ZfsException, IOException {
        return nestedIn(source.toRealPath());
    }

    private List<Zfs.Dataset> nestedIn(Path real) throws ZfsException {
        List<Zfs.Dataset> nested = new ArrayList<>();
        for (Zfs.Dataset d : zfs.filesystems()) {
            if (!d.name().equals(dataset.name())
                    && d.mountpoint().startsWith(real)
                    && !d.mountpoint().equals(real)) {
                nested.add(d);
            }
        }
        return nested;
    }

    private void warnAboutNestedDatasets(Path real) throws ZfsException {
        for (Zfs.Dataset d : nestedIn(real)) {
            log.warn(
                    "zip job %s: %s is the separate dataset %s; the snapshot of %s does not hold its files",
                    job, d.mountpoint(), d.name(), dataset.name());
        }
    }

    /** Makes the snapshot under the first free name from now on; sets {@link #current}. */
    private String makeSnapshot() throws ZfsException {
        Set<String> taken = new HashSet<>();
        for (Zfs.Snapshot s : zfs.snapshots(dataset.name())) {
            taken.add(s.shortName());
        }
        Instant at = Instant.now(clock);
        for (int attempt = 1; ; attempt++) {
            String shortName = prefix + "-" + STAMP.format(at);
            while (taken.contains(shortName)) {
                at = at.plusSeconds(1);
                shortName = prefix + "-" + STAMP.format(at);
            }
            String fullName = dataset.name() + "@" + shortName;
            try {
                zfs.snapshot(fullName);
            } catch (ZfsException e) {
                // Someone took the name between the listing and now: try the next second.
                if (attempt < NAME_ATTEMPTS && e.getMessage().contains("exists")) {
                    taken.add(shortName);
                    continue;
                }
                throw e;
            }
            for (Zfs.Snapshot s : zfs.snapshots(dataset.name())) {
                if (s.fullName().equals(fullName)) {
                    current = s;
                }
            }
            if (current == null) {
                throw new ZfsException("snapshot " + fullName + " was made but zfs does not list it");
            }
            log.info("zip job %s: made snapshot %s", job, fullName);
            return shortName;
        }
    }

    /** Clones of this job's snapshots that a run which did not finish left behind. */
    private void removeStaleClones() throws ZfsException {
        for (Map.Entry<String, String> e : zfs.clonesBelow(dataset.pool()).entrySet()) {
            String origin = e.getValue();
            int at = origin.indexOf('@');
            if (ourClones.matcher(e.getKey()).matches()
                    && origin.substring(0, at).equals(dataset.name())
                    && isOurs(origin.substring(at + 1))) {
                log.info("zip job %s: destroying clone %s left by an earlier run", job, e.getKey());
                zfs.destroy(e.getKey());
            }
        }
    }

    private void requireDirectory(Path dir, String cloneName) throws ZfsException {
        if (Files.isDirectory(dir)) {
            return;
        }
        ZfsException missing = new ZfsException(
                "the source " + source + " is not a directory in snapshot " + current.fullName() + " (" + dir + ")");
        if (cloneName != null) {
            try {
                zfs.destroy(cloneName);
            } catch (ZfsException e) {
                missing.addSuppressed(e);
            }
        }
        throw missing;
    }

    /**
     * Where {@code realSource} lies in a copy of its dataset ({@code .zfs/snapshot/<name>} or a
     * clone's mountpoint): the same path below the copy as below the dataset's mountpoint.
     */
    static Path sourceIn(Path copy, Zfs.Dataset dataset, Path realSource) {
        return copy.resolve(dataset.mountpoint().relativize(realSource));
    }

    /** {@code custos-zip-<job>-}, the job's name reduced to what ZFS accepts in a name. */
    static String clonePrefix(String job) {
        StringBuilder sb = new StringBuilder("custos-zip-");
        for (int i = 0; i < job.length(); i++) {
            char c = job.charAt(i);
            sb.append(NAME_CHARS.matcher(String.valueOf(c)).matches() ? c : '_');
        }
        return sb.append('-').toString();
    }

    private static String stampOf(String shortName) {
        return shortName.substring(shortName.length() - 14);
    }

    /**
     * Where this run reads the source: inside {@code .zfs/snapshot} (nothing to clean up) or inside
     * a read-only clone, which {@link #close} destroys.
     */
    public final class View implements AutoCloseable {
        private final Path dir;
        private final Zfs.Snapshot snapshot;
        private final String clone;
        private boolean closed;

        private View(Path dir, Zfs.Snapshot snapshot, String clone) {
            this.dir = dir;
            this.snapshot = snapshot;
            this.clone = clone;
        }

        /** The source directory as it was when the snapshot was made (read-only). */
        public Path dir() {
            return dir;
        }

        public Zfs.Snapshot snapshot() {
            return snapshot;
        }

        /** The clone's dataset name, or null when the view is inside {@code .zfs/snapshot}. */
        public String cloneName() {
            return clone;
        }

        /** Destroys the clone, if there is one (retrying while zfs says it is busy). */
        @Override
        public void close() throws ZfsException {
            if (closed || clone == null) {
                closed = true;
                return;
            }
            zfs.destroy(clone);
            closed = true;
            log.info("zip job %s: destroyed clone %s", job, clone);
        }
    }
}
