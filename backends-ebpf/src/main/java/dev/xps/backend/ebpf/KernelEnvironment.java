package dev.xps.backend.ebpf;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether this machine can run the kernel tests: Linux, root (loading programs and pinning needs
 * CAP_BPF and CAP_NET_ADMIN, attaching to a cgroup CAP_SYS_ADMIN), a BPF filesystem at
 * /sys/fs/bpf, clang with libbpf's headers, and bpftool. Checked once per JVM.
 */
final class KernelEnvironment {
    private static volatile Optional<String> cached;

    private KernelEnvironment() {}

    static Optional<String> unavailable() {
        Optional<String> c = cached;
        if (c == null) {
            c = probe();
            cached = c;
        }
        return c;
    }

    private static Optional<String> probe() {
        if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
            return Optional.of("the kernel tests need Linux");
        }
        if (!isRoot()) {
            return Optional.of("the kernel tests need root (loading BPF programs and attaching them)");
        }
        if (!Files.isDirectory(Bpftool.BPFFS) || !mounted("bpf", Bpftool.BPFFS)) {
            return Optional.of("no BPF filesystem mounted at " + Bpftool.BPFFS);
        }
        if (Clang.toolchain().isEmpty()) {
            return Optional.of(Clang.whyUnavailable());
        }
        return Bpftool.unavailable();
    }

    static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    String[] f = line.substring(4).trim().split("\\s+");
                    return f.length > 1 && f[1].equals("0"); // the effective uid
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** Whether a filesystem of {@code type} is mounted at {@code dir}. */
    static boolean mounted(String type, Path dir) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[1].equals(dir.toString()) && f[2].equals(type)) {
                    return true;
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** The cgroup v2 hierarchy's mount point (Debian 12 mounts it at /sys/fs/cgroup/unified under
     *  systemd's hybrid layout, at /sys/fs/cgroup in the unified one). */
    static Optional<Path> cgroup2() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[2].equals("cgroup2")) {
                    return Optional.of(Path.of(f[1]));
                }
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }
}
