package io.custos.parity;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * Reads and checks a PAR2 file of one protected file without running par2, so that checking parity
 * costs one read of the (small) set and none of the data. Packet format from the PAR2 2.0
 * specification: a 64-byte header (magic, length, MD5 of the packet from offset 32, recovery set
 * id, type), then the body.
 */
public final class Par2Set {
    private static final byte[] MAGIC = ascii("PAR2\0PKT");
    private static final byte[] MAIN = ascii("PAR 2.0\0Main\0\0\0\0");
    private static final byte[] FILE_DESC = ascii("PAR 2.0\0FileDesc");
    private static final byte[] IFSC = ascii("PAR 2.0\0IFSC\0\0\0\0");
    private static final byte[] RECOVERY = ascii("PAR 2.0\0RecvSlic");
    private static final int HEADER = 64;
    private static final int FIRST_16K = 16 * 1024;
    /** Bodies kept in memory (all but recovery data): checksums of 32768 blocks need 640 KiB. */
    private static final long KEPT_BODY_LIMIT = 4L * 1024 * 1024;

    private static final int CHUNK = 64 * 1024;

    private Par2Set() {}

    /**
     * What a set file says and whether it is whole. Fields the file did not yield are null, 0, or -1
     * for {@code fileSize}; {@code bytes} is the size of the set file. {@code problem} says in plain
     * words what is wrong, null when healthy.
     */
    public record Info(
            boolean healthy,
            String problem,
            byte[] storedName,
            long fileSize,
            int blockSize,
            int sourceBlocks,
            int recoveryBlocks,
            byte[] md5Full,
            byte[] md5First16k,
            long bytes) {}

    /**
     * Streams the file once, in bounded memory. Healthy means: every packet's MD5 is right; every
     * packet carries the set id, which is the MD5 of the main packet's body; the set protects exactly
     * one file, whose description and checksum packets are present and agree with the main packet;
     * the checksums cover {@code ceil(fileSize / blockSize)} blocks; there is at least one recovery
     * packet, each with the block size and a distinct exponent; nothing is truncated or trails the
     * last packet. Corrupt content never throws.
     *
     * @throws IOException only when the file cannot be read
     */
    public static Info read(Path par2File) throws IOException {
        long size = Files.size(par2File);
        try (InputStream in = new BufferedInputStream(Files.newInputStream(par2File), CHUNK)) {
            return new Reader(in, size).read();
        }
    }

