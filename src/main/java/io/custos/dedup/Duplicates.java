package io.custos.dedup;

import io.custos.catalog.Catalog;
import io.custos.catalog.LinkTable;
import io.custos.fs.RawPaths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Duplicate groups from the catalog: live files with equal SHA-256 and size on more than one inode
 * of one device. Nothing is read from disk; {@code link execute} checks every file before it links.
 */
public final class Duplicates {
    /** A cataloged root: its id in the catalog, its name and its configured path. */
    public record Root(long id, String name, String path) {}

    /** One path of a group. {@code fullPath}: the root's path and the relative path, as bytes. */
    public record Member(long fileId, Root root, byte[] path, long device, long inode, long mtimeNs, byte[] fullPath) {
        public String display() {
            return root.name() + "/" + RawPaths.display(path);
        }
    }

    /**
     * Files of one content on one device. {@code members} are in keep order: the first is the
     * file kept (lowest inode, then shortest path, then alphabetical); every member on another
     * inode than the kept one becomes an action.
     */
    public record Group(byte[] sha256, long size, long device, List<Member> members, int inodes) {
        public long reclaimable() {
            return (inodes - 1L) * size;
        }

        public Member keep() {
            return members.get(0);
        }

        /** The members that a plan replaces by hardlinks of {@link #keep()}. */
        public List<Member> duplicates() {
            long keepInode = keep().inode();
            return members.stream().filter(m -> m.inode() != keepInode).toList();
        }
    }

    /** One content on several devices: reported, never linked. */
    public record CrossDevice(byte[] sha256, long size, List<Long> devices, List<Member> members) {}

    /** The groups (largest reclaimable first), the cross-device report and the totals. */
    public record Analysis(List<Group> groups, List<CrossDevice> crossDevice, long files, long reclaimable) {}

    /** Keep order: lowest inode, then shortest full path, then the path's bytes. */
    static final Comparator<Member> KEEP_ORDER = Comparator.comparingLong(Member::inode)
            .thenComparingInt(m -> m.fullPath().length)
            .thenComparing(Member::fullPath, RawPaths::compare);

    private Duplicates() {}

    /**
     * Finds the groups among the files of {@code roots} (keyed by catalog id) of at least
     * {@code minSize} bytes; with {@code crossDevice} also the contents found on several devices.
     */
    public static Analysis find(Catalog catalog, Map<Long, Root> roots, long minSize, boolean crossDevice) {
        List<Group> groups = new ArrayList<>();
        List<CrossDevice> cross = new ArrayList<>();
        List<LinkTable.Candidate> run = new ArrayList<>();
        catalog.links().forEachSharedContent(minSize, List.copyOf(roots.keySet()), c -> {
            if (!run.isEmpty()) {
                LinkTable.Candidate first = run.get(0);
                if (!Arrays.equals(first.sha256(), c.sha256()) || first.size() != c.size()) {
                    content(run, roots, crossDevice, groups, cross);
                    run.clear();
                }
            }
            run.add(c);
        });
        if (!run.isEmpty()) {
            content(run, roots, crossDevice, groups, cross);
        }
        groups.sort(Comparator.comparingLong(Group::reclaimable)
                .reversed()
                .thenComparing(Group::sha256, Arrays::compareUnsigned)
                .thenComparingLong(Group::device));
        long files = 0;
        long reclaimable = 0;
        for (Group g : groups) {
            files += g.members().size();
            reclaimable += g.reclaimable();
        }
        return new Analysis(groups, cross, files, reclaimable);
    }

    /** The rows of one content (ordered by device, inode): a group per device with two inodes or more. */
    private static void content(
            List<LinkTable.Candidate> rows,
            Map<Long, Root> roots,
            boolean crossDevice,
            List<Group> groups,
            List<CrossDevice> cross) {
        List<Member> all = new ArrayList<>(rows.size());
        for (LinkTable.Candidate c : rows) {
            Root r = roots.get(c.rootId());
            if (r != null) {
                all.add(new Member(c.id(), r, c.path(), c.device(), c.inode(), c.mtimeNs(), fullPath(r, c.path())));
            }
        }
        Set<Long> devices = new HashSet<>();
        int from = 0;
        while (from < all.size()) {
            long device = all.get(from).device();
            int to = from;
            Set<Long> inodes = new HashSet<>();
            while (to < all.size() && all.get(to).device() == device) {
                inodes.add(all.get(to).inode());
                to++;
            }
            devices.add(device);
            if (inodes.size() > 1) {
                List<Member> members = new ArrayList<>(all.subList(from, to));
                members.sort(KEEP_ORDER);
                LinkTable.Candidate first = rows.get(0);
                groups.add(new Group(first.sha256(), first.size(), device, List.copyOf(members), inodes.size()));
            }
            from = to;
        }
        if (crossDevice && devices.size() > 1) {
            List<Long> sorted = new ArrayList<>(devices);
            sorted.sort(null);
            cross.add(new CrossDevice(rows.get(0).sha256(), rows.get(0).size(), sorted, List.copyOf(all)));
        }
    }

    static byte[] fullPath(Root root, byte[] relative) {
        return RawPaths.bytes(RawPaths.resolve(RawPaths.path(root.path()), relative));
    }
}
