package io.custos.catalog;

/**
 * One cataloged file. {@code path} is the raw bytes of the path relative to its root. The
 * {@code pending*} fields hold a modification that was found but not applied yet.
 */
public record FileRow(
        long id,
        long rootId,
        byte[] path,
        long size,
        long mtimeNs,
        long device,
        long inode,
        byte[] sha256,
        FileStatus status,
        long firstSeen,
        long lastSeen,
        Long lastVerified,
        byte[] pendingSha256,
        Long pendingSize,
        Long pendingMtimeNs,
        Long pendingInode) {

    /** The pending modification applies to a file of this size, mtime and inode. */
    public boolean pendingMatches(long size, long mtimeNs, long inode) {
        return pendingSha256 != null
                && pendingSize != null
                && pendingSize == size
                && pendingMtimeNs != null
                && pendingMtimeNs == mtimeNs
                && pendingInode != null
                && pendingInode == inode;
    }
}
