package io.custos.scan;

/**
 * A regular file found by the walk: path relative to its root (raw bytes) and its lstat;
 * {@code links} is the hardlink count.
 */
public record WalkEntry(byte[] path, long size, long mtimeNs, long device, long inode, int links) {}
