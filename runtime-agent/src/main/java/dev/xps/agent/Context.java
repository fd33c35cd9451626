package dev.xps.agent;

import dev.xps.agent.bpf.BpfException;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.RingBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * One loaded context: its maps in the language's canonical layouts (integers little-endian in their declared
 * width, bytes as they are), its statistics and logs, and the consumer of its reset events. Keys and values
 * given and returned here are canonical; the manifest says how they sit in the kernel.
 *
 * <p>Closing it closes this process's descriptors only; the context stays loaded ({@link Agent#deleteContext}
 * removes it). Not thread-safe, except that {@link #serveResets} may run on its own thread.
 */
public final class Context implements AutoCloseable {
    private final String name;
    private final PinnedContext pinned;
    private final Manifest manifest;
    private final Attachment attachment;
    private final Path state;

    Context(String name, PinnedContext pinned, Manifest manifest, Attachment attachment, Path state) {
        this.name = name;
        this.pinned = pinned;
        this.manifest = manifest;
        this.attachment = attachment;
        this.state = state;
    }

    public String name() {
        return name;
    }

    public Manifest manifest() {
        return manifest;
    }

    public Attachment attachment() {
        return attachment;
    }

    public PinnedContext pinned() {
        return pinned;
    }

    // ------------------------------------------------------------------ data

    private BpfMap kernelMap(Manifest.MapDef d) {
        return pinned.map(d.name());
    }

    private byte[] kernelKey(Manifest.MapDef d, byte[] key) {
        if (d.kind().equals("array")) {
            long idx = 0;
            if (key.length != d.key().canonicalSize()) {
                throw new IllegalArgumentException("map " + d.name() + ": index is " + d.key().canonicalSize()
                        + " bytes, got " + key.length);
            }
            for (int k = key.length - 1; k >= 0; k--) {
                idx = idx << 8 | (key[k] & 255);
            }
            if (idx >= d.capacity()) {
                throw new IllegalArgumentException("map " + d.name() + ": index " + idx + " is outside [0, "
                        + d.capacity() + ")");
            }
        }
        if (d.isLog()) {
            throw new IllegalArgumentException("map " + d.name() + " is a log: use getLog/appendLog");
        }
        return d.key().toKernel(key);
    }

    /** Creates or replaces {@code map[key] = value}. */
    public void put(String map, byte[] key, byte[] value) {
        Manifest.MapDef d = manifest.map(map);
        kernelMap(d).put(kernelKey(d, key), d.value().toKernel(value));
    }

    /** Replaces an existing entry only ({@link BpfException.KeyNotFound} if absent; arrays always exist). */
    public void update(String map, byte[] key, byte[] value) {
        Manifest.MapDef d = manifest.map(map);
        kernelMap(d).update(kernelKey(d, key), d.value().toKernel(value),
                d.kind().equals("array") ? BpfMap.Update.ANY : BpfMap.Update.EXIST);
    }

    /** Deletes {@code map[key]} (an array slot is zeroed); true if it was there. */
    public boolean delete(String map, byte[] key) {
        Manifest.MapDef d = manifest.map(map);
        if (d.kind().equals("array")) {
            kernelMap(d).put(kernelKey(d, key), new byte[d.valueSize()]);
            return true;
        }
        return kernelMap(d).delete(kernelKey(d, key));
    }

    public Optional<byte[]> get(String map, byte[] key) {
        Manifest.MapDef d = manifest.map(map);
        return kernelMap(d).lookup(kernelKey(d, key)).map(v -> d.value().toCanonical(v));
    }

    /** Writes many entries with the kernel's batch update where the map has one. */
    public void putAll(String map, List<Map.Entry<byte[], byte[]>> entries) {
        Manifest.MapDef d = manifest.map(map);
        List<BpfMap.Entry> kernel = new ArrayList<>(entries.size());
        for (var e : entries) {
            kernel.add(new BpfMap.Entry(kernelKey(d, e.getKey()), d.value().toKernel(e.getValue())));
        }
        kernelMap(d).updateAll(kernel, BpfMap.Update.ANY);
    }

    /** Reads many keys; a missing key has no entry in the result. */
    public List<Map.Entry<byte[], byte[]>> getAll(String map, List<byte[]> keys) {
        List<Map.Entry<byte[], byte[]>> out = new ArrayList<>();
        for (byte[] k : keys) {
            get(map, k).ifPresent(v -> out.add(Map.entry(k, v)));
        }
        return out;
    }

    /** Deletes many keys; returns how many were there. */
    public int deleteAll(String map, List<byte[]> keys) {
        int n = 0;
        for (byte[] k : keys) {
            n += delete(map, k) ? 1 : 0;
        }
        return n;
    }

    /** Every entry (batch lookups), canonical; for arrays every slot whose value is not all zero. */
    public List<Map.Entry<byte[], byte[]>> dump(String map) {
        Manifest.MapDef d = manifest.map(map);
        if (d.isLog()) {
            throw new IllegalArgumentException("map " + d.name() + " is a log: use getLog");
        }
        List<Map.Entry<byte[], byte[]>> out = new ArrayList<>();
        for (BpfMap.Entry e : kernelMap(d).entries()) {
            if (d.kind().equals("array") && allZero(e.value())) {
                continue;
            }
            out.add(Map.entry(d.key().toCanonical(e.key()), d.value().toCanonical(e.value())));
        }
        return out;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ logs

    /** Appends made so far to log {@code map} (can pass its capacity when full). */
    public long logHead(String map) {
        Manifest.MapDef d = logDef(map);
        return u64(kernelMap(d).lookup(slot(0)).orElseThrow(), 0);
    }

    /**
     * Log entries {@code from}, {@code from+1}, ... (indices from 1), at most {@code max}, in order, stopping at
     * the first entry not yet committed ({@code seq != i}).
     */
    public List<byte[]> getLog(String map, long from, int max) {
        Manifest.MapDef d = logDef(map);
        BpfMap m = kernelMap(d);
        long head = Math.min(u64(m.lookup(slot(0)).orElseThrow(), 0), d.capacity());
        List<byte[]> out = new ArrayList<>();
        for (long i = Math.max(1, from); i <= head && out.size() < max; i++) {
            byte[] v = m.lookup(slot((int) i)).orElseThrow();
            if (u64(v, 0) != i) {
                break;
            }
            out.add(d.value().toCanonical(Arrays.copyOfRange(v, d.entryOffset(), d.entryOffset() + d.value().size())));
        }
        return out;
    }

    /** Appends one entry (the agent must not append while handlers of the same log do); returns its index. */
    public long appendLog(String map, byte[] entry) {
        Manifest.MapDef d = logDef(map);
        BpfMap m = kernelMap(d);
        long head = u64(m.lookup(slot(0)).orElseThrow(), 0);
        if (head >= d.capacity()) {
            throw new BpfException.MapFull("appendLog", "log " + map, 28, d.capacity(), "the log is full");
        }
        long i = head + 1;
        byte[] v = new byte[d.valueSize()];
        putU64(v, 0, i);
        System.arraycopy(d.value().toKernel(entry), 0, v, d.entryOffset(), d.value().size());
        m.put(slot((int) i), v);
        byte[] h = new byte[d.valueSize()];
        putU64(h, 0, i);
        m.put(slot(0), h);
        return i;
    }

    private Manifest.MapDef logDef(String map) {
        Manifest.MapDef d = manifest.map(map);
        if (!d.isLog()) {
            throw new IllegalArgumentException("map " + map + " is not a log");
        }
        return d;
    }

    private static byte[] slot(int i) {
        return new byte[] {(byte) i, (byte) (i >>> 8), (byte) (i >>> 16), (byte) (i >>> 24)};
    }

    static long u64(byte[] b, int off) {
        long v = 0;
        for (int k = 7; k >= 0; k--) {
            v = v << 8 | (b[off + k] & 255);
        }
        return v;
    }

    private static void putU64(byte[] b, int off, long v) {
        for (int k = 0; k < 8; k++) {
            b[off + k] = (byte) (v >>> (8 * k));
        }
    }

    // ------------------------------------------------------------------ statistics

    /** Per entry point, its counters (tx, drop, pass, reset, malformed, incomplete, fallback, unsynced) summed over CPUs. */
    public Map<String, Map<String, Long>> allStats() {
        BpfMap counters = pinned.map(manifest.countersMap());
        Map<String, Map<String, Long>> out = new LinkedHashMap<>();
        for (Manifest.Entry e : manifest.entries()) {
            long[] sum = new long[manifest.counterFields().size()];
            byte[] v = counters.lookup(slot(e.index())).orElse(new byte[counters.valueLength()]);
            for (byte[] cpu : counters.perCpuValues(v)) {
                for (int f = 0; f < sum.length; f++) {
                    sum[f] += u64(cpu, 8 * f);
                }
            }
            Map<String, Long> fields = new LinkedHashMap<>();
            for (int f = 0; f < sum.length; f++) {
                fields.put(manifest.counterFields().get(f), sum[f]);
            }
            out.put(e.name(), fields);
        }
        return out;
    }

    /** Lookups of {@code key} that hit in {@code map} (a map declared {@code with stats}); 0 if never. */
    public long getStats(String map, byte[] key) {
        Manifest.MapDef d = manifest.map(map);
        BpfMap hits = pinned.map(d.stats().orElseThrow(() -> new IllegalArgumentException("map " + map
                + " is not declared 'with stats'")));
        return hits.lookup(kernelKey(d, key)).map(v -> u64(v, 0)).orElse(0L);
    }

    /** Every key's hits (canonical key → count) of a map declared {@code with stats}. */
    public List<Map.Entry<byte[], Long>> getAllKeyStats(String map) {
        Manifest.MapDef d = manifest.map(map);
        BpfMap hits = pinned.map(d.stats().orElseThrow(() -> new IllegalArgumentException("map " + map
                + " is not declared 'with stats'")));
        List<Map.Entry<byte[], Long>> out = new ArrayList<>();
        for (BpfMap.Entry e : hits.entries()) {
            long n = u64(e.value(), 0);
            if (n != 0) {
                out.add(Map.entry(d.key().toCanonical(e.key()), n));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ resets

    /**
     * A reset event: the entry's index and the connection's ends as the server sees them. An IPv4 connection (also
     * one on an AF_INET6 socket with v4-mapped ends) has dotted addresses ({@code 127.0.0.1}); a native IPv6 one
     * has RFC 5952 text ({@code ::1}), see {@link #ipv6()}.
     */
    public record ResetEvent(int entry, String remoteIp, int remotePort, String localIp, int localPort) {
        /** Whether the connection is native IPv6. */
        public boolean ipv6() {
            return remoteIp.indexOf(':') >= 0;
        }

        /**
         * Decodes {@code struct xps_reset_event} (docs/ebpf-target.md): {@code u32 entry}, then {@code struct
         * xps_tuple { u32 family; u32 remote_port; u32 local_port; u32 remote_ip6[4]; u32 local_ip6[4]; }} (48
         * bytes; IPv4 is family 2 with v4-mapped addresses), or the IPv4-only layout of objects compiled before
         * it ({@code u32 entry; u32 remote_ip4; u32 local_ip4; u32 remote_port; u32 local_port;}, 20 bytes).
         */
        static ResetEvent parse(byte[] b) {
            int entry = u32le(b, 0);
            if (b.length == 20) {
                return new ResetEvent(entry, ip4(b, 4), remotePort(b, 12), ip4(b, 8), u32le(b, 16) & 0xffff);
            }
            if (b.length < 48) {
                throw new IllegalArgumentException("a reset event of " + b.length + " bytes (48 expected)");
            }
            int family = u32le(b, 4);
            boolean v6 = family == 10;
            return new ResetEvent(entry, v6 ? ip6(b, 16) : ip4(b, 28), remotePort(b, 8),
                    v6 ? ip6(b, 32) : ip4(b, 44), u32le(b, 12) & 0xffff);
        }

        private static int u32le(byte[] b, int at) {
            return (b[at] & 255) | (b[at + 1] & 255) << 8 | (b[at + 2] & 255) << 16 | (b[at + 3] & 255) << 24;
        }

        /** The remote port: network order, in the upper 16 bits as the kernel exposes it (lower on some paths). */
        private static int remotePort(byte[] b, int at) {
            return ((b[at + 2] & 255) | (b[at + 3] & 255)) != 0 ? (b[at + 2] & 255) << 8 | (b[at + 3] & 255)
                    : (b[at] & 255) << 8 | (b[at + 1] & 255);
        }

        private static String ip4(byte[] b, int at) {
            return (b[at] & 255) + "." + (b[at + 1] & 255) + "." + (b[at + 2] & 255) + "." + (b[at + 3] & 255);
        }

        /** RFC 5952 text (the runtime's formatter). */
        static String ip6(byte[] b, int at) {
            return dev.xps.runtime.Ipv6Prefix.format(b, at);
        }

        @Override
        public String toString() {
            return ipv6() ? "[" + localIp + "]:" + localPort + " <- [" + remoteIp + "]:" + remotePort
                    : localIp + ":" + localPort + " <- " + remoteIp + ":" + remotePort;
        }
    }

    /**
     * Consumes the reset ring buffer until {@code until} returns false (checked every {@code pollInterval}):
     * each event's socket is destroyed ({@link SocketDestroyer}) and then reported to {@code listener} (may be
     * null). Returns how many sockets were destroyed. A context without TCP entry points returns 0 at once.
     */
    public int serveResets(java.util.function.BooleanSupplier until, Duration pollInterval,
                           Consumer<ResetEvent> listener) {
        if (manifest.resetsMap().isEmpty()) {
            return 0;
        }
        String cannot = SocketDestroyer.probe();
        if (cannot != null) {
            throw new AgentException("context '" + name + "': " + cannot + "; connections its handlers reset are"
                    + " only dropped");
        }
        return serveResets(pinned.map(manifest.resetsMap().get()), until, pollInterval, listener);
    }

    /** {@link #serveResets(java.util.function.BooleanSupplier, Duration, Consumer)} on a reset ring buffer. */
    static int serveResets(BpfMap resets, java.util.function.BooleanSupplier until, Duration pollInterval,
                           Consumer<ResetEvent> listener) {
        int[] destroyed = {0};
        try (RingBuffer rb = RingBuffer.open(resets, raw -> {
            ResetEvent ev = ResetEvent.parse(raw);
            if (SocketDestroyer.destroy(ev)) {
                destroyed[0]++;
            }
            if (listener != null) {
                listener.accept(ev);
            }
        })) {
            while (until.getAsBoolean()) {
                rb.poll(pollInterval);
            }
            rb.consume();
        }
        return destroyed[0];
    }

    // ------------------------------------------------------------------ misc

    /** One line per entry point: what it serves and where it is attached. */
    public String describe() {
        StringBuilder b = new StringBuilder(manifest.source()).append(" (").append(attachment).append(")");
        for (Manifest.Entry e : manifest.entries()) {
            b.append("\n  entry ").append(e.name()).append(": ").append(e.protocol()).append(" port ").append(e.ports())
                    .append(", handlers ").append(e.slots().stream().map(Manifest.Slot::handler).distinct().toList());
        }
        b.append("\n  links ").append(pinned.links().keySet());
        return b.toString();
    }

    @Override
    public void close() {
        pinned.close();
    }

    @Override
    public String toString() {
        return "context '" + name + "' (" + manifest.source() + ")";
    }
}
