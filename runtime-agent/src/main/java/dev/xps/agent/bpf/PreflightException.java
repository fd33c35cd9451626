package dev.xps.agent.bpf;

import java.nio.file.Path;

/**
 * The machine cannot run the kernel target, for one precise reason, said in a sentence a person can act on.
 * Each reason is its own subclass so callers (and tests) can tell them apart. Thrown by {@link Preflight}
 * and by the first use of the binding when libbpf cannot be loaded.
 */
public abstract sealed class PreflightException extends RuntimeException {
    private PreflightException(String message) {
        super(message);
    }

    /** Neither root nor holding the capabilities the agent needs. */
    public static final class NotPrivileged extends PreflightException {
        public NotPrivileged(String detail) {
            super("the XPS agent needs root, or the capabilities CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON"
                    + " (CAP_SYS_ADMIN on kernels before 5.8): " + detail);
        }
    }

    /** libbpf.so.1 cannot be loaded (or is older than 1.1). */
    public static final class LibbpfMissing extends PreflightException {
        private final String library;

        public LibbpfMissing(String library, String detail) {
            super("libbpf is not available: " + detail
                    + ". Install libbpf 1.1 or newer (Debian: apt-get install libbpf1), or point the system"
                    + " property xps.libbpf at the library");
            this.library = library;
        }

        public String library() {
            return library;
        }
    }

    /** No BPF filesystem at the pin root, and mounting one failed. */
    public static final class BpffsUnavailable extends PreflightException {
        public BpffsUnavailable(Path path, String detail) {
            super("no BPF filesystem at " + path + " and it cannot be mounted (" + detail
                    + "). Mount it with: mount -t bpf bpf " + path);
        }
    }

    /** The kernel does not expose its BTF ({@code CONFIG_DEBUG_INFO_BTF}). */
    public static final class KernelBtfMissing extends PreflightException {
        public KernelBtfMissing(Path path) {
            super("the kernel has no BTF (" + path + " is missing): the eBPF target needs a kernel built with"
                    + " CONFIG_DEBUG_INFO_BTF=y");
        }
    }

    /** The kernel refuses bpf() altogether (no CONFIG_BPF_SYSCALL, or blocked by a security policy). */
    public static final class BpfUnsupported extends PreflightException {
        public BpfUnsupported(String detail) {
            super("the kernel does not allow BPF programs here: " + detail);
        }
    }

    /** The cgroup the TCP fast path attaches to is not a cgroup v2 directory. */
    public static final class CgroupV2Missing extends PreflightException {
        public CgroupV2Missing(Path path, String detail) {
            super("no cgroup v2 at " + path + " (" + detail + "): the TCP fast path attaches to a cgroup v2;"
                    + " mount one with: mount -t cgroup2 none /sys/fs/cgroup/unified");
        }
    }

    /** No network interface of that name (in the network namespace it was looked up in). */
    public static final class UnknownInterface extends PreflightException {
        private final String name;

        public UnknownInterface(String name, String where) {
            super("no network interface named '" + name + "'" + (where == null ? "" : " in " + where)
                    + " (see: ip link show)");
            this.name = name;
        }

        public String name() {
            return name;
        }
    }
}
