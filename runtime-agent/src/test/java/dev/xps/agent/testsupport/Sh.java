package dev.xps.agent.testsupport;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a command for test setup (ip, clang), bounded in time, with stdout and stderr merged. */
public final class Sh {
    public record Result(int exitCode, String output) {}

    private Sh() {}

    public static Result run(Duration timeout, String... command) throws IOException {
        return run(timeout, List.of(command));
    }

    public static Result run(Duration timeout, List<String> command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try {
            p.getOutputStream().close();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new IOException("timed out after " + timeout + ": " + String.join(" ", command));
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return new Result(p.exitValue(), out);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }

    /** Runs and requires exit code 0. */
    public static String check(String... command) {
        try {
            Result r = run(Duration.ofSeconds(30), command);
            if (r.exitCode() != 0) {
                throw new AssertionError("`" + String.join(" ", command) + "` exited " + r.exitCode() + ":\n"
                        + r.output());
            }
            return r.output();
        } catch (IOException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    /** Runs for cleanup: never throws, returns whether it exited 0. */
    public static boolean quietly(String... command) {
        try {
            return run(Duration.ofSeconds(30), command).exitCode() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
