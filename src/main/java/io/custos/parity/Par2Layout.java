package io.custos.parity;

/**
 * How par2 cuts one file: block size, source blocks, recovery blocks, and the size of the set that
 * custos keeps (the one recovery volume, see {@link Par2}).
 *
 * <p>The rules, for a redundancy of p % (r = p / 100):
 *
 * <ul>
 *   <li>Files of 64 KiB or more get blocks that are multiples of 4096 bytes, so that a bad disk
 *       sector costs one block, and large enough to keep recovery blocks at 64 or fewer: creation
 *       costs grow with size × recovery blocks (measured on 100 MB with par2 0.8.1: 197 blocks
 *       7.4 s, 99 4.2 s, 50 2.6 s, 25 1.6 s). So {@code blockSize = max(4096, roundUp(ceil(size·r /
 *       64), 4096))}, raised further while {@code ceil(r·N) > 64} or N > 32768 (par2's limit).
 *   <li>recoveryBlocks = {@code max(1, ceil(r·N))}, then lowered one at a time, never below 1,
 *       while the set would exceed (p + 3) % of the file: custos promises that parity of a file of
 *       64 KiB or more takes at most redundancy + 3 % of its size. The bound allows for a creator
 *       packet of {@link #CREATOR_BOUND} bytes, so it holds for other par2 builds too.
 *   <li>When that gives 4096-byte blocks (size·r below 256 KiB), 2048-byte blocks are tried too.
 *       The layout that keeps the bound wins; then the one that rebuilds more whole 4 KiB sectors;
 *       then the one that repairs more bytes (R·bs, capped at r·size); a tie keeps 4096. So 64 KiB
 *       at 10 % gets 3 × 2048 (12.7 %: one bad sector, or three small errors apart) instead of
 *       1 × 4096 (7.5 %: one sector or one error).
 *   <li>When neither keeps the bound, the file gets the smallest set par2 can make: one recovery
 *       block of the size that minimizes it. That happens only at 1 % for files below about 86 KB,
 *       and only below about 75 KB does even that set exceed 4 % (64 KiB at 1 %: 4.2 % at best,
 *       with 1112-byte blocks). From 2 % on, every file of 64 KiB or more keeps the bound.
 *   <li>Files below 64 KiB: at most 16 blocks of {@code roundUp(ceil(size / 16), 4)} bytes (at
 *       least 4) and {@code max(1, ceil(r·N))} recovery blocks; no size bound applies: the fixed
 *       packets alone exceed it.
 *   <li>Empty files get no parity: {@link #choose} returns null.
 * </ul>
 */
public record Par2Layout(int blockSize, int sourceBlocks, int recoveryBlocks, long estimatedBytes) {
    /** From this size on, blocks are whole sectors and the size bound applies. */
    public static final long SMALL_FILE = 64 * 1024;

    /** Size of par2cmdline 0.8.1's creator packet ("Created by par2cmdline version 0.8.1."). */
    static final int CREATOR_0_8_1 = 104;
    /** Room for the creator packet of any build (par2cmdline-turbo's is 108 bytes). */
    static final int CREATOR_BOUND = 128;

    private static final int SECTOR = 4096;
    private static final int MAX_RECOVERY_BLOCKS = 64;
    private static final int MAX_SOURCE_BLOCKS = 32768;
    private static final int SMALL_FILE_BLOCKS = 16;
    private static final int HEADER = 64;

    /**
     * The layout for a file of {@code fileSize} bytes whose base name is {@code nameBytes} bytes long,
     * at {@code redundancyPercent} (1–100); null for an empty file.
     */
    public static Par2Layout choose(long fileSize, int redundancyPercent, int nameBytes) {
        if (fileSize < 0 || redundancyPercent < 1 || redundancyPercent > 100 || nameBytes < 0) {
            throw new IllegalArgumentException("no layout for size " + fileSize + ", redundancy " + redundancyPercent
                    + " %, name of " + nameBytes + " bytes");
        }
        if (fileSize == 0) {
            return null;
        }
        if (fileSize < SMALL_FILE) {
            int blockSize = (int) Math.max(4, roundUp(ceilDiv(fileSize, SMALL_FILE_BLOCKS), 4));
            int sourceBlocks = (int) ceilDiv(fileSize, blockSize);
            int recoveryBlocks = Math.max(1, wanted(sourceBlocks, redundancyPercent));
            return of(blockSize, sourceBlocks, recoveryBlocks, nameBytes);
        }
        long limit = fileSize * (redundancyPercent + 3) / 100;
        long blockSize =
                Math.max(SECTOR, roundUp(ceilDiv(fileSize * redundancyPercent, 100L * MAX_RECOVERY_BLOCKS), SECTOR));
        // The formula can miss by one block when N is rounded up; par2 also caps source blocks.
        while (wanted(ceilDiv(fileSize, blockSize), redundancyPercent) > MAX_RECOVERY_BLOCKS
                || ceilDiv(fileSize, blockSize) > MAX_SOURCE_BLOCKS) {
            blockSize += SECTOR;
        }
        if (blockSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("file too large for par2 blocks: " + fileSize + " bytes");
        }
        Par2Layout best = within(fileSize, blockSize, redundancyPercent, nameBytes, limit);
        if (blockSize == SECTOR) {
            Par2Layout half = within(fileSize, SECTOR / 2, redundancyPercent, nameBytes, limit);
            if (better(half, best, fileSize, redundancyPercent, limit)) {
                best = half;
            }
        }
        return best.boundedBytes() <= limit ? best : smallest(fileSize, nameBytes);
    }

