package io.custos.fs;

import java.util.regex.Pattern;

/**
 * {@code --path GLOB}: a shell-style pattern matched against a file's path relative to its root
 * and against {@code root/path}. {@code *} and {@code ?} stay within one path segment, {@code **}
 * crosses segments, {@code [...]} is a character class. Non-UTF-8 bytes of a name match as their
 * {@code \xNN} escapes, the way custos prints them.
 */
public final class PathGlob {
    private final Pattern pattern;
    private final String text;

    public PathGlob(String glob) {
        this.text = glob;
        this.pattern = Pattern.compile(toRegex(glob), Pattern.DOTALL);
    }

    public boolean matches(String root, byte[] relPath) {
        String rel = RawPaths.display(relPath);
        return pattern.matcher(rel).matches()
                || pattern.matcher(root + "/" + rel).matches();
    }

    @Override
    public String toString() {
        return text;
    }

    static String toRegex(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            if (c == '*') {
                if (i + 1 < glob.length() && glob.charAt(i + 1) == '*') {
                    i++;
                    if (i + 1 < glob.length() && glob.charAt(i + 1) == '/') {
                        i++;
                        re.append("(?:.*/)?"); // **/ also matches no directory at all
                    } else {
                        re.append(".*");
                    }
                } else {
                    re.append("[^/]*");
                }
            } else if (c == '?') {
                re.append("[^/]");
            } else if (c == '[') {
                int end = glob.indexOf(']', i + 2);
                if (end < 0) {
                    re.append("\\[");
                } else {
                    String cls = glob.substring(i + 1, end);
                    if (cls.startsWith("!")) {
                        cls = "^" + cls.substring(1);
                    }
                    re.append('[').append(cls.replace("\\", "\\\\")).append(']');
                    i = end;
                }
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return re.toString();
    }
}
