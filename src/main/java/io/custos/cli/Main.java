package io.custos.cli;

import io.custos.run.CancelToken;
import java.io.PrintStream;
import java.lang.reflect.Proxy;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;

/** The entry point; the only place that calls {@code System.exit}. */
public final class Main {
    private Main() {}

    public static void main(String[] args) {
        CancelToken cancel = new CancelToken();
        onSignals(cancel);
        PrintStream out =
                new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        PrintStream err =
                new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8);
        Context ctx = new Context(
                System.getenv(),
                Clock.systemUTC(),
                out,
                err,
                cancel,
                hostName(),
                Path.of("").toAbsolutePath());
        int code = Cli.run(args, ctx);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * SIGINT and SIGTERM ask the run to stop at the next safe point (it commits its batch and exits
     * 130); a second signal stops at once, which SQLite's journal also survives.
     */
    private static void onSignals(CancelToken cancel) {
        try {
            Class<?> signal = Class.forName("sun.misc.Signal");
            Class<?> handler = Class.forName("sun.misc.SignalHandler");
            Object h = Proxy.newProxyInstance(Main.class.getClassLoader(), new Class<?>[] {handler}, (p, m, a) -> {
                if (m.getName().equals("handle")) {
                    if (cancel.cancelled()) {
                        Runtime.getRuntime().halt(130);
                    }
                    cancel.cancel();
                }
                return null;
            });
            for (String name : new String[] {"INT", "TERM"}) {
                Object sig = signal.getConstructor(String.class).newInstance(name);
                signal.getMethod("handle", signal, handler).invoke(null, sig, h);
            }
        } catch (ReflectiveOperationException | RuntimeException e) {
            // Without signal handling the JVM's default applies: SQLite still keeps the catalog consistent.
        }
    }

    private static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isEmpty()) {
            return h;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (java.io.IOException e) {
            return "localhost";
        }
    }
}