    /** MD5 of the first 16 KiB of a file (or all of it when shorter), to bind a set to content. */
    public static byte[] md5First16k(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return md5().digest(in.readNBytes(FIRST_16K));
        }
    }

    /** One pass over the packets; remembers the first problem and the first good copy of each packet. */
    private static final class Reader {
        private final InputStream in;
        private final long size;
        private final byte[] chunk = new byte[CHUNK];
        private long offset;
        private String problem;

        private byte[] setId;
        private long setIdMismatchAt = -1;
        private byte[] mainBody;
        /** Description and checksum packets by file id (hex): a one-file set has one of each. */
        private final Map<String, byte[]> descriptions = new LinkedHashMap<>();

        private final Map<String, byte[]> checksums = new LinkedHashMap<>();
        private int recoveryBodies;
        private long recoveryBodyLength = -1;
        private final Set<Integer> exponents = new HashSet<>();
        private long duplicateExponentAt = -1;

        Reader(InputStream in, long size) {
            this.in = in;
            this.size = size;
        }

        Info read() throws IOException {
            if (size == 0) {
                return result("the file is empty");
            }
            while (offset < size) {
                if (!packet()) {
                    break;
                }
            }
            return result(problem != null ? problem : check());
        }

        /** Reads one packet; false when the rest of the file cannot be read as packets. */
        private boolean packet() throws IOException {
            long at = offset;
            long left = size - at;
            if (left < HEADER) {
                note(
                        at == 0
                                ? "not a PAR2 file (too short)"
                                : "the file ends with " + left + " bytes that are not a packet at offset " + at
                                        + " (truncated or trailing garbage)");
                return false;
            }
            byte[] header = in.readNBytes(HEADER);
            if (header.length < HEADER) {
                throw new EOFException("file shrank while reading at offset " + at);
            }
            offset += HEADER;
            if (!Arrays.equals(header, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
                note(
                        at == 0
                                ? "not a PAR2 file (no packet at offset 0)"
                                : "no packet at offset " + at + " (corrupt or trailing garbage)");
                return false;
            }
            long length =
                    ByteBuffer.wrap(header, 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (length < HEADER || length % 4 != 0) {
                note("packet at offset " + at + " is corrupt (impossible length " + Long.toUnsignedString(length)
                        + ")");
                return false;
            }
            if (length > left) {
                note("packet at offset " + at + " needs " + length + " bytes but only " + left
                        + " are left (truncated, or its length is corrupt)");
                return false;
            }
            byte[] storedMd5 = Arrays.copyOfRange(header, 16, 32);
            byte[] id = Arrays.copyOfRange(header, 32, 48);
            byte[] type = Arrays.copyOfRange(header, 48, 64);
            long bodyLength = length - HEADER;
            MessageDigest md5 = md5();
            md5.update(header, 32, 32);

            boolean recovery = Arrays.equals(type, RECOVERY);
            byte[] body = null;
            int exponent = -1;
            if (recovery) {
                if (bodyLength < 4) {
                    note("recovery packet at offset " + at + " is corrupt (no exponent)");
                    skip(md5, bodyLength);
                } else {
                    byte[] e = in.readNBytes(4);
                    if (e.length < 4) {
                        throw new EOFException("file shrank while reading at offset " + offset);
                    }
                    md5.update(e);
                    offset += 4;
                    exponent = ByteBuffer.wrap(e).order(ByteOrder.LITTLE_ENDIAN).getInt();
                    skip(md5, bodyLength - 4);
                }
            } else if (bodyLength <= KEPT_BODY_LIMIT) {
                body = in.readNBytes((int) bodyLength);
                if (body.length < bodyLength) {
                    throw new EOFException("file shrank while reading at offset " + at);
                }
                md5.update(body);
                offset += bodyLength;
            } else {
                skip(md5, bodyLength);
            }
            if (!MessageDigest.isEqual(md5.digest(), storedMd5)) {
                // Its length may be wrong too, but the next packet usually starts where it says.
                note("packet at offset " + at + " is corrupt (its MD5 does not match)");
                return true;
            }
            if (setId == null) {
                setId = id;
            } else if (!Arrays.equals(setId, id) && setIdMismatchAt < 0) {
                setIdMismatchAt = at;
            }
            if (recovery) {
                recoveryBodies++;
                if (recoveryBodyLength >= 0 && recoveryBodyLength != bodyLength) {
                    note("recovery packet at offset " + at + " has another block size than the others");
                }
                recoveryBodyLength = bodyLength;
                if (!exponents.add(exponent) && duplicateExponentAt < 0) {
                    duplicateExponentAt = at;
                }
            } else if (body == null) {
                note("packet at offset " + at + " is too large to be part of a one-file set (" + length + " bytes)");
            } else if (Arrays.equals(type, MAIN)) {
                mainBody = keep(mainBody, body, "main", at);
            } else if (Arrays.equals(type, FILE_DESC)) {
                keep(descriptions, body, 56, "file description", at);
            } else if (Arrays.equals(type, IFSC)) {
                keep(checksums, body, 16, "block checksum", at);
            }
            // Creator and unknown packets are allowed by the specification and ignored.
            return true;
        }

        /** Per file id, like {@link #keep(byte[], byte[], String, long)}. */
        private void keep(Map<String, byte[]> byFile, byte[] body, int minLength, String what, long at) {
            if (body.length < minLength) {
                note("the " + what + " packet at offset " + at + " is too short");
                return;
            }
            String fileId = HexFormat.of().formatHex(body, 0, 16);
            byFile.put(fileId, keep(byFile.get(fileId), body, what, at));
        }

        /** Copies of a critical packet must agree; in a one-file set they are identical. */
        private byte[] keep(byte[] kept, byte[] body, String what, long at) {
            if (kept != null && !Arrays.equals(kept, body)) {
                note("the " + what + " packet at offset " + at + " differs from an earlier copy");
                return kept;
            }
            return kept != null ? kept : body;
        }

        private void skip(MessageDigest md5, long n) throws IOException {
            long left = n;
            while (left > 0) {
                int r = in.read(chunk, 0, (int) Math.min(chunk.length, left));
                if (r < 0) {
                    throw new EOFException("file shrank while reading at offset " + offset);
                }
                md5.update(chunk, 0, r);
                left -= r;
                offset += r;
            }
        }

        private void note(String what) {
            if (problem == null) {
                problem = what;
            }
        }

        /** The checks that need the whole file read; null when it is healthy. */
        private String check() {
            if (mainBody == null) {
                return "no main packet";
            }
            if (!Arrays.equals(setId, md5().digest(mainBody))) {
                return "the recovery set id is not the MD5 of the main packet";
            }
            if (setIdMismatchAt >= 0) {
                return "packet at offset " + setIdMismatchAt + " belongs to another recovery set";
            }
            if (mainBody.length != 12 + 16
                    || le32(mainBody, 8) != 1
                    || descriptions.size() > 1
                    || checksums.size() > 1) {
                return "the set does not protect exactly one file";
            }
            long blockSize = le64(mainBody, 0);
            if (blockSize <= 0 || blockSize % 4 != 0 || blockSize > Integer.MAX_VALUE) {
                return "impossible block size " + blockSize;
            }
            String fileId = HexFormat.of().formatHex(mainBody, 12, 28);
            byte[] fileDescBody = descriptions.get(fileId);
            if (fileDescBody == null) {
                return descriptions.isEmpty()
                        ? "no file description packet"
                        : "the file description is for another file";
            }
            long fileSize = le64(fileDescBody, 48);
            if (fileSize < 0) {
                return "impossible file size";
            }
            MessageDigest id = md5();
            id.update(fileDescBody, 32, 24);
            id.update(fileDescBody, 56, nameEnd(fileDescBody) - 56);
            if (!Arrays.equals(id.digest(), Arrays.copyOfRange(mainBody, 12, 28))) {
                return "the file id is not the MD5 of the file's description";
            }
            byte[] ifscBody = checksums.get(fileId);
            if (ifscBody == null) {
                return checksums.isEmpty() ? "no block checksum packet" : "the block checksums are for another file";
            }
            long blocks = (fileSize + blockSize - 1) / blockSize;
            if ((ifscBody.length - 16) % 20 != 0 || (ifscBody.length - 16) / 20 != blocks) {
                return "the block checksums cover " + (ifscBody.length - 16) / 20 + " blocks, the file has " + blocks;
            }
            if (recoveryBodies == 0) {
                return "no recovery packet";
            }
            if (recoveryBodyLength != blockSize + 4) {
                return "recovery packets do not have the block size " + blockSize;
            }
            if (duplicateExponentAt >= 0) {
                return "recovery packet at offset " + duplicateExponentAt + " repeats an exponent";
            }
            return null;
        }

        private Info result(String trouble) {
            byte[] name = null;
            long fileSize = -1;
            byte[] md5Full = null;
            byte[] md5First = null;
            int blockSize = 0;
            int sourceBlocks = 0;
            byte[] fileDescBody = first(descriptions);
            if (fileDescBody != null) {
                md5Full = Arrays.copyOfRange(fileDescBody, 16, 32);
                md5First = Arrays.copyOfRange(fileDescBody, 32, 48);
                fileSize = le64(fileDescBody, 48);
                name = Arrays.copyOfRange(fileDescBody, 56, nameEnd(fileDescBody));
            }
            if (mainBody != null && mainBody.length >= 12) {
                long bs = le64(mainBody, 0);
                blockSize = bs > 0 && bs <= Integer.MAX_VALUE ? (int) bs : 0;
            }
            byte[] ifscBody = first(checksums);
            if (ifscBody != null) {
                sourceBlocks = (ifscBody.length - 16) / 20;
            }
            return new Info(
                    trouble == null,
                    trouble,
                    name,
                    fileSize,
                    blockSize,
                    sourceBlocks,
                    exponents.size(),
                    md5Full,
                    md5First,
                    size);
        }
    }

    /** The name in a description body ends at its NUL padding. */
    private static int nameEnd(byte[] fileDescBody) {
        int end = fileDescBody.length;
        while (end > 56 && fileDescBody[end - 1] == 0) {
            end--;
        }
        return end;
    }

    private static byte[] first(Map<String, byte[]> byFile) {
        return byFile.isEmpty() ? null : byFile.values().iterator().next();
    }

    private static long le64(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static int le32(byte[] b, int at) {
        return ByteBuffer.wrap(b, at, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static MessageDigest md5() {
        try {
            return MessageDigest.getInstance("MD5");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has MD5", e);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }
}
