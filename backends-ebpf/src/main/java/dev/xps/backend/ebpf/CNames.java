package dev.xps.backend.ebpf;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * C identifiers for the names of an .xps file. A user's name is kept as it is (a handler
 * {@code get} is the program {@code get}, a map {@code cache} the map {@code cache}) unless C,
 * the BPF headers, ELF section names or xpsc's own identifiers already use it; then it gets a
 * trailing {@code _} (more if that is taken too). xpsc's own identifiers start with {@code xps_}
 * or {@code XPS_}, which user names never keep, so the two can never collide.
 *
 * <p>A scope remembers what it handed out: {@link #file()} for file-scope names (maps, programs,
 * functions), {@link #child()} for a function's locals, which must not shadow a file-scope name
 * the function uses.
 */
final class CNames {
    /** C keywords, names the headers we include define in lower case, and ELF section names. */
    private static final Set<String> RESERVED = Set.of(
            // C11 keywords and common macros
            "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else", "enum",
            "extern", "float", "for", "goto", "if", "inline", "int", "long", "register", "restrict", "return",
            "short", "signed", "sizeof", "static", "struct", "switch", "typedef", "union", "unsigned", "void",
            "volatile", "while", "asm", "typeof", "bool", "true", "false", "alignof", "offsetof", "likely",
            "unlikely", "barrier", "container_of", "min", "max", "main",
            // the BPF and uapi headers (types without a leading underscore)
            "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64", "umode_t", "size_t", "ssize_t",
            "ethhdr", "iphdr", "udphdr", "tcphdr", "in_addr", "sockaddr", "sockaddr_in", "iovec",
            // names xpsc uses inside generated functions
            "skb", "ctx", "ops", "s", "w", "m", "vars", "rc", "fill", "level",
            // ELF sections libbpf knows: a function named like its section does not assemble
            "license", "version", "maps", "xdp", "tc", "tcx", "classifier", "action", "sockops", "sk_skb",
            "sk_msg", "sk_lookup", "socket", "kprobe", "kretprobe", "tracepoint", "tp", "raw_tp", "raw_tracepoint",
            "fentry", "fexit", "freplace", "lsm", "iter", "syscall", "perf_event", "cgroup", "cgroup_skb",
            "struct_ops", "uprobe", "uretprobe", "usdt", "netfilter", "flow_dissector", "lirc_mode2", "seccomp",
            "rodata", "data", "bss", "kconfig", "ksyms", "text");

    private final Set<String> taken;
    private final CNames parent;

    private CNames(CNames parent) {
        this.parent = parent;
        this.taken = new HashSet<>();
    }

    static CNames file() {
        return new CNames(null);
    }

    /** A scope for a function's locals: its names avoid everything handed out in this one. */
    CNames child() {
        return new CNames(this);
    }

    /** A C identifier for a user's name (map, handler, entry point or local). */
    String user(String name) {
        return claim(escape(name));
    }

    /** A C identifier for a name xpsc derives from a user's name ({@code redis_verdict}). */
    String derived(String name) {
        return claim(escape(name));
    }

    /** Claims exactly {@code name} (one of xpsc's fixed identifiers); it must be free. */
    String fixed(String name) {
        if (isTaken(name)) {
            throw new IllegalStateException("C identifier " + name + " is already in use");
        }
        taken.add(name);
        return name;
    }

    private String claim(String base) {
        String name = base;
        while (isTaken(name)) {
            name = name + "_";
        }
        taken.add(name);
        return name;
    }

    private boolean isTaken(String name) {
        return taken.contains(name) || (parent != null && parent.isTaken(name));
    }

    /** The name with a trailing '_' when C or our headers reserve it. */
    static String escape(String name) {
        return isReserved(name) ? name + "_" : name;
    }

    static boolean isReserved(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return RESERVED.contains(name)
                || lower.startsWith("xps_") || lower.startsWith("bpf_") || lower.startsWith("btf_")
                || name.startsWith("_")
                || name.endsWith("_t")
                // upper-case names are the headers' macros (ETH_P_IP, SK_PASS, XDP_TX, ...)
                || name.equals(name.toUpperCase(Locale.ROOT));
    }
}
