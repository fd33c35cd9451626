package dev.xps.it;

import dev.xps.agent.Agent;
import dev.xps.agent.Attachment;
import dev.xps.agent.Context;
import dev.xps.agent.Manifest;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.TestRun;
import dev.xps.backend.java.stack.StackProbe.Observed;
import dev.xps.compiler.ir.IpPrefix;
import dev.xps.compiler.ir.Ipv4Prefix;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Protocol;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The kernel target for one module, driven through the runtime agent (FFM, no bpftool): the module's eBPF
 * artifact is loaded as a context of {@link Agent}, its maps are written and read in canonical layouts through
 * {@link Context}, and each payload's outcome is observed exactly, without waiting for silence:
 *
 * <ul>
 *   <li><b>UDP</b>: the entry's XDP program runs on an Ethernet/IPv4/UDP frame with {@code BPF_PROG_TEST_RUN}
 *       ({@link BpfProgram#testRun}): XDP_TX is tx (the answer is the reply frame's UDP payload; the frame's
 *       addresses, ports, lengths and checksums are checked), XDP_PASS is pass (the frame must be unchanged:
 *       the service would receive the payload), XDP_DROP is drop, or reset when the entry's reset counter moved.
 *   <li><b>TCP</b>: the context is attached to a cgroup; a recording service listens in it (inside the run's
 *       own network namespace, on the entry's port), and each payload is observed with the
 *       {@link SentinelProtocol}: the entry's counters say when the verdict program has taken the payload, and
 *       the kernel delivers a socket's passed segments and redirected answers in order (a passed skb queues
 *       behind pending redirects, sk_psock_verdict_apply). A reset is the agent's reset server
 *       ({@link Context#serveResets}) destroying the socket the handler reset.
 * </ul>
 */
final class KernelTarget implements AutoCloseable {
    private static final byte[] CLIENT_MAC = HexFormat.of().parseHex("020000000002");
    private static final byte[] SERVER_MAC = HexFormat.of().parseHex("020000000001");

    private final XdiffHost host;
    private final IrModule module;
    private final Agent agent;
    private final String contextName;
    private final Context context;
    private final Map<String, TcpEntry> tcp = new LinkedHashMap<>();
    private final Map<String, UdpEntry> udp = new LinkedHashMap<>();
    private final AtomicBoolean serving = new AtomicBoolean(true);
    private Thread resetServer;
    private volatile String resetServerFailure;
    private int udpSourcePort = 40_000;

    KernelTarget(XdiffHost host, IrModule module, Path artifact, String contextName) throws Exception {
        this.host = host;
        this.module = module;
        this.agent = new Agent(host.pinRoot, host.stateRoot);
        this.contextName = contextName;
        SecureRandom random = new SecureRandom();
        boolean hasTcp = module.entryPoints().stream().anyMatch(e -> e.predicate().protocol() == Protocol.TCP);
        boolean hasUdp = module.entryPoints().stream().anyMatch(e -> e.predicate().protocol() == Protocol.UDP);
        Attachment attachment = hasTcp ? Attachment.cgroup(host.cgroup) : Attachment.iface("lo", host.name);
        if (hasTcp && hasUdp) {
            attachment = attachment.withInterface("lo", host.name);
        }
        this.context = agent.createContext(contextName, artifact, attachment);
        boolean ok = false;
        try {
            for (IrEntryPoint e : module.entryPoints()) {
                Manifest.Entry m = context.manifest().entries().stream().filter(x -> x.name().equals(e.name()))
                        .findFirst().orElseThrow(() -> new AssertionError("the manifest has no entry " + e.name()));
                Ends ends = Ends.of(e, host);
                if (e.predicate().protocol() == Protocol.UDP) {
                    String xdp = m.programs().stream().filter(p -> p.section().equals("xdp")).findFirst()
                            .orElseThrow(() -> new AssertionError("entry " + e.name() + " has no xdp program")).name();
                    udp.put(e.name(), new UdpEntry(context.pinned().program(xdp), m.name(), ends));
                } else {
                    tcp.put(e.name(), new TcpEntry(e.name(), new SentinelProtocol(e, random), ends, m.index()));
                }
            }
            if (!tcp.isEmpty()) {
                host.inCgroup(() -> {
                    for (TcpEntry t : tcp.values()) {
                        t.listen();
                    }
                    return null;
                });
                // Reset events name sockets of the namespace: they are destroyed from inside it.
                resetServer = Thread.ofPlatform().daemon().name(host.name + "-resets").start(() -> {
                    try {
                        dev.xps.agent.bpf.NetNs.call(host.name, () ->
                                context.serveResets(serving::get, Duration.ofMillis(50), null));
                    } catch (RuntimeException e) {
                        resetServerFailure = e.toString(); // shown with every payload whose reset never came
                    }
                });
            }
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    // ------------------------------------------------------------------ maps

    private String kernelMap(String xpsName) {
        List<String> names = context.manifest().maps().stream().map(Manifest.MapDef::name).toList();
        return names.contains(xpsName) ? xpsName : xpsName + "_";
    }

    /** The map setup of a differential: puts (canonical keys and values) and log appends. */
    void setUp(List<IrTest.Step> steps) {
        for (IrTest.Step step : steps) {
            switch (step) {
                case IrTest.Put p -> context.put(kernelMap(p.map().name()), p.key(), p.value());
                case IrTest.Append a -> context.appendLog(kernelMap(a.map().name()), a.value());
                default -> throw new IllegalArgumentException("not a setup step: " + step);
            }
        }
    }

    /**
     * Every map's contents as {@code key-hex → value-hex} (arrays: the slots that are not zero; logs: index →
     * entry), and for maps {@code with stats} the hit counts under {@code "hits " + key-hex}.
     */
    Map<String, Map<String, String>> maps() {
        HexFormat hex = HexFormat.of();
        Map<String, Map<String, String>> out = new TreeMap<>();
        for (IrMap m : module.maps()) {
            String name = kernelMap(m.name());
            Map<String, String> contents = new TreeMap<>();
            if (m.kind() == MapKind.LOG) {
                List<byte[]> entries = context.getLog(name, 1, Integer.MAX_VALUE);
                for (int i = 0; i < entries.size(); i++) {
                    contents.put(Long.toString(i + 1), hex.formatHex(entries.get(i)));
                }
            } else {
                for (var e : context.dump(name)) {
                    contents.put(hex.formatHex(e.getKey()), hex.formatHex(e.getValue()));
                }
                if (m.stats()) {
                    for (var e : context.getAllKeyStats(name)) {
                        contents.put("hits " + hex.formatHex(e.getKey()), Long.toString(e.getValue()));
                    }
                }
            }
            out.put(m.name(), contents);
        }
        return out;
    }

    // ------------------------------------------------------------------ sending

    private Map<String, Map<String, Long>> countersBefore = Map.of();

    /**
     * What the entry counters (docs/ebpf-target.md) counted since the last {@link #send} began, the
     * sentinel's pass included: for mismatch reports.
     */
    String countersOfLastSend() {
        Map<String, Map<String, Long>> now = context.allStats();
        StringBuilder b = new StringBuilder();
        now.forEach((entry, fields) -> fields.forEach((field, n) -> {
            long d = n - countersBefore.getOrDefault(entry, Map.of()).getOrDefault(field, 0L);
            if (d != 0) {
                b.append(b.isEmpty() ? "" : " ").append(entry).append('.').append(field).append('=').append(d);
            }
        }));
        return b.toString();
    }

    /** Sends {@code payload} as one segment (TCP, on a fresh connection) or one datagram to {@code entry}. */
    Observed send(String entry, byte[] payload) throws Exception {
        countersBefore = context.allStats();
        UdpEntry u = udp.get(entry);
        if (u != null) {
            return u.send(payload);
        }
        TcpEntry t = tcp.get(entry);
        if (t == null) {
            throw new IllegalArgumentException("no entry point " + entry);
        }
        return host.inNetns(() -> t.send(payload));
    }

    /** The client and server ends that match an entry's predicate. */
    private record Ends(String clientIp, int clientPortLow, int clientPortHigh, String serverIp, int serverPort) {
        static Ends of(IrEntryPoint e, XdiffHost host) throws IOException {
            var p = e.predicate();
            String client = p.srcAddress().map(Ends::host).orElse("127.0.0.1");
            String server = p.dstAddress().map(Ends::host).orElse("127.0.0.1");
            if (p.protocol() == Protocol.TCP) {
                for (String a : List.of(client, server)) {
                    if (!a.startsWith("127.")) {
                        host.addAddress(a);
                    }
                }
            }
            int low = p.srcPort().map(r -> r.low()).orElse(0);
            int high = p.srcPort().map(r -> r.high()).orElse(0);
            return new Ends(client, low, high, server, p.dstPort().low());
        }

        /** The differential harness drives IPv4 (the samples name no IPv6 prefix); an IPv6 one is refused here. */
        private static String host(IpPrefix p) {
            if (!(p instanceof Ipv4Prefix prefix)) {
                throw new IllegalArgumentException("the kernel differential harness sends IPv4 only: " + p);
            }
            long a = prefix.prefixLength() >= 31 ? prefix.address() : prefix.address() + 1;
            return ((a >> 24) & 255) + "." + ((a >> 16) & 255) + "." + ((a >> 8) & 255) + "." + (a & 255);
        }
    }

    // ------------------------------------------------------------------ UDP (XDP test runs)

    private final class UdpEntry {
        final BpfProgram xdp;
        final String entry;
        final Ends ends;

        UdpEntry(BpfProgram xdp, String entry, Ends ends) {
            this.xdp = xdp;
            this.entry = entry;
            this.ends = ends;
        }

        Observed send(byte[] payload) throws IOException {
            int sport = ends.clientPortLow() != 0 ? ends.clientPortLow() : udpSourcePort;
            udpSourcePort = udpSourcePort == 60_000 ? 40_000 : udpSourcePort + 1;
            byte[] frame = frame(InetAddress.getByName(ends.clientIp()).getAddress(), sport,
                    InetAddress.getByName(ends.serverIp()).getAddress(), ends.serverPort(), payload);
            long resetsBefore = context.allStats().get(entry).get("reset");
            TestRun run = xdp.testRun(frame, 1);
            return switch (run.returnValue()) {
                case TestRun.XDP_TX -> reply(frame, run.dataOut(), payload.length);
                case TestRun.XDP_PASS -> new Observed(dev.xps.runtime.Verdict.PASS, payload,
                        Arrays.equals(run.dataOut(), frame) ? "" : "XDP_PASS changed the frame: " + hex(run.dataOut()));
                case TestRun.XDP_DROP -> new Observed(context.allStats().get(entry).get("reset") > resetsBefore
                        ? dev.xps.runtime.Verdict.RESET : dev.xps.runtime.Verdict.DROP, new byte[0], "");
                default -> new Observed(null, new byte[0], "the XDP program returned " + run.returnValue());
            };
        }
    }

    private static byte[] frame(byte[] src, int sport, byte[] dst, int dport, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + 8 + payload.length);
        b.put(SERVER_MAC).put(CLIENT_MAC).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + 8 + payload.length)).putShort((short) 0x1234)
                .putShort((short) 0x4000).put((byte) 64).put((byte) 17).putShort((short) 0).put(src).put(dst);
        byte[] f = b.array();
        int sum = checksum(f, 14, 20, 0);
        f[24] = (byte) (sum >> 8);
        f[25] = (byte) sum;
        b.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0)
                .put(payload);
        return f;
    }

    /** Checks an XDP_TX reply to {@code request} and returns its UDP payload as the answer. */
    private static Observed reply(byte[] request, byte[] out, int requestPayload) {
        List<String> problems = new ArrayList<>();
        if (out.length < 42) {
            return new Observed(dev.xps.runtime.Verdict.TX, new byte[0], "XDP_TX with a " + out.length + "-byte frame");
        }
        ByteBuffer b = ByteBuffer.wrap(out);
        int ihl = (out[14] & 15) * 4;
        int ipLen = b.getShort(16) & 0xffff;
        int udpAt = 14 + ihl;
        int udpLen = b.getShort(udpAt + 4) & 0xffff;
        if (!Arrays.equals(Arrays.copyOfRange(out, 0, 6), Arrays.copyOfRange(request, 6, 12))
                || !Arrays.equals(Arrays.copyOfRange(out, 6, 12), Arrays.copyOfRange(request, 0, 6))) {
            problems.add("MACs not swapped");
        }
        if ((out[14] & 0xf0) != 0x40 || out[23] != 17 || ihl != 20) {
            problems.add("not an IPv4/UDP header without options");
        }
        if (!Arrays.equals(Arrays.copyOfRange(out, 26, 30), Arrays.copyOfRange(request, 30, 34))
                || !Arrays.equals(Arrays.copyOfRange(out, 30, 34), Arrays.copyOfRange(request, 26, 30))) {
            problems.add("addresses not swapped");
        }
        if (checksum(out, 14, ihl, 0) != 0) {
            problems.add("bad IPv4 checksum");
        }
        if (b.getShort(udpAt) != ByteBuffer.wrap(request).getShort(36)
                || b.getShort(udpAt + 2) != ByteBuffer.wrap(request).getShort(34)) {
            problems.add("ports not swapped");
        }
        if (ipLen != out.length - 14 || udpLen != ipLen - ihl) {
            problems.add("lengths: frame " + out.length + ", IPv4 " + ipLen + ", UDP " + udpLen);
        }
        int udpSum = b.getShort(udpAt + 6) & 0xffff;
        int end = Math.min(out.length, udpAt + udpLen);
        if (udpSum != 0) {
            int pseudo = 0;
            for (int i = 26; i < 34; i += 2) {
                pseudo += (out[i] & 255) << 8 | (out[i + 1] & 255);
            }
            pseudo += 17 + udpLen;
            if (checksum(out, udpAt, end - udpAt, pseudo) != 0) {
                problems.add("bad UDP checksum");
            }
        }
        byte[] answer = Arrays.copyOfRange(out, Math.min(end, udpAt + 8), end);
        return new Observed(dev.xps.runtime.Verdict.TX, answer, problems.isEmpty() ? ""
                : "reply frame: " + String.join(", ", problems) + " (" + hex(out) + ")");
    }

    private static int checksum(byte[] b, int off, int len, int initial) {
        long sum = initial;
        for (int i = 0; i < len; i += 2) {
            sum += (b[off + i] & 255) << 8 | (i + 1 < len ? b[off + i + 1] & 255 : 0);
        }
        while (sum >> 16 != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (int) (~sum & 0xffff);
    }

    private static String hex(byte[] b) {
        return HexFormat.of().formatHex(b);
    }

    // ------------------------------------------------------------------ TCP (real sockets in the cgroup)

    private final class TcpEntry implements AutoCloseable {
        final String entry;
        final SentinelProtocol protocol;
        final Ends ends;
        final BpfMap counters;
        final int index;
        ServerSocketChannel listener;
        Thread service;
        int nextClientPort;

        TcpEntry(String entry, SentinelProtocol protocol, Ends ends, int index) {
            this.counters = context.pinned().map(context.manifest().countersMap());
            this.index = index;
            this.entry = entry;
            this.protocol = protocol;
            this.ends = ends;
            this.nextClientPort = ends.clientPortLow();
        }

        /** Creates the listener inside the namespace (the caller has put the process in the cgroup). */
        void listen() throws Exception {
            listener = host.inNetns(() -> {
                ServerSocketChannel l = ServerSocketChannel.open(StandardProtocolFamily.INET);
                l.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                l.bind(new InetSocketAddress(InetAddress.getByName(ends.serverIp()), ends.serverPort()), 128);
                return l;
            });
            service = Thread.ofPlatform().daemon().name(host.name + "-service-" + entry).start(this::serve);
        }

        /** The recording service: one connection at a time (the client sends one payload at a time). */
        private void serve() {
            ByteBuffer buf = ByteBuffer.allocate(1 << 17);
            while (true) {
                SocketChannel ch;
                protocol.serviceState = "waiting in accept";
                try {
                    ch = listener.accept();
                } catch (ClosedChannelException closed) {
                    return;
                } catch (IOException e) {
                    if (!listener.isOpen()) {
                        return;
                    }
                    continue;
                }
                SentinelProtocol.Connection connection = null;
                try (ch) {
                    connection = protocol.connection(((InetSocketAddress) ch.getRemoteAddress()).getPort());
                    while (ch.read(buf.clear()) >= 0) {
                        byte[] ack = connection.received(buf.array(), 0, buf.position());
                        if (ack != null) {
                            ByteBuffer a = ByteBuffer.wrap(ack);
                            while (a.hasRemaining()) {
                                ch.write(a);
                            }
                        }
                    }
                    connection.ended("the service read an end of file before the sentinel");
                } catch (IOException e) {
                    if (connection != null) {
                        connection.ended("the service's connection failed: " + e);
                    }
                }
            }
        }

        /** One payload on a fresh connection (runs inside the namespace). */
        Observed send(byte[] payload) throws Exception {
            try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.INET)) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                if (ends.clientPortLow() != 0) {
                    ch.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                    ch.bind(new InetSocketAddress(InetAddress.getByName(ends.clientIp()), nextClientPort));
                    nextClientPort = nextClientPort >= ends.clientPortHigh() ? ends.clientPortLow() : nextClientPort + 1;
                } else if (!ends.clientIp().equals("127.0.0.1")) {
                    ch.bind(new InetSocketAddress(InetAddress.getByName(ends.clientIp()), 0));
                }
                ch.connect(new InetSocketAddress(InetAddress.getByName(ends.serverIp()), ends.serverPort()));
                long before = counted();
                // The verdict program counts every segment of a fresh connection: once the counters moved, it
                // has taken the payload off the socket (data that arrives before the service accepts waits in
                // the receive queue, and a later write would join the same skb).
                Observed o = protocol.exchange(ch, payload, () -> awaitCounted(before));
                return resetServerFailure == null || o.verdict() != null ? o
                        : new Observed(null, o.bytes(), o.note() + "; the reset server failed: " + resetServerFailure);
            }
        }

        /** The sum of this entry's counters over every field and CPU. */
        private long counted() {
            byte[] key = {(byte) index, (byte) (index >>> 8), (byte) (index >>> 16), (byte) (index >>> 24)};
            byte[] value = counters.lookup(key).orElseThrow();
            long sum = 0;
            for (byte[] cpu : counters.perCpuValues(value)) {
                ByteBuffer b = ByteBuffer.wrap(cpu).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                for (int f = 0; f + 8 <= cpu.length; f += 8) {
                    sum += b.getLong(f);
                }
            }
            return sum;
        }

        /** Waits until the counters moved past {@code before}; null, or what happened instead. */
        private String awaitCounted(long before) {
            long deadline = System.nanoTime() + SentinelProtocol.WAIT_MS * 1_000_000L;
            while (counted() == before) {
                if (System.nanoTime() > deadline) {
                    return "the verdict program did not count the payload's segment within "
                            + SentinelProtocol.WAIT_MS + " ms";
                }
                Thread.onSpinWait();
            }
            return null;
        }

        @Override
        public void close() {
            try {
                if (listener != null) {
                    listener.close();
                }
                if (service != null) {
                    service.join(Duration.ofSeconds(10));
                }
            } catch (IOException | InterruptedException e) {
                System.err.println("WARNING: closing the service of " + entry + ": " + e);
            }
        }
    }

    @Override
    public void close() {
        for (TcpEntry t : tcp.values()) {
            t.close();
        }
        serving.set(false);
        if (resetServer != null) {
            try {
                resetServer.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (context != null) {
            try {
                context.close();
            } finally {
                agent.deleteContext(contextName);
            }
        }
    }
}
