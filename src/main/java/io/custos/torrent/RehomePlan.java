package io.custos.torrent;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.custos.run.CustosException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * A rehome plan file (JSON, snake_case): what {@code rehome plan} decided and why, every sibling
 * torrent with where it goes, the source and target paths, files and bytes, and the fingerprint of
 * the facts it relied on. {@code rehome apply} plans again and refuses when the fingerprint
 * differs.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record RehomePlan(
        String format,
        int version,
        String createdAt,
        String host,
        String direction,
        String decision,
        List<String> reasons,
        Request request,
        String payloadHash,
        String stashRoot,
        String poolRoot,
        Place source,
        Place target,
        Boolean sameFilesystem,
        long files,
        long bytes,
        List<FileFact> fileList,
        List<Sibling> siblings,
        List<String> sourceInstances,
        List<Place> views,
        String fingerprint) {

    public static final String FORMAT = "custos-rehome-plan";
    public static final int VERSION = 1;

    public static final String BLOCK = "BLOCK";
    public static final String REUSE = "REUSE";
    public static final String MOVE = "MOVE";

    /** What was asked: {@code demote} or {@code promote}, by torrent or by payload hash. */
    public record Request(String direction, String torrent, String payload) {}

    /** A payload instance: its path, {@code dir} or {@code file}, whether it exists. */
    public record Place(String path, String kind, boolean exists) {}

    /** One file of the payload: path relative to the content path. */
    public record FileFact(String path, long size, String sha256) {}

    /**
     * A sibling torrent and its part: {@code move} (pointed at the moved data), {@code reuse}
     * (pointed at a copy already there), {@code view} (pointed at a view of hardlinks built for its
     * layout) or {@code stays} (already on the target side, or elsewhere).
     */
    public record Sibling(
            String hash,
            String name,
            String state,
            String category,
            List<String> tags,
            String savePath,
            String contentPath,
            String location,
            String action,
            String targetSavePath,
            String targetContentPath) {}

    private static final ObjectMapper JSON = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public boolean blocked() {
        return BLOCK.equals(decision);
    }

    public String toJson() {
        try {
            return JSON.writeValueAsString(this);
        } catch (IOException e) {
            throw new IllegalStateException("cannot render a rehome plan", e);
        }
    }

    /** Reads a plan file; exit 2 when it is missing or not a rehome plan. */
    public static RehomePlan read(Path file) {
        try {
            RehomePlan p = JSON.readValue(Files.readAllBytes(file), RehomePlan.class);
            if (!FORMAT.equals(p.format()) || p.request() == null || p.fingerprint() == null) {
                throw CustosException.usage(file + " is not a rehome plan (custos rehome plan writes them)");
            }
            if (p.version() != VERSION) {
                throw CustosException.usage(file + " is a rehome plan of version " + p.version() + "; this custos reads"
                        + " version " + VERSION + ": make a new plan");
            }
            return p;
        } catch (NoSuchFileException e) {
            throw CustosException.usage("no plan file " + file);
        } catch (IOException e) {
            throw CustosException.usage(file + " is not a rehome plan: " + e.getMessage());
        }
    }
}
