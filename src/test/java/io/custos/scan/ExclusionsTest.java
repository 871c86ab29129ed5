package io.custos.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExclusionsTest {
    @Test
    void globsMatchWholeNames() {
        Exclusions ex = new Exclusions(
                List.of("*.tmp", "Thumbs.db", "#recycle", "cache-?", "[Bb]ackup*", "*.{part,crdownload}"));
        assertThat(ex.excludes("a.tmp")).isTrue();
        assertThat(ex.excludes("a.tmp.jpg")).isFalse();
        assertThat(ex.excludes("Thumbs.db")).isTrue();
        assertThat(ex.excludes("thumbs.db")).isFalse();
        assertThat(ex.excludes("#recycle")).isTrue();
        assertThat(ex.excludes("cache-1")).isTrue();
        assertThat(ex.excludes("cache-12")).isFalse();
        assertThat(ex.excludes("backup-2020")).isTrue();
        assertThat(ex.excludes("Backup")).isTrue();
        assertThat(ex.excludes("x.crdownload")).isTrue();
        assertThat(ex.excludes("x.part")).isTrue();
        assertThat(ex.excludes("x.partial")).isFalse();
        assertThat(ex.excludes(".tmp")).as("* may match nothing").isTrue();
        assertThat(ex.excludes("tmp")).isFalse();
    }

    @Test
    void regexCharactersInPatternsAreLiteral() {
        Exclusions ex = new Exclusions(List.of("a+b(1).*"));
        assertThat(ex.excludes("a+b(1).txt")).isTrue();
        assertThat(ex.excludes("aab1.txt")).isFalse();
    }

    @Test
    void nonAsciiPatternsMatchUtf8Names() {
        Exclusions ex = new Exclusions(List.of("\u00dcber*", "caf?.jpg"));
        assertThat(ex.excludes("\u00dcbersicht.txt")).isTrue();
        assertThat(ex.excludes("caf\u00e9.jpg"))
                .as("? is one character, not one byte")
                .isTrue();
        byte[] latin1 = {'c', 'a', 'f', (byte) 0xe9, '.', 'j', 'p', 'g'};
        assertThat(ex.excludes(latin1, 0, latin1.length))
                .as("? is one byte of a name that is not UTF-8")
                .isTrue();
    }
}
