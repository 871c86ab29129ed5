package io.custos.fs;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;

/**
 * Paths as the raw bytes the kernel stores. File names on a NAS are not always valid UTF-8 (old
 * Samba shares, ZIPs from other systems); the catalog keeps their exact bytes and must be able to
 * open them again. The JDK keeps those bytes inside {@code sun.nio.fs.UnixPath}; this class reads
 * and builds them there (the jar's manifest opens that package). Where the package is not open the
 * fallback encodes strings as UTF-8, which loses only names that are not UTF-8.
 */
public final class RawPaths {
    private static final FileSystem FS = FileSystems.getDefault();
    private static final MethodHandle AS_BYTES;
    private static final MethodHandle FROM_BYTES;

    static {
        MethodHandle asBytes = null;
        MethodHandle fromBytes = null;
        try {
            Class<?> unixPath = Class.forName("sun.nio.fs.UnixPath");
            Class<?> unixFs = Class.forName("sun.nio.fs.UnixFileSystem");
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(unixPath, MethodHandles.lookup());
            asBytes = lookup.findVirtual(unixPath, "asByteArray", MethodType.methodType(byte[].class));
            fromBytes = lookup.findConstructor(unixPath, MethodType.methodType(void.class, unixFs, byte[].class));
            if (!unixFs.isInstance(FS)) {
                asBytes = null;
                fromBytes = null;
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            asBytes = null;
            fromBytes = null;
        }
        AS_BYTES = asBytes;
        FROM_BYTES = fromBytes;
    }

    private RawPaths() {}

    /** True when names that are not valid UTF-8 can be read and opened exactly. */
    public static boolean exact() {
        return AS_BYTES != null && FROM_BYTES != null;
    }

    /** The bytes of a path as the kernel sees them. */
    public static byte[] bytes(Path path) {
        if (AS_BYTES != null) {
            try {
                return (byte[]) AS_BYTES.invoke(path);
            } catch (Throwable e) {
                throw new IllegalStateException("cannot read path bytes", e);
            }
        }
        return path.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** A path from raw bytes: '/'-separated, no empty or trailing components except a lone "/". */
    public static Path path(byte[] bytes) {
        if (FROM_BYTES != null) {
            try {
                return (Path) FROM_BYTES.invoke(FS, normalize(bytes));
            } catch (Throwable e) {
                throw new IllegalStateException("cannot build path from bytes", e);
            }
        }
        return FS.getPath(new String(bytes, StandardCharsets.UTF_8));
    }

    /** A path from a string a user typed or configured, encoded as UTF-8 whatever the locale. */
    public static Path path(String text) {
        return path(text.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code parent/child} from raw bytes. */
    public static Path resolve(Path parent, byte[] relative) {
        byte[] p = bytes(parent);
        if (relative.length == 0) {
            return parent;
        }
        boolean slash = p.length > 0 && p[p.length - 1] == '/';
        byte[] out = new byte[p.length + (slash ? 0 : 1) + relative.length];
        System.arraycopy(p, 0, out, 0, p.length);
        int at = p.length;
        if (!slash) {
            out[at++] = '/';
        }
        System.arraycopy(relative, 0, out, at, relative.length);
        return path(out);
    }

    /**
     * Text for people: valid UTF-8 as is, every other byte as {@code \xNN} (and a backslash as
     * {@code \\}) so that {@link #unescape} gives the bytes back.
     */
    public static String display(byte[] bytes) {
        if (isPlain(bytes)) {
            return new String(bytes, StandardCharsets.ISO_8859_1);
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8
                .newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        StringBuilder out = new StringBuilder(bytes.length + 8);
        int i = 0;
        while (i < bytes.length) {
            int b = bytes[i] & 0xff;
            if (b == '\\') {
                out.append("\\\\");
                i++;
            } else if (b < 0x80) {
                out.append((char) b);
                i++;
            } else {
                int len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
                String decoded = null;
                if (len > 1 && i + len <= bytes.length) {
                    try {
                        CharBuffer cb = decoder.decode(ByteBuffer.wrap(bytes, i, len));
                        decoded = cb.toString();
                    } catch (CharacterCodingException e) {
                        decoded = null;
                    }
                }
                if (decoded != null) {
                    out.append(decoded);
                    i += len;
                } else {
                    out.append(String.format("\\x%02x", b));
                    i++;
                }
            }
        }
        return out.toString();
    }

    /** Bytes back from {@link #display} text. */
    public static byte[] unescape(String text) {
        if (text.indexOf('\\') < 0) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(text.length());
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c == '\\' && i + 1 < text.length() && text.charAt(i + 1) == '\\') {
                out.write('\\');
                i += 2;
            } else if (c == '\\'
                    && i + 3 < text.length()
                    && text.charAt(i + 1) == 'x'
                    && isHex(text.charAt(i + 2))
                    && isHex(text.charAt(i + 3))) {
                out.write(Integer.parseInt(text.substring(i + 2, i + 4), 16));
                i += 4;
            } else {
                int cp = text.codePointAt(i);
                byte[] enc = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                out.write(enc, 0, enc.length);
                i += Character.charCount(cp);
            }
        }
        return out.toByteArray();
    }

    /** Whether {@code path} is {@code prefix} or lies under it (raw bytes, '/'-separated). */
    public static boolean under(byte[] path, byte[] prefix) {
        if (prefix.length == 0) {
            return true;
        }
        if (path.length < prefix.length || !java.util.Arrays.equals(path, 0, prefix.length, prefix, 0, prefix.length)) {
            return false;
        }
        return path.length == prefix.length || prefix[prefix.length - 1] == '/' || path[prefix.length] == '/';
    }

    /** Unsigned lexicographic order of byte strings: the order SQLite sorts BLOBs in. */
    public static int compare(byte[] a, byte[] b) {
        return java.util.Arrays.compareUnsigned(a, b);
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    private static boolean isPlain(byte[] bytes) {
        for (byte b : bytes) {
            if (b < 0 || b == '\\') {
                return false;
            }
        }
        return true;
    }

    private static byte[] normalize(byte[] in) {
        boolean clean = in.length > 0;
        for (int i = 0; i < in.length && clean; i++) {
            if (in[i] == 0 || (in[i] == '/' && (i == in.length - 1 ? in.length > 1 : in[i + 1] == '/'))) {
                clean = false;
            }
        }
        if (clean) {
            return in;
        }
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(in.length);
        for (int i = 0; i < in.length; i++) {
            byte b = in[i];
            if (b == 0) {
                throw new IllegalArgumentException("path contains a NUL byte");
            }
            if (b == '/' && (i + 1 < in.length ? in[i + 1] == '/' : out.size() > 0)) {
                continue;
            }
            out.write(b);
        }
        if (out.size() == 0) {
            return in.length == 0 ? new byte[0] : new byte[] {'/'};
        }
        return out.toByteArray();
    }
}
