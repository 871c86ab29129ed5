package io.custos.scan;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code exclude} globs, matched against the name of a file or directory (not its path):
 * {@code *} any run of characters, {@code ?} one, {@code [abc]} a class, {@code {a,b}} either.
 * Names are matched as raw bytes, so a name that is not valid UTF-8 can still be excluded.
 */
public final class Exclusions {
    private final List<byte[]> literals = new ArrayList<>();
    /** Matched against names that are valid UTF-8: {@code ?} is one character. */
    private final List<Pattern> globs = new ArrayList<>();
    /** Matched against the raw bytes of other names: {@code ?} is one byte. */
    private final List<Pattern> byteGlobs = new ArrayList<>();

    /** {@code *.tmp}: names ending so; {@code backup*}: names starting so. Byte comparisons, no regex. */
    private final List<byte[]> suffixes = new ArrayList<>();

    private final List<byte[]> prefixes = new ArrayList<>();

    public Exclusions(List<String> patterns) {
        for (String p : patterns) {
            if (!hasMeta(p, 0, p.length())) {
                literals.add(p.getBytes(StandardCharsets.UTF_8));
            } else if (p.length() > 1 && p.charAt(0) == '*' && !hasMeta(p, 1, p.length())) {
                suffixes.add(p.substring(1).getBytes(StandardCharsets.UTF_8));
            } else if (p.length() > 1 && p.charAt(p.length() - 1) == '*' && !hasMeta(p, 0, p.length() - 1)) {
                prefixes.add(p.substring(0, p.length() - 1).getBytes(StandardCharsets.UTF_8));
            } else {
                globs.add(Pattern.compile(toRegex(p), Pattern.DOTALL));
                String bytewise = new String(p.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
                byteGlobs.add(Pattern.compile(toRegex(bytewise), Pattern.DOTALL));
            }
        }
    }

    /** Whether the name in {@code buf[from..to)} is excluded. */
    public boolean excludes(byte[] buf, int from, int to) {
        int len = to - from;
        for (byte[] lit : literals) {
            if (lit.length == len && Arrays.equals(lit, 0, lit.length, buf, from, to)) {
                return true;
            }
        }
        for (byte[] suf : suffixes) {
            if (suf.length <= len && Arrays.equals(suf, 0, suf.length, buf, to - suf.length, to)) {
                return true;
            }
        }
        for (byte[] pre : prefixes) {
            if (pre.length <= len && Arrays.equals(pre, 0, pre.length, buf, from, from + pre.length)) {
                return true;
            }
        }
        if (globs.isEmpty()) {
            return false;
        }
        List<Pattern> use = globs;
        String name;
        if (ascii(buf, from, to)) {
            name = new String(buf, from, to - from, StandardCharsets.ISO_8859_1);
        } else {
            try {
                name = StandardCharsets.UTF_8
                        .newDecoder()
                        .onMalformedInput(CodingErrorAction.REPORT)
                        .onUnmappableCharacter(CodingErrorAction.REPORT)
                        .decode(ByteBuffer.wrap(buf, from, to - from))
                        .toString();
            } catch (CharacterCodingException e) {
                name = new String(buf, from, to - from, StandardCharsets.ISO_8859_1);
                use = byteGlobs;
            }
        }
        for (Pattern g : use) {
            if (g.matcher(name).matches()) {
                return true;
            }
        }
        return false;
    }

    private static boolean hasMeta(String p, int from, int to) {
        for (int i = from; i < to; i++) {
            char c = p.charAt(i);
            if (c == '*' || c == '?' || c == '[' || c == '{' || c == '\\') {
                return true;
            }
        }
        return false;
    }

    private static boolean ascii(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] < 0) {
                return false;
            }
        }
        return true;
    }

    public boolean excludes(String name) {
        byte[] b = name.getBytes(StandardCharsets.UTF_8);
        return excludes(b, 0, b.length);
    }

    static String toRegex(String glob) {
        StringBuilder re = new StringBuilder();
        int braces = 0;
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            switch (c) {
                case '*' -> re.append(".*");
                case '?' -> re.append('.');
                case '[' -> {
                    int end = glob.indexOf(']', i + 2);
                    if (end < 0) {
                        re.append("\\[");
                    } else {
                        String body = glob.substring(i + 1, end);
                        if (body.startsWith("!")) {
                            body = "^" + body.substring(1);
                        }
                        re.append('[')
                                .append(body.replace("\\", "\\\\").replace("[", "\\["))
                                .append(']');
                        i = end;
                    }
                }
                case '{' -> {
                    braces++;
                    re.append("(?:");
                }
                case '}' -> {
                    if (braces > 0) {
                        braces--;
                        re.append(')');
                    } else {
                        re.append("\\}");
                    }
                }
                case ',' -> re.append(braces > 0 ? "|" : ",");
                case '\\' -> {
                    if (i + 1 < glob.length()) {
                        re.append(Pattern.quote(String.valueOf(glob.charAt(++i))));
                    } else {
                        re.append("\\\\");
                    }
                }
                default -> re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        while (braces-- > 0) {
            re.append(')');
        }
        return re.toString();
    }
}
