package dev.xps.agent.testsupport;

import dev.xps.agent.bpf.BpfObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A child JVM running one of the test mains (a server, an agent to kill), with its output (stdout and
 * stderr merged) collected line by line. {@link #close()} ends it; a child also exits by itself when its
 * stdin closes, so none outlives the test JVM.
 */
public final class JavaChild implements AutoCloseable {
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final String name;

    private JavaChild(Process process, String name) {
        this.process = process;
        this.name = name;
        Thread reader = Thread.ofPlatform().daemon().name("child-" + name).start(() -> {
            try (BufferedReader r = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (lines) {
                        lines.add(line);
                        lines.notifyAll();
                    }
                }
            } catch (IOException ignored) {
                // the child ended
            }
        });
    }

    /** Starts {@code java --enable-native-access=ALL-UNNAMED -cp <test and main classes> main args...}. */
    public static JavaChild start(Class<?> main, String... args) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("-Xmx64m");
        cmd.add("-XX:TieredStopAtLevel=1");
        // AF_INET sockets: by default the JDK opens dual-stack AF_INET6 sockets even for 127.0.0.1, which
        // sock_ops then sees as family AF_INET6 with a v4-mapped address
        cmd.add("-Djava.net.preferIPv4Stack=true");
        cmd.add("-cp");
        cmd.add(String.join(java.io.File.pathSeparator, location(main), location(BpfObject.class),
                location(dev.xps.runtime.MapLayout.class)));
        cmd.add(main.getName());
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        return new JavaChild(p, main.getSimpleName());
    }

    private static String location(Class<?> c) {
        try {
            return Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    public long pid() {
        return process.pid();
    }

    /** Waits for an output line matching {@code match}; fails with everything the child said on timeout. */
    public String awaitLine(Predicate<String> match, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            int seen = 0;
            while (true) {
                for (; seen < lines.size(); seen++) {
                    if (match.test(lines.get(seen))) {
                        return lines.get(seen);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && seen == lines.size())) {
                    throw new AssertionError(name + " did not print the expected line within " + timeout
                            + (process.isAlive() ? "" : " (it exited " + process.exitValue() + ")")
                            + "; it said:\n  " + String.join("\n  ", lines));
                }
                try {
                    lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    /** Waits for a line starting with {@code prefix} and returns the rest. */
    public String awaitPrefixed(String prefix, Duration timeout) {
        return awaitLine(l -> l.startsWith(prefix), timeout).substring(prefix.length());
    }

    /** Everything printed so far. */
    public List<String> output() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** SIGKILL, then waits for it to be gone. */
    public void kill9() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError(name + " survived SIGKILL for 10 s");
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** For child mains: exits the JVM when the parent closes our stdin (or dies), or after {@code limit}. */
    public static void exitWithParent(Duration limit) {
        Thread.ofPlatform().daemon().start(() -> {
            try {
                while (System.in.read() >= 0) {
                    // ignore input
                }
            } catch (IOException ignored) {
                // parent gone
            }
            Runtime.getRuntime().halt(0);
        });
        Thread.ofPlatform().daemon().start(() -> {
            try {
                Thread.sleep(limit.toMillis());
            } catch (InterruptedException ignored) {
                // exit anyway
            }
            Runtime.getRuntime().halt(3);
        });
    }
}
