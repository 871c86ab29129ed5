package io.custos.archive;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The byte layout of the zip records custos writes (PKWARE APPNOTE 6.3): local headers, data
 * descriptors, central directory headers, and the end records with their Zip64 forms. Every field
 * that is not about the file itself is fixed, so the same files give the same bytes.
 */
final class ZipRecords {
    static final long MAX32 = 0xFFFF_FFFFL;
    static final int MAX16 = 0xFFFF;
    static final int STORED = 0;
    static final int DEFLATED = 8;
    static final int FLAG_DESCRIPTOR = 1 << 3;
    static final int FLAG_UTF8 = 1 << 11;
    /** Unix (3) in the high byte, so that unzip and Python read the external attributes as a mode; spec 4.5. */
    static final int VERSION_MADE_BY = (3 << 8) | 45;
    /** A regular file with mode 0644, whatever the mode on disk. */
    static final int EXTERNAL_ATTRIBUTES = 0100644 << 16;
    /** Marks an entry without an extended timestamp (an mtime outside the signed 32-bit range). */
    static final long NO_MTIME = Long.MIN_VALUE;
    /** Offset of the CRC-32 field in a local header. */
    static final int LOCAL_CRC_OFFSET = 14;

    private static final int LOCAL_SIG = 0x04034b50;
    private static final int CENTRAL_SIG = 0x02014b50;
    private static final int DESCRIPTOR_SIG = 0x08074b50;
    private static final int END_SIG = 0x06054b50;
    private static final int ZIP64_END_SIG = 0x06064b50;
    private static final int ZIP64_LOCATOR_SIG = 0x07064b50;
    private static final int ZIP64_EXTRA = 0x0001;
    private static final int TIMESTAMP_EXTRA = 0x5455;

    private ZipRecords() {}

    /**
     * One entry as written. {@code zip64} entries carry their sizes in a Zip64 extra field, in the
     * local and the central header; entries with {@link #FLAG_DESCRIPTOR} have zeros in the local
     * header and the real values in a data descriptor after the data.
     */
    record Entry(
            byte[] name,
            int flags,
            int method,
            int dosTime,
            int dosDate,
            long unixMtime,
            long crc,
            long compressedSize,
            long size,
            long offset,
            boolean zip64) {

        boolean descriptor() {
            return (flags & FLAG_DESCRIPTOR) != 0;
        }

        boolean offset64() {
            return offset >= MAX32;
        }

        int versionNeeded() {
            if (zip64 || offset64()) {
                return 45;
            }
            return method == DEFLATED ? 20 : 10;
        }

        Entry with(long crc, long compressedSize, long size) {
            return new Entry(
                    name, flags, method, dosTime, dosDate, unixMtime, crc, compressedSize, size, offset, zip64);
        }
    }

    static byte[] localHeader(Entry e) {
        int extra = (e.zip64 ? 20 : 0) + (e.unixMtime != NO_MTIME ? 9 : 0);
        ByteBuffer b = buffer(30 + e.name.length + extra);
        b.putInt(LOCAL_SIG);
        b.putShort((short) e.versionNeeded());
        b.putShort((short) e.flags);
        b.putShort((short) e.method);
        b.putShort((short) e.dosTime);
        b.putShort((short) e.dosDate);
        boolean later = e.descriptor();
        b.putInt(later ? 0 : (int) e.crc);
        if (e.zip64) {
            b.putInt((int) MAX32);
            b.putInt((int) MAX32);
        } else {
            b.putInt(later ? 0 : (int) e.compressedSize);
            b.putInt(later ? 0 : (int) e.size);
        }
        b.putShort((short) e.name.length);
        b.putShort((short) extra);
        b.put(e.name);
        if (e.zip64) {
            b.putShort((short) ZIP64_EXTRA);
            b.putShort((short) 16);
            b.putLong(later ? 0 : e.size);
            b.putLong(later ? 0 : e.compressedSize);
        }
        putTimestamp(b, e);
        return b.array();
    }

    /** The descriptor after the data of a {@link #FLAG_DESCRIPTOR} entry; 8-byte sizes for Zip64 entries. */
    static byte[] dataDescriptor(Entry e) {
        ByteBuffer b = buffer(e.zip64 ? 24 : 16);
        b.putInt(DESCRIPTOR_SIG);
        b.putInt((int) e.crc);
        if (e.zip64) {
            b.putLong(e.compressedSize);
            b.putLong(e.size);
        } else {
            b.putInt((int) e.compressedSize);
            b.putInt((int) e.size);
        }
        return b.array();
    }

