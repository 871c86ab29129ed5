package io.custos.archive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.custos.fs.AtomicFiles;
import io.custos.fs.Permissions;
import io.custos.fs.RawPaths;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes a folder's new zip into its target directory {@code <target>/<NAME>/}, all or nothing:
 *
 * <pre>
 * NAME.zip       NAME.zip.md5       NAME.zip.sha256       metadata.json       .state.json
 * NAME.prev.zip  NAME.prev.zip.md5  NAME.prev.zip.sha256  metadata.prev.json
 * </pre>
 *
 * Sidecars are {@code <hex>  <file name>} lines that {@code md5sum -c} / {@code sha256sum -c} accept
 * in that directory, for both generations. With {@code keep} 2 the current generation becomes the
 * previous one (its sidecars rewritten to name {@code NAME.prev.zip}); with 1 no previous
 * generation is kept.
 *
 * <p>Everything new is first written as temp files in the directory itself and fsynced; then a
 * planned list of renames, each into a free name (whatever it replaces is first renamed to a backup
 * name), is recorded in a journal ({@code .custos-publish.json}) and carried out. Deleting the
 * journal is the commit; only then are the backups deleted. An error undoes the renames done so far
 * and deletes the temp files; after a crash, {@link #prepare} finds the journal and does the same.
 * Either way the directory is back to exactly what it was.
 */
public final class Publisher {
    static final String JOURNAL = ".custos-publish.json";
    static final String TMP_PREFIX = ".custos-tmp-";
    static final String BAK_PREFIX = ".custos-bak-";
    /** AtomicFiles' temp name for the journal. */
    private static final String JOURNAL_TMP_PREFIX = "." + JOURNAL + ".tmp-";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final AtomicLong COUNTER = new AtomicLong();

    /** The files of one folder's target directory; names are built from the directory name's raw bytes. */
    public record Layout(
            Path dir,
            Path zip,
            Path zipMd5,
            Path zipSha256,
            Path metadata,
            Path state,
            Path prevZip,
            Path prevMd5,
            Path prevSha256,
            Path prevMetadata) {

        public static Layout of(Path dir) {
            byte[] name = RawPaths.bytes(dir.getFileName());
            return new Layout(
                    dir,
                    in(dir, name, ".zip"),
                    in(dir, name, ".zip.md5"),
                    in(dir, name, ".zip.sha256"),
                    dir.resolve("metadata.json"),
                    dir.resolve(".state.json"),
                    in(dir, name, ".prev.zip"),
                    in(dir, name, ".prev.zip.md5"),
                    in(dir, name, ".prev.zip.sha256"),
                    dir.resolve("metadata.prev.json"));
        }

        /** The files of the previous generation. */
        public List<Path> previous() {
            return List.of(prevZip, prevMd5, prevSha256, prevMetadata);
        }

        private static Path in(Path dir, byte[] name, String suffix) {
            byte[] s = suffix.getBytes(StandardCharsets.US_ASCII);
            byte[] all = Arrays.copyOf(name, name.length + s.length);
            System.arraycopy(s, 0, all, name.length, s.length);
            return RawPaths.resolve(dir, all);
        }
    }

    /**
     * The next generation: the zip written to {@link #stagingZip}, its digests (lower-case hex), and
     * the bytes of {@code metadata.json} and {@code .state.json}.
     */
    public record Generation(Path stagedZip, String md5Hex, String sha256Hex, byte[] metadataJson, byte[] stateJson) {}

    /** Called before each step of a publish with its name; tests throw from it to fail that step. */
    interface StepHook {
        void before(String step) throws IOException;
    }

    private final Permissions permissions;
    private final StepHook hook;

    /** Files and directories it creates get {@code permissions}' mode (process.umask). */
    public Publisher(Permissions permissions) {
        this(permissions, step -> {});
    }

    Publisher(Permissions permissions, StepHook hook) {
        this.permissions = permissions;
        this.hook = hook;
    }

    /**
     * Makes the target directory ready for a publish: creates it when missing, undoes a publish
     * that was interrupted there (a crash between its first rename and its commit), and deletes
     * temp and backup files left by earlier runs. Call it first for every folder, before reading
     * {@code .state.json} (which an interrupted publish may have replaced) and before writing the
     * zip into {@link #stagingZip}; the job's run lock keeps other custos runs out meanwhile.
     */
    public Layout prepare(Path dir) throws IOException {
        permissions.createDirectories(dir);
        rollBackJournal(dir);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.startsWith(TMP_PREFIX) || name.startsWith(BAK_PREFIX) || name.startsWith(JOURNAL_TMP_PREFIX)) {
                    Files.deleteIfExists(p);
                }
            }
        }
        AtomicFiles.syncDirectory(dir);
        return Layout.of(dir);
    }

    /**
     * Whether a publish into {@code dir} was interrupted (its journal is there): the files in the
     * folder may be a mix of two generations until {@link #prepare} undoes it. Reads only, for
     * {@code --dry-run}.
     */
    public static boolean interrupted(Path dir) {
        return Files.exists(dir.resolve(JOURNAL), LinkOption.NOFOLLOW_LINKS);
    }

    /** A fresh temp path in {@code dir} for the next zip (not created): same filesystem, so publishing is a rename. */
    public Path stagingZip(Path dir) {
        return tempName(dir, "zip");
    }

    /**
     * Publishes {@code next} into {@code dir}, keeping {@code keep} (1 or 2) generations. From this
     * call on the staged zip belongs to the publisher: it is renamed into place, or deleted when the
     * publish fails.
     *
     * @throws IOException when any step fails; the directory is then exactly as before the call,
     *     without temp files (if even the undo fails, the journal stays for {@link #prepare})
     */
    public void publish(Path dir, Generation next, int keep) throws IOException {
        if (keep < 1 || keep > 2) {
            throw new IllegalArgumentException("keep must be 1 or 2, not " + keep);
        }
        Layout l = Layout.of(dir);
        List<Path> temps = new ArrayList<>();
        temps.add(next.stagedZip());
        Plan plan = new Plan();
        boolean journalWritten = false;
        try {
            rollBackJournal(dir);
            hook.before("stage");
            durable(next.stagedZip());
            Path md5 = stage(dir, temps, "md5", sidecar(next.md5Hex(), l.zip()));
            Path sha = stage(dir, temps, "sha256", sidecar(next.sha256Hex(), l.zip()));
            Path meta = stage(dir, temps, "metadata", next.metadataJson());
            Path state = stage(dir, temps, "state", next.stateJson());
            boolean rotate = keep == 2 && plan.present(l.zip());
            if (keep == 1 || rotate) {
                for (Path p : l.previous()) {
                    plan.remove(p);
                }
            }
            if (rotate) {
                Path prevMd5 =
                        stage(dir, temps, "prev-md5", sidecar(currentDigest(l.zipMd5(), l.zip(), "MD5"), l.prevZip()));
                Path prevSha = stage(
                        dir,
                        temps,
                        "prev-sha256",
                        sidecar(currentDigest(l.zipSha256(), l.zip(), "SHA-256"), l.prevZip()));
                plan.move(l.zip(), l.prevZip());
                if (plan.present(l.metadata())) {
                    plan.move(l.metadata(), l.prevMetadata());
                }
                plan.move(prevMd5, l.prevMd5());
                plan.move(prevSha, l.prevSha256());
            }
            plan.move(next.stagedZip(), l.zip());
            plan.move(md5, l.zipMd5());
            plan.move(sha, l.zipSha256());
            plan.move(meta, l.metadata());
            plan.move(state, l.state());

            hook.before("journal");
            writeJournal(dir, plan.steps, temps);
            journalWritten = true;
            for (Step s : plan.steps) {
                hook.before("rename " + s);
                s.run();
                plan.done++;
            }
            hook.before("sync");
            AtomicFiles.syncDirectory(dir);
            hook.before("commit");
            Files.delete(dir.resolve(JOURNAL));
            AtomicFiles.syncDirectory(dir);
        } catch (IOException | RuntimeException e) {
            undo(dir, plan, temps, journalWritten, e);
            throw e;
        }
        // Committed: what is left is the old generation's backups. One that cannot be deleted now is
        // deleted by the next prepare(); the publish itself has succeeded.
        try {
            hook.before("clean up");
        } catch (IOException e) {
            return;
        }
        for (Path b : plan.backups) {
            try {
                Files.deleteIfExists(b);
            } catch (IOException e) {
                // left for prepare()
            }
        }
        AtomicFiles.syncDirectory(dir);
    }

    /**
     * The sidecar line of {@code file}: {@code <hex>  <name>\n}. A name with a backslash or a
     * newline is escaped the way coreutils does it (a leading backslash, then {@code \\} and
     * {@code \n}), which {@code md5sum -c} and {@code sha256sum -c} read back.
     */
    static byte[] sidecar(String hex, Path file) {
        byte[] name = RawPaths.bytes(file.getFileName());
        ByteArrayOutputStream out = new ByteArrayOutputStream(hex.length() + name.length + 4);
        boolean escape = false;
        for (byte b : name) {
            escape |= b == '\\' || b == '\n';
        }
        if (escape) {
            out.write('\\');
        }
        out.writeBytes(hex.getBytes(StandardCharsets.US_ASCII));
        out.write(' ');
        out.write(' ');
        for (byte b : name) {
            if (escape && b == '\\') {
                out.write('\\');
                out.write('\\');
            } else if (escape && b == '\n') {
                out.write('\\');
                out.write('n');
            } else {
                out.write(b);
            }
        }
        out.write('\n');
        return out.toByteArray();
    }

    /** The digest of the current zip, from its sidecar; read from the zip itself when the sidecar is missing or garbled. */
    private static String currentDigest(Path sidecar, Path zip, String algorithm) throws IOException {
        int length = algorithm.equals("MD5") ? 32 : 64;
        if (Files.isRegularFile(sidecar, LinkOption.NOFOLLOW_LINKS) && Files.size(sidecar) < 64 * 1024) {
            String text = new String(Files.readAllBytes(sidecar), StandardCharsets.ISO_8859_1);
            if (text.startsWith("\\")) {
                text = text.substring(1);
            }
            String hex = text.length() > length ? text.substring(0, length).toLowerCase(java.util.Locale.ROOT) : "";
            if (text.length() > length && text.charAt(length) == ' ' && hex.matches("[0-9a-f]+")) {
                return hex;
            }
        }
        try (InputStream in = Files.newInputStream(zip, LinkOption.NOFOLLOW_LINKS)) {
            MessageDigest md = MessageDigest.getInstance(algorithm);
            byte[] buf = new byte[1 << 20];
            int n;
            while ((n = in.read(buf)) > 0) {
                md.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JDK", e);
        }
    }

    private Path stage(Path dir, List<Path> temps, String what, byte[] content) throws IOException {
        Path p = tempName(dir, what);
        temps.add(p);
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer b = ByteBuffer.wrap(content);
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        permissions.apply(p);
        return p;
    }

    private void durable(Path staged) throws IOException {
        try (FileChannel ch = FileChannel.open(staged, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        permissions.apply(staged);
    }

    private static Path tempName(Path dir, String what) {
        return dir.resolve(TMP_PREFIX + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet() + "-" + what);
    }

    /** Undoes the renames done so far, deletes the temp files and the journal; failures are added to {@code cause}. */
    private static void undo(Path dir, Plan plan, List<Path> temps, boolean journalWritten, Exception cause) {
        boolean clean = true;
        for (int i = plan.done - 1; i >= 0; i--) {
            Step s = plan.steps.get(i);
            try {
                Files.move(s.to, s.from, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException | RuntimeException e) {
                clean = false;
                cause.addSuppressed(e);
            }
        }
        for (Path t : temps) {
            try {
                Files.deleteIfExists(t);
            } catch (IOException | RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
        AtomicFiles.syncDirectory(dir);
        if (journalWritten && clean) {
            try {
                Files.deleteIfExists(dir.resolve(JOURNAL));
                AtomicFiles.syncDirectory(dir);
            } catch (IOException | RuntimeException e) {
                cause.addSuppressed(e);
            }
        }
    }

    private static void writeJournal(Path dir, List<Step> steps, List<Path> temps) throws IOException {
        ObjectNode root = JSON.createObjectNode();
        root.put("version", 1);
        ArrayNode s = root.putArray("renames");
        for (Step step : steps) {
            s.addArray().add(fileName(step.from)).add(fileName(step.to));
        }
        ArrayNode t = root.putArray("temps");
        for (Path p : temps) {
            t.add(fileName(p));
        }
        AtomicFiles.write(dir.resolve(JOURNAL), JSON.writeValueAsBytes(root), true);
    }

    /**
     * Undoes the publish a journal describes: the renames in reverse order, each only if it was
     * done (its target exists and its source does not), then deletes the temp files and the
     * journal. Running it twice does no harm.
     */
    static void rollBackJournal(Path dir) throws IOException {
        Path journal = dir.resolve(JOURNAL);
        if (!Files.exists(journal, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        JsonNode root = JSON.readTree(Files.readAllBytes(journal));
        JsonNode renames = root.path("renames");
        for (int i = renames.size() - 1; i >= 0; i--) {
            Path from = RawPaths.resolve(
                    dir, RawPaths.unescape(renames.get(i).get(0).asText()));
            Path to = RawPaths.resolve(
                    dir, RawPaths.unescape(renames.get(i).get(1).asText()));
            if (Files.exists(to, LinkOption.NOFOLLOW_LINKS) && !Files.exists(from, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(to, from, StandardCopyOption.ATOMIC_MOVE);
            }
        }
        for (JsonNode t : root.path("temps")) {
            Files.deleteIfExists(RawPaths.resolve(dir, RawPaths.unescape(t.asText())));
        }
        AtomicFiles.syncDirectory(dir);
        Files.delete(journal);
        AtomicFiles.syncDirectory(dir);
    }

    private static String fileName(Path p) {
        return RawPaths.display(RawPaths.bytes(p.getFileName()));
    }

    /** One rename into a name that is free at that point of the plan. */
    private record Step(Path from, Path to) {
        void run() throws IOException {
            if (Files.exists(to, LinkOption.NOFOLLOW_LINKS)) {
                throw new FileAlreadyExistsException(to.toString(), null, "appeared during the publish");
            }
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        }

        @Override
        public String toString() {
            return fileName(from) + " -> " + fileName(to);
        }
    }

    /** The renames of a publish, planned against what the directory holds (simulated as they go). */
    private static final class Plan {
        final List<Step> steps = new ArrayList<>();
        final List<Path> backups = new ArrayList<>();
        final Map<Path, Boolean> present = new HashMap<>();
        int done;

        boolean present(Path p) {
            return present.computeIfAbsent(p, q -> Files.exists(q, LinkOption.NOFOLLOW_LINKS));
        }

        /** Moves {@code p} out of the way to a backup name, deleted once the publish is committed. */
        void remove(Path p) {
            if (present(p)) {
                byte[] prefix = (BAK_PREFIX + ProcessHandle.current().pid() + "-" + COUNTER.incrementAndGet() + "-")
                        .getBytes(StandardCharsets.US_ASCII);
                byte[] name = RawPaths.bytes(p.getFileName());
                byte[] all = Arrays.copyOf(prefix, prefix.length + name.length);
                System.arraycopy(name, 0, all, prefix.length, name.length);
                Path bak = RawPaths.resolve(p.toAbsolutePath().getParent(), all);
                rename(p, bak);
                backups.add(bak);
            }
        }

        void move(Path from, Path to) {
            remove(to);
            rename(from, to);
        }

        private void rename(Path from, Path to) {
            steps.add(new Step(from, to));
            present.put(from, false);
            present.put(to, true);
        }
    }
}
