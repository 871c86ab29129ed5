package io.custos.config;

import java.util.List;

/**
 * The whole configuration (SPEC §4), validated. Paths are kept as the text the user wrote;
 * {@code io.custos.fs.RawPaths} turns them into paths.
 */
public record Config(
        String parityRoot,
        List<Root> roots,
        String dataDir,
        List<String> exclude,
        Hash hash,
        Parity parity,
        Verify verify,
        Guard guard,
        Process process,
        int retentionDays,
        int quarantineDays,
        int catalogBackups,
        Notify notifications,
        Metrics metrics,
        LogSettings log,
        Zip zip,
        Link link,
        Qbittorrent qbittorrent,
        Rehome rehome,
        Repair repair) {

    /** A directory tree custos keeps track of. {@code marker}: a file that must exist in it. */
    public record Root(String name, String path, boolean parity, String marker) {}

    /** {@code workers} 0 = one per core; {@code perDeviceWorkers} bounds readers per block device. */
    public record Hash(int workers, int perDeviceWorkers) {}

    public record Parity(
            int redundancyPercent,
            long minFileSize,
            long maxFileSize,
            String par2Binary,
            int timeoutSeconds,
            int trashDays) {}

    public record Verify(int percent, int maxAgeDays) {}

    /** {@code auto}: a scan repairs the damaged and truncated files it finds at once. */
    public record Repair(boolean auto) {}

    public record Guard(int maxDeletedPercent, int maxModifiedPercent, int minFiles) {}

    public record Process(int nice, boolean ioniceIdle, int umask) {}

    public record Notify(List<Target> targets) {}

    public record Target(
            String type,
            String url,
            String token,
            String tokenFile,
            Integer priority,
            List<String> events,
            List<String> excludeEvents,
            int timeoutSeconds,
            int retries) {}

    public record Metrics(String textfile, String healthchecksUrl) {}

    public record Syslog(String host, int port, String facility) {}

    public record LogSettings(String level, String file, Syslog syslog) {}

    public record Zip(List<ZipJob> jobs) {}

    public record Snapshot(String mode, String prefix, int retention) {}

    public record ZipJob(
            String name,
            String sourcePath,
            String targetPath,
            String folderPattern,
            Snapshot snapshot,
            int keep,
            String compression,
            int maxWorkers,
            int retries,
            int retryBackoffSeconds,
            int taskTimeoutSeconds,
            String tmpDir,
            long minFreeBytes,
            boolean notifySuccess) {}

    public record Link(long minSize) {}

    /**
     * How to reach qBittorrent's Web API: a login ({@code username} with {@code password} or the
     * first line of {@code passwordFile}), an API key ({@code apiKey} or {@code apiKeyFile};
     * qBittorrent 5.2+), or neither when qBittorrent lets this host in without one.
     */
    public record Qbittorrent(
            String url, String username, String password, String passwordFile, String apiKey, String apiKeyFile) {}

    /**
     * Where torrents seed from ({@code seedingRoots}: absolute paths; a hardlink outside them is an
     * external consumer), where the media library is ({@code libraryRoots}), the fast {@code
     * stashRoot} and the big {@code poolRoot}, whose layouts mirror each other, and how old a scan
     * of those places may be before a rehome plan refuses to trust the catalog.
     */
    public record Rehome(
            List<String> seedingRoots,
            List<String> libraryRoots,
            String stashRoot,
            String poolRoot,
            int maxScanAgeHours) {}
}
