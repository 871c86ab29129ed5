package io.custos.torrent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class WebApiVersionTest {
    @ParameterizedTest
    @CsvSource({
        "2.8.19, false", // qBittorrent 4.5
        "2.9.3,  false", // qBittorrent 4.6
        "2.10.4, false",
        "2.11,   true", // qBittorrent 5.0
        "2.11.2, true",
        "2.14.1, true", // qBittorrent 5.2
        "3.0.0,  true",
    })
    void stopAndStartBeginWithWebApi2_11(String text, boolean stopStart) {
        assertThat(WebApiVersion.parse(text).stopStart()).isEqualTo(stopStart);
    }

    @Test
    void versionsCompareByNumberNotByText() {
        assertThat(WebApiVersion.parse("2.10.0")).isGreaterThan(WebApiVersion.parse("2.9.9"));
        assertThat(WebApiVersion.parse("2.14.1").atLeast(WebApiVersion.API_KEY)).isTrue();
        assertThat(WebApiVersion.parse("2.14.0").atLeast(WebApiVersion.API_KEY)).isFalse();
        assertThat(WebApiVersion.parse(" 2.8.19\n")).hasToString("2.8.19");
    }

    @Test
    void anythingElseIsRejected() {
        assertThatThrownBy(() -> WebApiVersion.parse("<html>login</html>"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a Web API version");
        assertThatThrownBy(() -> WebApiVersion.parse("2")).isInstanceOf(IllegalArgumentException.class);
    }
}
