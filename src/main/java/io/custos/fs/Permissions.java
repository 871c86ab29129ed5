package io.custos.fs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;

/**
 * Gives what custos creates the mode 0666 (files) or 0777 (directories) minus
 * {@code process.umask}. The JVM cannot set its own umask, so the mode is set after creation.
 */
public final class Permissions {
    private static final PosixFilePermission[] BITS = {
        PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
        PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
        PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ
    };

    private final int umask;

    public Permissions(int umask) {
        this.umask = umask;
    }

    /** The mode for a new file or directory, as permission bits. */
    public Set<PosixFilePermission> mode(boolean directory) {
        int mode = (directory ? 0777 : 0666) & ~umask;
        Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
        for (int i = 0; i < BITS.length; i++) {
            if ((mode & (1 << i)) != 0) {
                out.add(BITS[i]);
            }
        }
        return out;
    }

    /** Applies the mode to a path custos created; best effort on filesystems without POSIX modes. */
    public void apply(Path p) {
        try {
            Files.setPosixFilePermissions(p, mode(Files.isDirectory(p)));
        } catch (IOException | UnsupportedOperationException e) {
            // e.g. a FAT or SMB mount: the filesystem decides
        }
    }

    /** Creates a directory (and missing parents), giving each one it creates the mode. */
    public Path createDirectories(Path dir) throws IOException {
        Path abs = dir.toAbsolutePath();
        if (Files.isDirectory(abs)) {
            return abs;
        }
        if (abs.getParent() != null) {
            createDirectories(abs.getParent());
        }
        try {
            Files.createDirectory(abs);
            apply(abs);
        } catch (java.nio.file.FileAlreadyExistsException e) {
            if (!Files.isDirectory(abs)) {
                throw e;
            }
        }
        return abs;
    }
}
