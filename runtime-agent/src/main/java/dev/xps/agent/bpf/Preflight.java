package dev.xps.agent.bpf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks that the machine can run the kernel target, each failure a distinct {@link PreflightException}
 * with a sentence that says what to do. {@link #check(Path)} runs them all in order; the agent calls it
 * before touching anything.
 */
public final class Preflight {
    /** statfs magic of a BPF filesystem. */
    static final long BPF_FS_MAGIC = 0xcafe4a11L;
    /** statfs magic of a cgroup v2 filesystem. */
    static final long CGROUP2_SUPER_MAGIC = 0x63677270L;

    public static final Path DEFAULT_BPFFS = Path.of("/sys/fs/bpf");
    public static final Path KERNEL_BTF = Path.of("/sys/kernel/btf/vmlinux");
    public static final Path DEFAULT_CGROUP2 = Path.of("/sys/fs/cgroup/unified");

    static final int CAP_NET_ADMIN = 12;
    static final int CAP_SYS_ADMIN = 21;
    static final int CAP_PERFMON = 38;
    static final int CAP_BPF = 39;

    private Preflight() {}

    /** Everything the agent needs before loading: privileges, libbpf, bpf(), kernel BTF, bpffs at {@code pinRoot}. */
    public static void check(Path pinRoot) {
        requirePrivileges();
        requireLibbpf();
        requireBpfSyscall();
        requireKernelBtf();
        ensureBpffs(pinRoot);
    }

    // ------------------------------------------------------------------ privileges

    /** Root, or CAP_BPF + CAP_NET_ADMIN + CAP_PERFMON (or CAP_SYS_ADMIN), in the effective set. */
    public static void requirePrivileges() {
        long capEff;
        try {
            capEff = parseCapEff(Files.readString(Path.of("/proc/self/status")));
        } catch (IOException e) {
            throw new PreflightException.NotPrivileged("cannot read /proc/self/status: " + e.getMessage());
        }
        privilegeProblem(capEff).ifPresent(p -> {
            throw new PreflightException.NotPrivileged(p);
        });
    }

    /** The {@code CapEff:} mask from {@code /proc/<pid>/status} text (0 if absent). */
    static long parseCapEff(String status) {
        for (String line : status.lines().toList()) {
            if (line.startsWith("CapEff:")) {
                return Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
            }
        }
        return 0;
    }

    /** What is missing from an effective capability mask, or empty when it suffices. */
    static Optional<String> privilegeProblem(long capEff) {
        if (has(capEff, CAP_SYS_ADMIN) && has(capEff, CAP_NET_ADMIN)) {
            return Optional.empty();
        }
        List<String> missing = new ArrayList<>();
        if (!has(capEff, CAP_BPF) && !has(capEff, CAP_SYS_ADMIN)) {
            missing.add("CAP_BPF");
        }
        if (!has(capEff, CAP_NET_ADMIN)) {
            missing.add("CAP_NET_ADMIN");
        }
        if (!has(capEff, CAP_PERFMON) && !has(capEff, CAP_SYS_ADMIN)) {
            missing.add("CAP_PERFMON");
        }
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of("this process (euid " + Native.Libc.geteuid() + ") lacks " + String.join(", ", missing)
                + " (effective capabilities 0x" + Long.toHexString(capEff) + "); run it as root, with its capabilities");
    }

    private static boolean has(long mask, int cap) {
        return (mask & (1L << cap)) != 0;
    }

    // ------------------------------------------------------------------ libbpf and the kernel

    /** libbpf.so.1 can be loaded and has the 1.1 API. */
    public static void requireLibbpf() {
        Native.bpf();
    }

    /**
     * The bpf() syscall works for this process: probes it with {@code BPF_MAP_GET_FD_BY_ID} for id 0, which
     * answers ENOENT when BPF is usable, EPERM when not permitted, ENOSYS without BPF.
     */
    public static void requireBpfSyscall() {
        var bpf = Native.bpf();
        try (var log = LibbpfLog.capture(); Arena arena = Arena.ofConfined()) {
            MemorySegment cap = Native.captureSegment(arena);
            int r = (int) bpf.mapGetFdById.invokeExact(cap, 0);
            if (r >= 0) {
                Native.Libc.close(r);
                return;
            }
            int errno = Native.errnoOf(r, cap);
            switch (errno) {
                case Errno.ENOENT, Errno.EINVAL -> { }
                case Errno.EPERM, Errno.EACCES -> throw new PreflightException.NotPrivileged(
                        "bpf() answered " + Errno.describe(errno));
                default -> throw new PreflightException.BpfUnsupported("bpf() answered " + Errno.describe(errno));
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The kernel exposes its BTF. */
    public static void requireKernelBtf() {
        requireKernelBtf(KERNEL_BTF);
    }

    static void requireKernelBtf(Path btf) {
        if (!Files.isReadable(btf)) {
            throw new PreflightException.KernelBtfMissing(btf);
        }
    }

    // ------------------------------------------------------------------ filesystems

    /** True if {@code path} is on a BPF filesystem. */
    public static boolean isBpffs(Path path) {
        return Native.Libc.statfsType(path) == BPF_FS_MAGIC;
    }

    /**
     * Makes sure {@code dir} is a directory on a BPF filesystem, creating it if needed. If the nearest
     * existing ancestor is not on a BPF filesystem, mounts one: at {@code /sys/fs/bpf} when {@code dir} is
     * below it, else at {@code dir} itself.
     */
    public static void ensureBpffs(Path dir) {
        Path abs = dir.toAbsolutePath().normalize();
        Path existing = abs;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null || !isBpffs(existing)) {
            Path mountPoint = abs.startsWith(DEFAULT_BPFFS) ? DEFAULT_BPFFS : abs;
            try {
                Files.createDirectories(mountPoint);
                Native.Libc.mount("bpf", mountPoint, "bpf");
            } catch (IOException | BpfException e) {
                throw new PreflightException.BpffsUnavailable(mountPoint, e.getMessage());
            }
            if (!isBpffs(mountPoint)) {
                throw new PreflightException.BpffsUnavailable(mountPoint, "mounted, but statfs does not see bpffs");
            }
        }
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw new PreflightException.BpffsUnavailable(abs, "cannot create the directory: " + e);
        }
        if (!isBpffs(abs)) {
            throw new PreflightException.BpffsUnavailable(abs, "the directory is not on a BPF filesystem");
        }
    }

    /** {@code path} is a directory of a cgroup v2 hierarchy. */
    public static void requireCgroupV2(Path path) {
        if (!Files.isDirectory(path)) {
            throw new PreflightException.CgroupV2Missing(path, Files.exists(path) ? "not a directory"
                    : "no such directory");
        }
        long type = Native.Libc.statfsType(path);
        if (type != CGROUP2_SUPER_MAGIC) {
            throw new PreflightException.CgroupV2Missing(path, type < 0 ? "statfs: " + Errno.describe((int) -type)
                    : "it is not on a cgroup2 filesystem (statfs type 0x" + Long.toHexString(type) + ")");
        }
    }

    // ------------------------------------------------------------------ interfaces

    /** The index of interface {@code name} in the calling thread's network namespace. */
    public static int ifindex(String name) {
        return ifindex(name, null);
    }

    /** As {@link #ifindex(String)}; {@code where} names the namespace for the message (null: current). */
    public static int ifindex(String name, String where) {
        if (name == null || name.isEmpty() || name.length() > 15 || name.contains("/")) {
            throw new PreflightException.UnknownInterface(String.valueOf(name), where);
        }
        int index = Native.Libc.ifNameToIndex(name);
        if (index <= 0) {
            throw new PreflightException.UnknownInterface(name, where);
        }
        return index;
    }
}