    static byte[] centralHeader(Entry e) {
        // The Zip64 extra holds exactly the fields whose header value is 0xFFFFFFFF, in this order.
        int zip64Len = (e.zip64 ? 16 : 0) + (e.offset64() ? 8 : 0);
        int extra = (zip64Len > 0 ? 4 + zip64Len : 0) + (e.unixMtime != NO_MTIME ? 9 : 0);
        ByteBuffer b = buffer(46 + e.name.length + extra);
        b.putInt(CENTRAL_SIG);
        b.putShort((short) VERSION_MADE_BY);
        b.putShort((short) e.versionNeeded());
        b.putShort((short) e.flags);
        b.putShort((short) e.method);
        b.putShort((short) e.dosTime);
        b.putShort((short) e.dosDate);
        b.putInt((int) e.crc);
        b.putInt((int) (e.zip64 ? MAX32 : e.compressedSize));
        b.putInt((int) (e.zip64 ? MAX32 : e.size));
        b.putShort((short) e.name.length);
        b.putShort((short) extra);
        b.putShort((short) 0); // comment length
        b.putShort((short) 0); // disk number start
        b.putShort((short) 0); // internal attributes
        b.putInt(EXTERNAL_ATTRIBUTES);
        b.putInt((int) (e.offset64() ? MAX32 : e.offset));
        b.put(e.name);
        if (zip64Len > 0) {
            b.putShort((short) ZIP64_EXTRA);
            b.putShort((short) zip64Len);
            if (e.zip64) {
                b.putLong(e.size);
                b.putLong(e.compressedSize);
            }
            if (e.offset64()) {
                b.putLong(e.offset);
            }
        }
        putTimestamp(b, e);
        return b.array();
    }

    /** Whether the end of the archive needs the Zip64 end record and locator. */
    static boolean needsZip64End(long entries, long centralOffset, long centralSize) {
        return entries >= MAX16 || centralOffset >= MAX32 || centralSize >= MAX32;
    }

    /**
     * The end of the archive, written right after the central directory: with Zip64, the Zip64
     * end record and its locator, then the classic end record whose overflowing fields say
     * 0xFFFF / 0xFFFFFFFF ({@code allMagic}: every count, size and offset field does, so that
     * readers must take them from the Zip64 record; for tests of small archives in Zip64 form).
     */
    static byte[] end(long entries, long centralOffset, long centralSize, boolean zip64, boolean allMagic) {
        ByteBuffer b = buffer((zip64 ? 56 + 20 : 0) + 22);
        if (zip64) {
            long zip64EndOffset = centralOffset + centralSize;
            b.putInt(ZIP64_END_SIG);
            b.putLong(44); // size of the rest of this record
            b.putShort((short) VERSION_MADE_BY);
            b.putShort((short) 45);
            b.putInt(0); // this disk
            b.putInt(0); // disk with the central directory
            b.putLong(entries);
            b.putLong(entries);
            b.putLong(centralSize);
            b.putLong(centralOffset);
            b.putInt(ZIP64_LOCATOR_SIG);
            b.putInt(0); // disk with the Zip64 end record
            b.putLong(zip64EndOffset);
            b.putInt(1); // total disks
        }
        boolean manyEntries = entries >= MAX16 || (zip64 && allMagic);
        boolean bigSize = centralSize >= MAX32 || (zip64 && allMagic);
        boolean bigOffset = centralOffset >= MAX32 || (zip64 && allMagic);
        b.putInt(END_SIG);
        b.putShort((short) 0);
        b.putShort((short) 0);
        b.putShort((short) (manyEntries ? MAX16 : entries));
        b.putShort((short) (manyEntries ? MAX16 : entries));
        b.putInt((int) (bigSize ? MAX32 : centralSize));
        b.putInt((int) (bigOffset ? MAX32 : centralOffset));
        b.putShort((short) 0); // comment length
        return b.array();
    }

    private static void putTimestamp(ByteBuffer b, Entry e) {
        if (e.unixMtime != NO_MTIME) {
            // Info-ZIP's extended timestamp with the modification time only (flag bit 0), in both headers.
            b.putShort((short) TIMESTAMP_EXTRA);
            b.putShort((short) 5);
            b.put((byte) 1);
            b.putInt((int) e.unixMtime);
        }
    }

    private static ByteBuffer buffer(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
