package io.custos.parity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.custos.run.CancelToken;
import io.custos.testing.Requirements;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class Par2LayoutTest {
    @TempDir
    Path tmp;

    @Test
    void estimateMatchesWhatPar2Wrote() {
        // measured with par2 0.8.1: 1 MiB file "f.bin", -s4096 -c26 -n1
        assertThat(Par2Layout.estimate(4096, 256, 26, 5)).isEqualTo(135_468);
        // 64 KiB file with a 6-byte name, -s4096 -c1 and -c2
        assertThat(Par2Layout.estimate(4096, 16, 1, 6)).isEqualTo(4_888);
        assertThat(Par2Layout.estimate(4096, 16, 2, 6)).isEqualTo(9_672);
        // 1 MiB, R = 3 and 4: the critical packets are written floor(log2 R) + 1 times
        assertThat(Par2Layout.estimate(4096, 256, 3, 5)).isEqualTo(23_436);
        assertThat(Par2Layout.estimate(4096, 256, 4, 5)).isEqualTo(33_020);
    }

    @Test
    void typicalFilesGetSectorBlocksAndAtMost64RecoveryBlocks() {
        assertThat(Par2Layout.choose(1_048_576, 10, 5)).isEqualTo(new Par2Layout(4096, 256, 26, 135_468));
        Par2Layout big = Par2Layout.choose(100_000_000, 10, 12);
        assertThat(big.blockSize()).isEqualTo(159_744);
        assertThat(big.recoveryBlocks()).isEqualTo(63);
        // 64 KiB at 10 %: three 2048-byte blocks repair as many sectors as one 4096-byte block, and more
        assertThat(Par2Layout.choose(65_536, 10, 6)).isEqualTo(new Par2Layout(2048, 32, 3, 8_332));
        // at 30 % the 4096-byte layout rebuilds more sectors
        assertThat(Par2Layout.choose(65_536, 30, 6).blockSize()).isEqualTo(4096);
    }

    @Test
    void smallFilesGetAtMostSixteenBlocksAndNoBound() {
        assertThat(Par2Layout.choose(1, 10, 1)).isEqualTo(new Par2Layout(4, 1, 1, Par2Layout.estimate(4, 1, 1, 1)));
        assertThat(Par2Layout.choose(1000, 10, 8))
                .isEqualTo(new Par2Layout(64, 16, 2, Par2Layout.estimate(64, 16, 2, 8)));
        Par2Layout justBelow = Par2Layout.choose(65_535, 50, 8);
        assertThat(justBelow.blockSize()).isEqualTo(4096);
        assertThat(justBelow.sourceBlocks()).isEqualTo(16);
        assertThat(justBelow.recoveryBlocks()).isEqualTo(8);
        for (long size = 1; size < Par2Layout.SMALL_FILE; size += 997) {
            Par2Layout l = Par2Layout.choose(size, 10, 8);
            assertThat(l.sourceBlocks()).isBetween(1, 16);
            assertThat(l.blockSize() % 4).isZero();
            assertThat((long) l.blockSize() * l.sourceBlocks()).isGreaterThanOrEqualTo(size);
        }
    }

    @Test
    void emptyFilesGetNoParityAndNonsenseIsRefused() {
        assertThat(Par2Layout.choose(0, 10, 5)).isNull();
        assertThatThrownBy(() -> Par2Layout.choose(-1, 10, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Par2Layout.choose(100, 0, 5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Par2Layout.choose(100, 101, 5)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void parityOfFilesFrom64KiBTakesAtMostRedundancyPlusThreePercent() {
        Random random = new Random(42);
        for (long size = Par2Layout.SMALL_FILE; size <= 4L << 30; size += 1 + size / 40 + random.nextInt(4096)) {
            for (int percent = 1; percent <= 100; percent++) {
                for (int nameBytes : new int[] {1, 40, 255}) {
                    Par2Layout l = Par2Layout.choose(size, percent, nameBytes);
                    String what = size + " bytes at " + percent + " %, name " + nameBytes + ": " + l;
                    assertThat(l.recoveryBlocks()).as(what).isBetween(1, 64);
                    assertThat(l.sourceBlocks()).as(what).isBetween(1, 32768);
                    assertThat((long) l.sourceBlocks()).as(what).isEqualTo((size + l.blockSize() - 1) / l.blockSize());
                    assertThat(l.blockSize() % 4).as(what).isZero();
                    assertThat(l.estimatedBytes())
                            .as(what)
                            .isEqualTo(Par2Layout.estimate(
                                    l.blockSize(), l.sourceBlocks(), l.recoveryBlocks(), nameBytes));
                    long limit = size * (percent + 3) / 100;
                    long withAnyCreator = l.estimatedBytes() - Par2Layout.CREATOR_0_8_1 + Par2Layout.CREATOR_BOUND;
                    if (withAnyCreator > limit) {
                        // the one exception: no par2 layout at all fits, and this is the smallest
                        assertThat(percent).as(what).isEqualTo(1);
                        assertThat(l.recoveryBlocks()).as(what).isEqualTo(1);
                        assertThat(l.estimatedBytes()).as(what).isEqualTo(smallestPossible(size, nameBytes));
                    } else if (l.blockSize() % 4096 != 0 && l.blockSize() != 2048) {
                        // neither 4096 nor 2048 fitted, but the smallest set does
                        assertThat(l.estimatedBytes()).as(what).isEqualTo(smallestPossible(size, nameBytes));
                    }
                }
            }
        }
    }

    @Test
    void theBoundIsMissedOnlyWhereNoLayoutFits() {
        // 64 KiB at 1 %: at most 2,621 bytes; the smallest set par2 can make is 2,764 (4.2 %)
        Par2Layout l = Par2Layout.choose(65_536, 1, 8);
        assertThat(l.recoveryBlocks()).isEqualTo(1);
        assertThat(l.estimatedBytes()).isEqualTo(smallestPossible(65_536, 8)).isEqualTo(2_764);
        // from 2 % on it always fits
        assertThat(Par2Layout.choose(65_536, 2, 255).estimatedBytes()).isLessThanOrEqualTo(65_536 * 5 / 100 - 24);
    }

    @ParameterizedTest(name = "{0} bytes at {1} %")
    @CsvSource({
        "65536, 10",
        "70000, 10",
        "100000, 10",
        "204800, 10",
        "600000, 10",
        "1048576, 10",
        "3145728, 10",
        "17825792, 10",
        "300000, 5",
        "300000, 30",
        "65536, 1"
    })
    void realSetsKeepTheBoundAndRepairAsManyBlocksAsTheyHold(long size, int percent) throws Exception {
        Path par2Binary = Requirements.par2();
        // given a file of that size and the set par2 makes with the chosen layout
        Path data = Files.createDirectories(tmp.resolve("data"));
        Path file = data.resolve("file.bin");
        byte[] content = new byte[(int) size];
        new Random(size).nextBytes(content);
        Files.write(file, content);
        Par2Layout layout = Par2Layout.choose(size, percent, 8);
        Par2 par2 = new Par2(par2Binary, Duration.ofSeconds(60), new CancelToken());
        Par2.Created set = par2.create(file, tmp.resolve("sets"), "s", layout, 2);

        // then it is as large as estimated and within the promise
        assertThat(Math.abs(set.bytes() - layout.estimatedBytes())).isLessThanOrEqualTo(Math.max(300, size / 50));
        if (percent > 1 || size >= 90_000) {
            assertThat(set.bytes()).isLessThanOrEqualTo(size * (percent + 3) / 100);
        }

        // when one 4 KiB-aligned sector (or the whole block, when blocks are smaller) of as many
        // blocks as there are recovery blocks is damaged, all but a few bytes of it
        Path copy = Files.createDirectories(tmp.resolve("copy")).resolve("file.bin");
        byte[] damaged = content.clone();
        int bs = layout.blockSize();
        int n = layout.sourceBlocks();
        int r = layout.recoveryBlocks();
        for (int k = 0; k < r; k++) {
            long block = (long) k * n / r;
            int from = (int) (block * bs) + 8;
            int to = (int) Math.min(size, block * bs + Math.min(bs, 4096)) - 8;
            for (int i = from; i < to; i++) {
                damaged[i] ^= 0x5a;
            }
        }
        Files.write(copy, damaged);

        // then par2 repairs it to the original bytes
        assertThat(par2.verify(copy.getParent(), set.file()).exitCode()).isEqualTo(1);
        var outcome = par2.repair(copy.getParent(), set.file(), 2);
        assertThat(outcome.exitCode()).as(outcome.output()).isZero();
        assertThat(Files.readAllBytes(copy)).isEqualTo(content);
    }

    /** The smallest set any block size (a multiple of 4) gives with one recovery block. */
    private static long smallestPossible(long size, int nameBytes) {
        long best = Long.MAX_VALUE;
        for (int bs = 4; bs <= 1 << 20; bs += 4) {
            best = Math.min(best, Par2Layout.estimate(bs, (int) ((size + bs - 1) / bs), 1, nameBytes));
        }
        return best;
    }
}
