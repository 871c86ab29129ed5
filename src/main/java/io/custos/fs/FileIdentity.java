package io.custos.fs;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.concurrent.TimeUnit;

/**
 * What the kernel says about one directory entry, without following symlinks: type, size,
 * mtime in nanoseconds, device and inode.
 */
public record FileIdentity(Kind kind, long size, long mtimeNs, long device, long inode, int links) {

    /** The types the walk tells apart. */
    public enum Kind {
        FILE,
        DIRECTORY,
        SYMLINK,
        OTHER
    }

    private static final MethodHandle DEV;
    private static final MethodHandle INO;
    private static final MethodHandle NLINK;

    static {
        MethodHandle dev = null;
        MethodHandle ino = null;
        try {
            Class<?> key = Class.forName("sun.nio.fs.UnixFileKey");
            MethodHandles.Lookup lookup = MethodHandles.privateLookupIn(key, MethodHandles.lookup());
            dev = lookup.findGetter(key, "st_dev", long.class);
            ino = lookup.findGetter(key, "st_ino", long.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            dev = null;
            ino = null;
        }
        DEV = dev;
        INO = ino;
        MethodHandle nlink = null;
        try {
            Class<?> attrs = Class.forName("sun.nio.fs.UnixFileAttributes");
            nlink = MethodHandles.privateLookupIn(attrs, MethodHandles.lookup())
                    .findGetter(attrs, "st_nlink", int.class);
        } catch (ReflectiveOperationException | RuntimeException e) {
            nlink = null;
        }
        NLINK = nlink;
    }

    /** lstat(2) of a path. */
    public static FileIdentity of(Path path) throws IOException {
        // The POSIX view hands back the kernel's stat as is (the owner's name is looked up only when asked).
        return of(Files.readAttributes(path, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS));
    }

    /** Identity from attributes already read (with NOFOLLOW_LINKS). */
    public static FileIdentity of(BasicFileAttributes a) {
        Kind kind = a.isRegularFile()
                ? Kind.FILE
                : a.isDirectory() ? Kind.DIRECTORY : a.isSymbolicLink() ? Kind.SYMLINK : Kind.OTHER;
        long mtime = a.lastModifiedTime().to(TimeUnit.NANOSECONDS);
        Object key = a.fileKey();
        long dev;
        long ino;
        if (key != null && DEV != null) {
            try {
                dev = (long) DEV.invoke(key);
                ino = (long) INO.invoke(key);
            } catch (Throwable e) {
                throw new IllegalStateException("cannot read file key", e);
            }
        } else {
            long[] parsed = parseKey(key);
            dev = parsed[0];
            ino = parsed[1];
        }
        return new FileIdentity(kind, a.size(), mtime, dev, ino, links(a));
    }

    /** The link count; 2 (unknown, maybe linked) where it cannot be read. */
    private static int links(BasicFileAttributes a) {
        if (NLINK != null && a.getClass().getName().equals("sun.nio.fs.UnixFileAttributes")) {
            try {
                return (int) NLINK.invoke(a);
            } catch (Throwable e) {
                return 2;
            }
        }
        return 2;
    }

    /** Parses {@code (dev=803,ino=1234)}, the JDK's text for a Unix file key. */
    static long[] parseKey(Object key) {
        if (key == null) {
            return new long[] {0, 0};
        }
        String s = key.toString();
        long dev = 0;
        long ino = 0;
        for (String part : s.replace("(", "").replace(")", "").split(",")) {
            String[] kv = part.split("=");
            if (kv.length == 2 && kv[0].trim().equals("dev")) {
                dev = Long.parseUnsignedLong(kv[1].trim(), kv[1].trim().matches("[0-9]+") ? 10 : 16);
            } else if (kv.length == 2 && kv[0].trim().equals("ino")) {
                ino = Long.parseUnsignedLong(kv[1].trim());
            }
        }
        return new long[] {dev, ino};
    }
}
