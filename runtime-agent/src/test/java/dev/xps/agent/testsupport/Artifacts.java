package dev.xps.agent.testsupport;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * eBPF artifacts for the agent's tests, compiled from the repository's samples by running {@code bin/xpsc}
 * as a subprocess (it builds the compiler on demand, under a lock): the agent never links the compiler.
 */
public final class Artifacts {
    public static final Path REPO = Path.of(System.getProperty("xps.test.repoRoot", "..")).toAbsolutePath().normalize();
    private static final Path OUT = Path.of(System.getProperty("xps.test.artifacts", "target/xps-artifacts"));

    private Artifacts() {}

    /** Compiles {@code samples/<sample>.xps} into a fresh directory; returns {@code <dir>/ebpf/<sample>}. */
    public static Path sample(String sample) throws IOException {
        return compile(REPO.resolve("samples").resolve(sample + ".xps"), sample);
    }

    /**
     * Compiles a copy of {@code samples/<sample>.xps} with {@code from} replaced by {@code to} (e.g. another
     * port), under the name {@code <sample>} in a fresh directory.
     */
    public static Path variant(String sample, String... fromTo) throws IOException {
        String src = Files.readString(REPO.resolve("samples").resolve(sample + ".xps"));
        for (int i = 0; i < fromTo.length; i += 2) {
            if (!src.contains(fromTo[i])) {
                throw new IllegalArgumentException(sample + ".xps has no '" + fromTo[i] + "'");
            }
            src = src.replace(fromTo[i], fromTo[i + 1]);
        }
        Path dir = Files.createDirectories(OUT.resolve("src-" + Kernel.uniqueSuffix()));
        Path file = dir.resolve(sample + ".xps");
        Files.writeString(file, src);
        return compile(file, sample);
    }

    /** Compiles {@code source} as {@code <base>.xps} in a fresh directory; returns {@code <dir>/ebpf/<base>}. */
    public static Path source(String base, String source) throws IOException {
        Path dir = Files.createDirectories(OUT.resolve("src-" + Kernel.uniqueSuffix()));
        Path file = dir.resolve(base + ".xps");
        Files.writeString(file, source);
        return compile(file, base);
    }

    /** The generic composite object ({@code bin/xpsc composite -o DIR}); returns {@code DIR/ebpf/xps-composite}. */
    public static Path composite() throws IOException {
        return composite("tcp");
    }

    /**
     * The generic composite object for {@code protocol} ({@code bin/xpsc composite --protocol P -o DIR}); returns
     * {@code DIR/ebpf/xps-composite} (tcp) or {@code DIR/ebpf/xps-composite-udp} (udp).
     */
    public static Path composite(String protocol) throws IOException {
        Path out = Files.createDirectories(OUT).resolve("out-" + Kernel.uniqueSuffix());
        List<String> cmd = List.of(REPO.resolve("bin/xpsc").toString(), "composite", "--protocol", protocol, "-o",
                out.toString());
        Path jar = REPO.resolve("cli/target/xpsc.jar");
        Sh.Result r = run(cmd, fresh(jar));
        String base = protocol.equals("tcp") ? "xps-composite" : "xps-composite-" + protocol;
        Path dir = out.resolve("ebpf").resolve(base);
        if (r.exitCode() != 0 || !Files.isRegularFile(dir.resolve(base + ".bpf.o"))) {
            throw new AssertionError("bin/xpsc " + String.join(" ", cmd.subList(1, cmd.size())) + " exited "
                    + r.exitCode() + " without " + dir.resolve(base + ".bpf.o") + ":\n" + r.output());
        }
        return dir;
    }

    private static Sh.Result run(List<String> cmd, boolean noBuild) throws IOException {
        List<String> full = new ArrayList<>(List.of("env", "XPSC_NO_BUILD=" + (noBuild ? "1" : "0")));
        full.addAll(cmd);
        return Sh.run(Duration.ofMinutes(5), full);
    }

    /** The jar is newer than every pom.xml and every main source the compiler is built from (not this module's). */
    private static boolean fresh(Path jar) throws IOException {
        if (!Files.isRegularFile(jar)) {
            return false;
        }
        var built = Files.getLastModifiedTime(jar);
        try (var s = Files.walk(REPO)) {
            return s.filter(p -> !p.startsWith(REPO.resolve("runtime-agent")) && !p.startsWith(REPO.resolve(".git"))
                            && !p.toString().contains("/target/") && !p.toString().contains("/out/"))
                    .filter(p -> p.getFileName().toString().equals("pom.xml") || p.toString().contains("/src/main/"))
                    .filter(Files::isRegularFile)
                    .noneMatch(p -> {
                        try {
                            return Files.getLastModifiedTime(p).compareTo(built) > 0;
                        } catch (IOException e) {
                            return true;
                        }
                    });
        }
    }

    private static Path compile(Path xps, String base) throws IOException {
        Path out = Files.createDirectories(OUT).resolve("out-" + Kernel.uniqueSuffix());
        List<String> cmd = new ArrayList<>(List.of(REPO.resolve("bin/xpsc").toString(), "compile", xps.toString(),
                "--target", "ebpf", "-o", out.toString()));
        Path jar = REPO.resolve("cli/target/xpsc.jar");
        Sh.Result r = fresh(jar) ? run(cmd, true) : run(cmd, false);
        if (r.exitCode() != 0 && Files.isRegularFile(jar) && r.output().contains("build failed")) {
            // the tree does not build right now (someone's work in progress elsewhere): use the jar there is
            System.err.println("WARNING: bin/xpsc could not rebuild the compiler; using the existing " + jar);
            r = run(cmd, true);
        }
        Path dir = out.resolve("ebpf").resolve(base);
        if (r.exitCode() != 0 || !Files.isRegularFile(dir.resolve(base + ".bpf.o"))) {
            throw new AssertionError("bin/xpsc " + String.join(" ", cmd.subList(1, cmd.size())) + " exited "
                    + r.exitCode() + " without " + dir.resolve(base + ".bpf.o") + ":\n" + r.output());
        }
        return dir;
    }
}
