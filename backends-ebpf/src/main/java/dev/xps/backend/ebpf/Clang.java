package dev.xps.backend.ebpf;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Builds a generated {@code .bpf.c} into a BPF object with the system's clang:
 * {@code clang -O2 -g -target bpf -mcpu=v3 -I<dir> -idirafter <system include dirs> -c}.
 *
 * <p>With {@code -target bpf} clang does not search the host's multiarch include directory, where
 * Debian keeps {@code asm/types.h} (which {@code linux/bpf.h} needs); like libbpf-bootstrap's
 * Makefile, the system directories are taken from {@code clang -v -E -} and passed with
 * {@code -idirafter}. {@code bpf/bpf_helpers.h} comes from libbpf's headers (Debian: libbpf-dev).
 * The clang used is {@code -Dxps.clang}, else {@code $XPS_CLANG}, else {@code clang} on the PATH.
 */
final class Clang {
    static final List<String> FLAGS = List.of("-O2", "-g", "-target", "bpf", "-mcpu=v3");

    private static volatile Optional<Toolchain> cached;
    private static volatile String cachedFor;

    /** A clang that can build BPF objects here, with the include directories it needs. */
    record Toolchain(String clang, List<String> systemIncludes) {}

    /** What compiling one object produced. */
    sealed interface Result {
        record Built(byte[] object) implements Result {}

        record Failed(String output) implements Result {}
    }

    private Clang() {}

    /** The toolchain, or empty with {@link #whyUnavailable()} saying why. */
    static Optional<Toolchain> toolchain() {
        String clang = clangCommand();
        Optional<Toolchain> t = cached;
        if (t == null || !clang.equals(cachedFor)) {
            t = probe(clang);
            cached = t;
            cachedFor = clang;
        }
        return t;
    }

    /** {@code -Dxps.clang=...}, else {@code $XPS_CLANG}, else {@code clang}. */
    static String clangCommand() {
        String c = System.getProperty("xps.clang");
        if (c == null || c.isBlank()) {
            c = System.getenv("XPS_CLANG");
        }
        return c == null || c.isBlank() ? "clang" : c;
    }

    private static String unavailable = "";

    static String whyUnavailable() {
        toolchain();
        return unavailable;
    }

    private static synchronized Optional<Toolchain> probe(String clang) {
        Process.Outcome version = Process.run(List.of(clang, "--version"), null, 30);
        if (version.exitCode() != 0) {
            unavailable = "clang not found (" + clang + "); install clang or set XPS_CLANG";
            return Optional.empty();
        }
        Process.Outcome v = Process.run(List.of(clang, "-v", "-E", "-x", "c", "-"), new byte[0], 30);
        List<String> includes = new ArrayList<>();
        boolean in = false;
        for (String line : v.output().lines().toList()) {
            if (line.startsWith("#include <...> search starts here:")) {
                in = true;
            } else if (line.startsWith("End of search list.")) {
                in = false;
            } else if (in) {
                includes.add(line.trim());
            }
        }
        boolean helpers = includes.stream().anyMatch(d -> Files.exists(Path.of(d, "bpf", "bpf_helpers.h")));
        if (!helpers) {
            unavailable = "libbpf's headers (bpf/bpf_helpers.h) not found in " + includes
                    + "; install libbpf-dev";
            return Optional.empty();
        }
        return Optional.of(new Toolchain(clang, List.copyOf(includes)));
    }

    /** The command that builds {@code source} in {@code dir} into {@code object}. */
    static List<String> command(Toolchain t, Path dir, String source, String object) {
        List<String> cmd = new ArrayList<>();
        cmd.add(t.clang());
        cmd.addAll(FLAGS);
        cmd.add("-I" + dir);
        // the build directory is temporary: keep it out of the object's debug info (reproducible builds)
        cmd.add("-fdebug-prefix-map=" + dir + "=.");
        for (String inc : t.systemIncludes()) {
            cmd.add("-idirafter");
            cmd.add(inc);
        }
        cmd.add("-c");
        cmd.add(dir.resolve(source).toString());
        cmd.add("-o");
        cmd.add(dir.resolve(object).toString());
        return cmd;
    }

    /** Compiles {@code files} (name to content; the first .bpf.c among them) in a fresh directory. */
    static Result compile(Toolchain t, Map<String, String> files, String source) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("xpsebpf-build-");
            for (Map.Entry<String, String> f : files.entrySet()) {
                Files.writeString(dir.resolve(f.getKey()), f.getValue(), StandardCharsets.UTF_8);
            }
            String object = source.replaceFirst("\\.c$", ".o");
            Process.Outcome out = Process.run(command(t, dir, source, object), null, 300);
            if (out.exitCode() != 0) {
                return new Result.Failed(out.output().replace(dir + "/", ""));
            }
            return new Result.Built(Files.readAllBytes(dir.resolve(object)));
        } catch (IOException e) {
            return new Result.Failed("cannot run clang: " + e.getMessage());
        } finally {
            deleteTree(dir);
        }
    }

    static void deleteTree(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            // a temporary directory left behind is not worth failing a compile for
        }
    }

    /** Runs a command, with a time limit, collecting stdout and stderr together. */
    static final class Process {
        record Outcome(int exitCode, String output) {}

        private Process() {}

        static Outcome run(List<String> command, byte[] stdin, long timeoutSeconds) {
            try {
                java.lang.Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
                if (stdin != null) {
                    p.getOutputStream().write(stdin);
                }
                p.getOutputStream().close();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    return new Outcome(-1, command.getFirst() + " did not finish in " + timeoutSeconds + " s");
                }
                return new Outcome(p.exitValue(), new String(out, StandardCharsets.UTF_8));
            } catch (IOException e) {
                return new Outcome(-1, e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return new Outcome(-1, "interrupted");
            }
        }
    }
}
