package io.custos.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.config.Config;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@code log.syslog}: RFC 3164 over UDP, to a real socket on the loopback. */
class SyslogSenderTest {
    private static final Instant T = Instant.parse("2026-01-05T03:04:05Z");
    private static final Clock CLOCK = Clock.fixed(T, ZoneOffset.UTC);
    private static final long PID = ProcessHandle.current().pid();

    private DatagramSocket receiver;
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    @BeforeEach
    void listen() throws IOException {
        receiver = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"));
        receiver.setSoTimeout(5000);
    }

    @AfterEach
    void close() {
        receiver.close();
    }

    private Config.LogSettings syslog(String facility) {
        return new Config.LogSettings("info", null, new Config.Syslog("127.0.0.1", receiver.getLocalPort(), facility));
    }

    private byte[] receive() throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[4096], 4096);
        receiver.receive(p);
        return java.util.Arrays.copyOf(p.getData(), p.getLength());
    }

    private String receiveText() throws IOException {
        return new String(receive(), StandardCharsets.UTF_8);
    }

    @Test
    void aReceiverGetsAnRfc3164LineWithTheRunIdAndThePriority() throws IOException {
        // given
        String stamp = DateTimeFormatter.ofPattern("MMM ppd HH:mm:ss", Locale.ENGLISH)
                .withZone(ZoneId.systemDefault())
                .format(T);
        // when
        try (Log log = Log.open(err, CLOCK, Log.Level.INFO, syslog("local3"), "nas.example.org")) {
            log.runId(12);
            log.info("scan started: %d roots", 2);
            log.error("the catalog is not readable");
            log.debug("not at info");
            log.warn("a warning");
        }
        // then: local3 = 19; informational 6, error 3, warning 4; the host without its domain
        assertThat(receiveText())
                .isEqualTo("<158>" + stamp + " nas custos[" + PID + "]: [run 12] scan started: 2 roots");
        assertThat(receiveText())
                .isEqualTo("<155>" + stamp + " nas custos[" + PID + "]: [run 12] the catalog is not readable");
        assertThat(receiveText()).isEqualTo("<156>" + stamp + " nas custos[" + PID + "]: [run 12] a warning");
        // and stderr has its lines as always
        assertThat(errBytes.toString(StandardCharsets.UTF_8)).contains("INFO [run 12] scan started: 2 roots");
    }

    @Test
    void theTimestampPadsTheDayWithASpace() throws IOException {
        try (SyslogSender s = sender("user", ZoneOffset.UTC)) {
            String text = new String(s.packet(Log.Level.WARN, T, "m"), StandardCharsets.UTF_8);
            assertThat(text).isEqualTo("<12>Jan  5 03:04:05 nas custos[" + PID + "]: m");
        }
    }

    @Test
    void facilitiesAndSeveritiesGiveThePriority() throws IOException {
        assertThat(pri("kern", Log.Level.ERROR)).isEqualTo(3);
        assertThat(pri("user", Log.Level.ERROR)).isEqualTo(11);
        assertThat(pri("daemon", Log.Level.INFO)).isEqualTo(30);
        assertThat(pri("cron", Log.Level.WARN)).isEqualTo(76);
        assertThat(pri("local0", Log.Level.DEBUG)).isEqualTo(135);
        assertThat(pri("local7", Log.Level.TRACE)).isEqualTo(191);
        assertThatThrownBy(() -> SyslogSender.facility("local8")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void everyFacilityTheConfigurationAcceptsIsKnown() {
        for (String f : new String[] {
            "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "local0", "local1",
            "local2", "local3", "local4", "local5", "local6", "local7"
        }) {
            assertThat(SyslogSender.facility(f)).isBetween(0, 23);
        }
    }

    private int pri(String facility, Log.Level level) throws IOException {
        try (SyslogSender s = sender(facility, ZoneOffset.UTC)) {
            String text = new String(s.packet(level, T, "m"), StandardCharsets.US_ASCII);
            return Integer.parseInt(text.substring(1, text.indexOf('>')));
        }
    }

    @Test
    void aLongLineIsCutTo1024BytesAtACharacterBoundary() throws IOException, CharacterCodingException {
        // given: a message of 2-byte characters and a newline
        String message = "line one\n" + "é".repeat(2000);
        try (Log log = Log.open(err, CLOCK, Log.Level.INFO, syslog("daemon"), "nas")) {
            // when
            log.info("%s", message);
        }
        // then: at most 1024 bytes, valid UTF-8, one line
        byte[] packet = receive();
        assertThat(packet.length).isLessThanOrEqualTo(SyslogSender.MAX_PACKET).isGreaterThan(1020);
        String text = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(packet))
                .toString();
        assertThat(text).contains(": line one ééé").endsWith("é").doesNotContain("\n");
    }

    @Test
    void sendFailuresNeverThrowAndWarnOnce() throws IOException {
        // given: a sender whose socket is gone
        SyslogSender s = sender("user", ZoneOffset.UTC);
        s.close();
        // when / then
        assertThat(s.write(Log.Level.INFO, T, "line", "one")).startsWith("cannot send to syslog at 127.0.0.1:");
        assertThat(s.write(Log.Level.INFO, T, "line", "two")).isNull();
    }

    @Test
    void anUnknownServerCostsOneWarningAndStderrGoesOn() {
        Config.LogSettings settings =
                new Config.LogSettings("info", null, new Config.Syslog("no-such-host.invalid", 514, "user"));
        try (Log log = Log.open(err, CLOCK, Log.Level.INFO, settings, "nas")) {
            log.info("still here");
        }
        assertThat(errBytes.toString(StandardCharsets.UTF_8).lines())
                .containsExactly(
                        "2026-01-05T03:04:05Z WARN cannot log to syslog at no-such-host.invalid:514"
                                + " (IOException: unknown host no-such-host.invalid); logging without it",
                        "2026-01-05T03:04:05Z INFO still here");
    }

    @Test
    void theHostNameHasNoDomainAndNoSpace() {
        assertThat(SyslogSender.hostname("nas.example.org")).isEqualTo("nas");
        assertThat(SyslogSender.hostname("192.168.1.20")).isEqualTo("192.168.1.20");
        assertThat(SyslogSender.hostname("fe80::1")).isEqualTo("fe80::1");
        assertThat(SyslogSender.hostname("my nas")).isEqualTo("my_nas");
        assertThat(SyslogSender.hostname("")).isEqualTo("localhost");
        assertThat(SyslogSender.hostname(null)).isEqualTo("localhost");
    }

    private SyslogSender sender(String facility, ZoneId zone) throws IOException {
        return SyslogSender.open(new Config.Syslog("127.0.0.1", receiver.getLocalPort(), facility), "nas", zone);
    }
}