    /**
     * The size in bytes of the recovery volume par2 0.8.1 writes for these numbers: R recovery
     * packets of (bs + 68) bytes, {@code floor(log2 R) + 1} copies of the critical packets (main 92;
     * file description 120 + name padded to 4; checksums 80 + 20·N) and one creator packet.
     */
    public static long estimate(int blockSize, int sourceBlocks, int recoveryBlocks, int nameBytes) {
        long main = HEADER + 12 + 16;
        long description = HEADER + 56 + roundUp(nameBytes, 4);
        long checksums = HEADER + 16 + 20L * sourceBlocks;
        long copies = 32 - Integer.numberOfLeadingZeros(recoveryBlocks);
        return (long) recoveryBlocks * (blockSize + HEADER + 4)
                + copies * (main + description + checksums)
                + CREATOR_0_8_1;
    }

    /** This block size with as many recovery blocks as asked for, fewer if the bound needs it. */
    private static Par2Layout within(long fileSize, long blockSize, int percent, int nameBytes, long limit) {
        int bs = (int) blockSize;
        int sourceBlocks = (int) ceilDiv(fileSize, bs);
        int recoveryBlocks = Math.max(1, wanted(sourceBlocks, percent));
        Par2Layout layout = of(bs, sourceBlocks, recoveryBlocks, nameBytes);
        while (layout.recoveryBlocks > 1 && layout.boundedBytes() > limit) {
            layout = of(bs, sourceBlocks, layout.recoveryBlocks - 1, nameBytes);
        }
        return layout;
    }

    /** One recovery block of the size (a multiple of 4, at most 4096) that makes the smallest set. */
    private static Par2Layout smallest(long fileSize, int nameBytes) {
        Par2Layout best = null;
        for (int bs = 4; bs <= SECTOR; bs += 4) {
            Par2Layout l = of(bs, (int) ceilDiv(fileSize, bs), 1, nameBytes);
            if (best == null || l.estimatedBytes < best.estimatedBytes) {
                best = l;
            }
        }
        return best;
    }

    /** Keeps the bound, then more whole 4 KiB sectors, then more bytes (up to what was asked for); ties keep b. */
    private static boolean better(Par2Layout a, Par2Layout b, long fileSize, int percent, long limit) {
        boolean aKeeps = a.boundedBytes() <= limit;
        boolean bKeeps = b.boundedBytes() <= limit;
        if (aKeeps != bKeeps) {
            return aKeeps;
        }
        if (a.sectors() != b.sectors()) {
            return a.sectors() > b.sectors();
        }
        long asked = fileSize * percent / 100;
        return Math.min((long) a.recoveryBlocks * a.blockSize, asked)
                > Math.min((long) b.recoveryBlocks * b.blockSize, asked);
    }

    /** The size this layout is held to: the estimate with room for any build's creator packet. */
    private long boundedBytes() {
        return estimatedBytes - CREATOR_0_8_1 + CREATOR_BOUND;
    }

    /** Whole 4 KiB-aligned sectors this layout can rebuild. */
    private long sectors() {
        return blockSize % SECTOR == 0 ? recoveryBlocks : (long) recoveryBlocks * blockSize / SECTOR;
    }

    private static Par2Layout of(int blockSize, int sourceBlocks, int recoveryBlocks, int nameBytes) {
        return new Par2Layout(
                blockSize, sourceBlocks, recoveryBlocks, estimate(blockSize, sourceBlocks, recoveryBlocks, nameBytes));
    }

    private static int wanted(long sourceBlocks, int percent) {
        return (int) ceilDiv(sourceBlocks * percent, 100);
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private static long roundUp(long a, long multiple) {
        return ceilDiv(a, multiple) * multiple;
    }
}
