package io.custos.torrent;

import java.util.List;
import java.util.Set;

/**
 * One torrent as {@code /api/v2/torrents/info} reports it. {@code contentPath} is the torrent's
 * folder, or the file itself for a single-file torrent; {@code size} counts the files selected for
 * download; {@code progress} runs from 0 to 1.
 *
 * <p>The state names differ between qBittorrent 4 ({@code pausedUP}, {@code pausedDL}) and 5
 * ({@code stoppedUP}, {@code stoppedDL}); the predicates here know both.
 */
public record Torrent(
        String hash,
        String name,
        String savePath,
        String contentPath,
        String category,
        List<String> tags,
        String state,
        double progress,
        long size,
        long amountLeft) {

    private static final Set<String> STOPPED = Set.of("pausedUP", "pausedDL", "stoppedUP", "stoppedDL");
    private static final Set<String> CHECKING = Set.of("checkingUP", "checkingDL", "checkingResumeData");
    /** States in which qBittorrent is still working on the data or metadata: progress means little yet. */
    private static final Set<String> BUSY =
            Set.of("checkingUP", "checkingDL", "checkingResumeData", "moving", "metaDL", "forcedMetaDL", "allocating");

    public Torrent {
        tags = List.copyOf(tags);
    }

    /** Paused (qBittorrent 4) or stopped (qBittorrent 5). */
    public static boolean isStopped(String state) {
        return STOPPED.contains(state);
    }

    /** Not paused or stopped: qBittorrent seeds or downloads it (or would, but for an error). */
    public static boolean isActive(String state) {
        return !isStopped(state);
    }

    /** Checking the data (a recheck, or the check at start-up). */
    public static boolean isChecking(String state) {
        return CHECKING.contains(state);
    }

    /** Checking, moving, fetching metadata or allocating: a state that ends by itself. */
    public static boolean isBusy(String state) {
        return BUSY.contains(state);
    }

    public boolean stopped() {
        return isStopped(state);
    }

    public boolean active() {
        return isActive(state);
    }

    public boolean busy() {
        return isBusy(state);
    }

    /**
     * Every selected byte is present and checked, and qBittorrent is not busy with the torrent:
     * what a finished recheck of complete data looks like.
     */
    public boolean complete() {
        return !busy() && progress >= 1.0 && amountLeft == 0;
    }
}
