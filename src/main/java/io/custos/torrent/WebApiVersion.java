package io.custos.torrent;

/**
 * The version qBittorrent gives for its Web API ({@code /api/v2/app/webapiVersion}): 2.8.19 for
 * qBittorrent 4.5, 2.11.x for 5.0. It decides which endpoints and state names to expect.
 */
public record WebApiVersion(int major, int minor, int patch) implements Comparable<WebApiVersion> {
    /** qBittorrent 5.0: {@code pause}/{@code resume} became {@code stop}/{@code start}. */
    public static final WebApiVersion STOP_START = new WebApiVersion(2, 11, 0);

    /** qBittorrent 5.2: an API key in {@code Authorization: Bearer}. Older versions ignore it. */
    public static final WebApiVersion API_KEY = new WebApiVersion(2, 14, 1);

    /** Parses {@code 2.8.19} or {@code 2.11}; throws {@link IllegalArgumentException} on anything else. */
    public static WebApiVersion parse(String text) {
        String s = text == null ? "" : text.strip();
        if (!s.matches("[0-9]{1,6}(\\.[0-9]{1,6}){1,2}")) {
            throw new IllegalArgumentException("not a Web API version: \"" + shorten(s) + "\"");
        }
        String[] p = s.split("\\.");
        return new WebApiVersion(
                Integer.parseInt(p[0]), Integer.parseInt(p[1]), p.length > 2 ? Integer.parseInt(p[2]) : 0);
    }

    public boolean atLeast(WebApiVersion other) {
        return compareTo(other) >= 0;
    }

    /** Whether torrents are stopped and started ({@code stop}/{@code start}) rather than paused and resumed. */
    public boolean stopStart() {
        return atLeast(STOP_START);
    }

    @Override
    public int compareTo(WebApiVersion o) {
        if (major != o.major) {
            return Integer.compare(major, o.major);
        }
        if (minor != o.minor) {
            return Integer.compare(minor, o.minor);
        }
        return Integer.compare(patch, o.patch);
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }

    private static String shorten(String s) {
        String one = s.replaceAll("\\s+", " ");
        return one.length() > 40 ? one.substring(0, 40) + "..." : one;
    }
}
