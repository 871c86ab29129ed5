package io.custos.torrent;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TorrentTest {
    @ParameterizedTest
    @CsvSource({
        // state,            stopped, busy
        "pausedUP,           true,    false", // qBittorrent 4
        "pausedDL,           true,    false",
        "stoppedUP,          true,    false", // qBittorrent 5
        "stoppedDL,          true,    false",
        "stalledUP,          false,   false",
        "uploading,          false,   false",
        "forcedUP,           false,   false",
        "checkingUP,         false,   true",
        "checkingDL,         false,   true",
        "checkingResumeData, false,   true",
        "moving,             false,   true",
        "metaDL,             false,   true",
        "missingFiles,       false,   false",
    })
    void bothGenerationsOfStateNamesAreUnderstood(String state, boolean stopped, boolean busy) {
        assertThat(Torrent.isStopped(state)).isEqualTo(stopped);
        assertThat(Torrent.isActive(state)).isEqualTo(!stopped);
        assertThat(Torrent.isBusy(state)).isEqualTo(busy);
    }

    @ParameterizedTest
    @CsvSource({
        "pausedUP,   1.0, 0,     true",
        "stoppedUP,  1.0, 0,     true",
        "stalledUP,  1.0, 0,     true",
        "checkingUP, 1.0, 0,     false", // progress may read 1 before the check has looked at anything
        "moving,     1.0, 0,     false",
        "pausedDL,   0.0, 17000, false", // after setLocation onto existing files, before the recheck
        "pausedDL,   1.0, 1,     false",
    })
    void completeMeansCheckedAndNothingLeft(String state, double progress, long left, boolean complete) {
        Torrent t = new Torrent("h", "n", "/s", "/s/n", "", List.of(), state, progress, 17000, left);
        assertThat(t.complete()).isEqualTo(complete);
    }
}
