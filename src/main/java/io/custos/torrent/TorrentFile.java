package io.custos.torrent;

/**
 * One file of a torrent ({@code /api/v2/torrents/files}). {@code name} is relative to the
 * torrent's save path and, for a torrent with a folder, starts with that folder's name.
 * {@code priority} 0 means "do not download": such a file may be missing or partial on disk.
 */
public record TorrentFile(int index, String name, long size, double progress, int priority) {}
