package io.custos.run;

import io.custos.config.Config;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;

/**
 * {@code log.syslog}: each log record as one RFC 3164 datagram over UDP, {@code <PRI>Mmm dd
 * hh:mm:ss HOSTNAME custos[PID]: [run N] message}, UTF-8, at most 1024 bytes. Sending never
 * throws: the first failure is reported once, later ones are dropped silently.
 */
final class SyslogSender implements Log.Sink {
    /** RFC 3164 §4.1: the whole packet is 1024 bytes or less. */
    static final int MAX_PACKET = 1024;

    /** Facility names as {@code ConfigLoader} accepts them, in code order (kern = 0 … cron = 9). */
    private static final List<String> FACILITIES =
            List.of("kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron");

    // RFC 3164 §4.1.2: "Mmm dd hh:mm:ss", a day below 10 padded with a space; English month names.
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ENGLISH);

    private final DatagramSocket socket;
    private final InetSocketAddress target;
    private final int facility;
    private final String header;
    private final DateTimeFormatter timestamp;
    private boolean failed;

    private SyslogSender(DatagramSocket socket, InetSocketAddress target, int facility, String header, ZoneId zone) {
        this.socket = socket;
        this.target = target;
        this.facility = facility;
        this.header = header;
        this.timestamp = TIMESTAMP.withZone(zone);
    }

    /**
     * Resolves the server once; throws when it cannot be resolved or no socket can be had. {@code
     * zone}: RFC 3164 timestamps are local time without a zone, as the receiving daemon expects.
     */
    static SyslogSender open(Config.Syslog cfg, String host, ZoneId zone) throws IOException {
        InetSocketAddress target = new InetSocketAddress(cfg.host(), cfg.port());
        if (target.isUnresolved()) {
            throw new IOException("unknown host " + cfg.host());
        }
        DatagramSocket socket;
        try {
            socket = new DatagramSocket();
        } catch (SocketException e) {
            throw new IOException("no UDP socket: " + e.getMessage(), e);
        }
        String tag = " " + hostname(host) + " custos[" + ProcessHandle.current().pid() + "]: ";
        return new SyslogSender(socket, target, facility(cfg.facility()), tag, zone);
    }

    /** The facility code of a name: kern 0 … cron 9, local0–local7 16–23. */
    static int facility(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        int i = FACILITIES.indexOf(n);
        if (i >= 0) {
            return i;
        }
        if (n.matches("local[0-7]")) {
            return 16 + (n.charAt(5) - '0');
        }
        throw new IllegalArgumentException("unknown syslog facility " + name);
    }

    /** RFC 3164 severities: error 3, warning 4, informational 6, debug 7. */
    static int severity(Log.Level level) {
        return switch (level) {
            case ERROR -> 3;
            case WARN -> 4;
            case INFO -> 6;
            case DEBUG, TRACE -> 7;
        };
    }

    /**
     * RFC 3164 §4.1.2: the host name without its domain, or an IP address; never empty nor with a
     * space, which would shift the fields.
     */
    static String hostname(String host) {
        if (host == null || host.isBlank()) {
            return "localhost";
        }
        String h = host.strip().replaceAll("\\s+", "_");
        boolean address = h.contains(":") || h.matches("[0-9.]+");
        if (!address && h.indexOf('.') > 0) {
            h = h.substring(0, h.indexOf('.'));
        }
        return h;
    }

    /** The datagram of one record, cut to {@link #MAX_PACKET} bytes at a character boundary. */
    byte[] packet(Log.Level level, Instant time, String message) {
        String head = "<" + (facility * 8 + severity(level)) + ">" + timestamp.format(time) + header;
        // One record is one line: a receiver would otherwise show control characters as #012.
        String text = head + message.replace('\n', ' ').replace('\r', ' ');
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        if (bytes.length <= MAX_PACKET) {
            return bytes;
        }
        int end = MAX_PACKET;
        while (end > 0 && (bytes[end] & 0xC0) == 0x80) {
            end--; // bytes[end] continues a character: cut before the character starts
        }
        return java.util.Arrays.copyOf(bytes, end);
    }

    @Override
    public String write(Log.Level level, Instant time, String line, String message) {
        byte[] p = packet(level, time, message);
        try {
            socket.send(new DatagramPacket(p, p.length, target));
            return null;
        } catch (IOException | RuntimeException e) {
            if (failed) {
                return null;
            }
            failed = true;
            return "cannot send to syslog at " + target.getHostString() + ":" + target.getPort() + " (" + Log.reason(e)
                    + "); further failures are not reported";
        }
    }

    @Override
    public void close() {
        socket.close();
    }
}
