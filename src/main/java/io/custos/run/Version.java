package io.custos.run;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** The version of this custos, from the jar's {@code version.properties}. */
public final class Version {
    private Version() {}

    public static String of() {
        try (InputStream in = Version.class.getResourceAsStream("/io/custos/version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }
}
