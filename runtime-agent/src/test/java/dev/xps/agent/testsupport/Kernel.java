package dev.xps.agent.testsupport;

import dev.xps.agent.bpf.Preflight;
import dev.xps.agent.bpf.PreflightException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Assumptions;

/**
 * What the kernel tests need: root and a working bpf() (else they skip, saying why), the test BPF programs
 * compiled with clang (missing clang fails: CI installs it), and unique names for global things.
 */
public final class Kernel {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Map<String, Path> COMPILED = new ConcurrentHashMap<>();
    private static volatile String unavailable;
    private static volatile boolean checked;

    private Kernel() {}

    /** Skips the calling test (with the reason printed) unless this process can use BPF. */
    public static void assumeBpf() {
        if (!checked) {
            synchronized (Kernel.class) {
                if (!checked) {
                    try {
                        Preflight.requirePrivileges();
                        Preflight.requireLibbpf();
                        Preflight.requireBpfSyscall();
                    } catch (PreflightException e) {
                        unavailable = e.getMessage();
                        System.err.println("SKIPPING kernel tests: " + unavailable);
                    }
                    checked = true;
                }
            }
        }
        Assumptions.assumeTrue(unavailable == null, () -> "kernel tests need root and BPF: " + unavailable);
    }

    /** 6 random base-36 characters: with the {@code xpsagent-} prefix a name fits an interface's 15. */
    public static String uniqueSuffix() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            sb.append(Character.forDigit(RANDOM.nextInt(36), 36));
        }
        return sb.toString();
    }

    /** {@code xpsagent-<6 chars>}. */
    public static String uniqueName() {
        return "xpsagent-" + uniqueSuffix();
    }

    /** A fresh pin root for one test: {@code /sys/fs/bpf/xpsagent-test-<6 chars>} (not created). */
    public static Path pinRoot() {
        return Path.of("/sys/fs/bpf/xpsagent-test-" + uniqueSuffix());
    }

    /** Deletes a directory tree (e.g. a test's pin root: unpinning everything in it); quiet if absent. */
    public static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            System.err.println("WARNING: could not remove " + root + ": " + e);
        }
    }

    /** Polls {@code condition} every 20 ms for up to {@code timeout}. */
    public static boolean eventually(java.time.Duration timeout, java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
    }

    /**
     * Compiles {@code src/test/bpf/<name>.bpf.c} with {@code clang -O2 -g -target bpf -mcpu=v3} into
     * {@code target/bpf-test-objects/<name>.bpf.o}, once per JVM.
     */
    public static Path bpfObject(String name) {
        return COMPILED.computeIfAbsent(name, Kernel::compile);
    }

    private static Path compile(String name) {
        Path src = Path.of(System.getProperty("xps.test.bpfSrc", "src/test/bpf")).resolve(name + ".bpf.c");
        Path outDir = Path.of(System.getProperty("xps.test.bpfOut", "target/bpf-test-objects"));
        Path out = outDir.resolve(name + ".bpf.o");
        try {
            Files.createDirectories(outDir);
            String arch = switch (System.getProperty("os.arch")) {
                case "amd64", "x86_64" -> "x86_64-linux-gnu";
                case "aarch64" -> "aarch64-linux-gnu";
                default -> System.getProperty("os.arch") + "-linux-gnu";
            };
            Sh.Result r = Sh.run(java.time.Duration.ofSeconds(120), "clang", "-O2", "-g", "-target", "bpf",
                    "-mcpu=v3", "-I/usr/include/" + arch, "-c", src.toAbsolutePath().toString(), "-o",
                    out.toAbsolutePath().toString());
            if (r.exitCode() != 0) {
                throw new AssertionError("clang failed on " + src + ":\n" + r.output());
            }
            return out.toAbsolutePath();
        } catch (IOException e) {
            throw new AssertionError("cannot run clang (install it: apt-get install clang libbpf-dev): " + e, e);
        }
    }
}
