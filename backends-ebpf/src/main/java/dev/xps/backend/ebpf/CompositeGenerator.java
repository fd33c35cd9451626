package dev.xps.backend.ebpf;

import dev.xps.backend.ebpf.EbpfModel.Entry;
import dev.xps.compiler.target.GeneratedFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.stringtemplate.v4.ST;
import org.stringtemplate.v4.STGroup;
import org.stringtemplate.v4.STGroupFile;

/**
 * The generic composite context of the ebpf target ({@code xpsc composite}): one BPF object, independent of
 * any {@code .xps} file, that the runtime agent turns into {@code create_compcontext(port, offset, length)} by
 * writing its config map, and into {@code create_subcontext(ctx, handler, value)} by loading a separately
 * compiled handler with this object's shared maps and writing its program into a slot. Written under
 * {@code ebpf/xps-composite/}: {@code xps-composite.bpf.c}, {@code xps_runtime.h},
 * {@code xps-composite.manifest.json} and, when clang is here, {@code xps-composite.bpf.o}.
 *
 * <p>Two protocols, two objects: {@link Protocol#TCP} (the default; sock_ops + sk_skb stream verdict + sk_msg,
 * the same segment walk as a compiled {@code dispatch} block: ebpf.stg's {@code tcpEntry}) and
 * {@link Protocol#UDP} ({@code xpsc composite --protocol udp}, under {@code ebpf/xps-composite-udp/}: one XDP
 * program, the same datagram handling as a compiled UDP entry: ebpf.stg's {@code udpEntry}).
 */
public final class CompositeGenerator {
    public static final String BASE = "xps-composite";
    /** The UDP composite's base name (and directory under {@code ebpf/}). */
    public static final String BASE_UDP = "xps-composite-udp";
    /** Handler slots, and so sub-contexts, of one composite. */
    public static final int SLOTS = 64;
    /** The longest selector (the hash key is this many bytes, zero after the selector's length). */
    public static final int SELECTOR_BYTES = 16;
    /** The furthest selector offset the dispatcher accepts. */
    public static final int MAX_OFFSET = CGenerator.MAX_READS;

    static final String ENTRY = "comp";

    private CompositeGenerator() {}

    /** What the composite serves: TCP connections (a cgroup) or UDP datagrams (XDP on an interface). */
    public enum Protocol {
        TCP, UDP;

        public String base() {
            return this == TCP ? BASE : BASE_UDP;
        }

        public String lower() {
            return this == TCP ? "tcp" : "udp";
        }
    }

    /** What {@link #generate()} made: the files, and why there is no object when there is none. */
    public record Result(List<GeneratedFile> files, Optional<String> warning, Optional<String> error) {}

    /** The C source of the TCP composite object (the golden file's content). */
    static String source() {
        return source(Protocol.TCP);
    }

    /** The C source of the composite object for {@code protocol}. */
    static String source(Protocol protocol) {
        return protocol == Protocol.TCP ? tcpSource() : udpSource();
    }

    private static String tcpSource() {
        STGroup ebpf = new STGroupFile(CGenerator.class.getResource("ebpf.stg"), "UTF-8", '$', '$');
        ebpf.registerModelAdaptor(Record.class, new RecordAdaptor());
        STGroup comp = new STGroupFile(CGenerator.class.getResource("composite.stg"), "UTF-8", '$', '$');
        comp.registerModelAdaptor(Record.class, new RecordAdaptor());
        String e = ENTRY;
        Entry entry = new Entry(e, "composite on tcp, port from " + e + "_config", "xpsc composite", 0, true,
                "struct __sk_buff", "skb", "bpf_skb_load_bytes", e + "_handlers", SLOTS, List.of(), e + "_call",
                e + "_run", e + "_message", e + "_segment", "", e + "_socks", e + "_reset", e + "_verdict",
                e + "_sockops", e + "_egress", null, e + "_port_matches(ops)", null, null);
        ST tcp = ebpf.getInstanceOf("tcpEntry");
        tcp.add("e", entry);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", e);
        c.put("config", e + "_config");
        c.put("selectors", e + "_selectors");
        c.put("socks", e + "_socks");
        c.put("handlers", e + "_handlers");
        c.put("call", e + "_call");
        c.put("run", e + "_run");
        c.put("message", e + "_message");
        c.put("portMatches", e + "_port_matches");
        c.put("sockops", e + "_sockops");
        c.put("verdict", e + "_verdict");
        c.put("egress", e + "_egress");
        c.put("response", CGenerator.MAX_RESPONSE);
        c.put("slots", SLOTS);
        c.put("selectorBytes", SELECTOR_BYTES);
        c.put("maxOffset", MAX_OFFSET);
        c.put("tcpEntry", tcp.render());
        ST file = comp.getInstanceOf("file");
        file.add("c", c);
        return file.render();
    }

    /**
     * The UDP composite: composite-udp.stg around ebpf.stg's {@code udpEntry} (parse, predicate, one message per
     * datagram, XDP_TX reply), whose predicate is the configured port and whose message function chooses the slot.
     */
    private static String udpSource() {
        STGroup ebpf = new STGroupFile(CGenerator.class.getResource("ebpf.stg"), "UTF-8", '$', '$');
        ebpf.registerModelAdaptor(Record.class, new RecordAdaptor());
        STGroup comp = new STGroupFile(CGenerator.class.getResource("composite-udp.stg"), "UTF-8", '$', '$');
        comp.registerModelAdaptor(Record.class, new RecordAdaptor());
        String e = ENTRY;
        Entry entry = new Entry(e, "composite on udp, port from " + e + "_config", "xpsc composite --protocol udp", 0,
                false, "struct xdp_md", "ctx", "bpf_xdp_load_bytes", e + "_handlers", SLOTS, List.of(), e + "_call",
                e + "_run", e + "_message", e + "_segment", "", null, null, null, null, null, e + "_xdp", null,
                e + "_port_matches(&f)", null);
        ST udp = ebpf.getInstanceOf("udpEntry");
        udp.add("e", entry);
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", e);
        c.put("config", e + "_config");
        c.put("selectors", e + "_selectors");
        c.put("handlers", e + "_handlers");
        c.put("call", e + "_call");
        c.put("run", e + "_run");
        c.put("message", e + "_message");
        c.put("portMatches", e + "_port_matches");
        c.put("xdp", e + "_xdp");
        c.put("response", CGenerator.MAX_RESPONSE);
        c.put("slots", SLOTS);
        c.put("selectorBytes", SELECTOR_BYTES);
        c.put("maxOffset", MAX_OFFSET);
        c.put("udpEntry", udp.render());
        ST file = comp.getInstanceOf("file");
        file.add("c", c);
        return file.render();
    }

    /** The TCP composite's manifest. */
    static String manifest() {
        return manifest(Protocol.TCP);
    }

    /** The manifest: the agent's contract (docs/ebpf-target.md, "The composite object"). */
    static String manifest(Protocol protocol) {
        boolean tcp = protocol == Protocol.TCP;
        String e = ENTRY;
        Map<String, Object> root = Json.object();
        root.put("format", Manifest.FORMAT);
        root.put("version", Manifest.VERSION);
        root.put("source", tcp ? "(xpsc composite)" : "(xpsc composite --protocol udp)");
        root.put("object", protocol.base() + ".bpf.o");
        root.put("license", "Dual BSD/GPL");
        Map<String, Object> entry = Json.object();
        entry.put("name", e);
        entry.put("index", 0);
        entry.put("kind", "composite");
        entry.put("protocol", protocol.lower());
        Map<String, Object> pred = Json.object();
        Map<String, Object> port = Json.object();
        port.put("low", 0);
        port.put("high", 0);
        pred.put("port", port); // the agent writes the port it configures into its record of the context
        pred.put("sport", null);
        pred.put("from", null);
        pred.put("to", null);
        entry.put("predicate", pred);
        Map<String, Object> comp = Json.object();
        Map<String, Object> config = Manifest.name(e + "_config");
        config.put("bpfType", "array");
        config.put("key", "u32 0");
        config.put("valueSize", 16);
        config.put("encoding", "struct xps_comp_config { u32 port; u32 offset; u32 length; u32 reserved; }, "
                + "little-endian; port 0 matches no " + (tcp ? "connection" : "datagram"));
        comp.put("config", config);
        Map<String, Object> selectors = Manifest.name(e + "_selectors");
        selectors.put("bpfType", "hash");
        selectors.put("keySize", SELECTOR_BYTES);
        selectors.put("valueSize", 4);
        selectors.put("maxEntries", SLOTS);
        selectors.put("encoding", "key: the selector's length bytes, zero-padded to " + SELECTOR_BYTES
                + "; value: u32 handler slot, little-endian");
        comp.put("selectors", selectors);
        comp.put("maxSelectorLength", SELECTOR_BYTES);
        comp.put("maxOffset", MAX_OFFSET);
        comp.put("slots", SLOTS);
        comp.put("shared", tcp ? List.of("xps_nest", "xps_scratch", e + "_socks", "xps_conns", "xps_resets",
                "xps_counters") : List.of("xps_nest", "xps_scratch", "xps_counters"));
        comp.put("does", (tcp ? "a message" : "a datagram (one message)") + " whose selector is in no entry passes; "
                + "a selector's slot runs the handler program the agent put there (a sub-context's, loaded with the "
                + "shared maps)");
        entry.put("composite", comp);
        List<Object> programs = Json.array();
        if (!tcp) {
            programs.add(Manifest.program(e + "_xdp", "xdp", "xdp", "interface",
                    "Ethernet/IPv4 or IPv6/UDP datagrams to the configured port; runs the handlers, answers with XDP_TX"));
        } else {
            programs.add(Manifest.program(e + "_sockops", "sockops", "sock_ops", "cgroup",
                    "on passively established connections to the configured port, adds the socket to " + e
                            + "_socks (key: struct xps_tuple)"));
            programs.add(Manifest.program(e + "_verdict", "sk_skb/stream_verdict", "sk_skb_stream_verdict",
                    e + "_socks", "attach to the sockhash without a stream parser; runs the handlers on each "
                            + "received segment"));
            programs.add(Manifest.program(e + "_egress", "sk_msg", "sk_msg_verdict", e + "_socks",
                    "marks a connection in step again when the service sends on it"));
            entry.put("sockhash", Manifest.name(e + "_socks"));
        }
        entry.put("programs", programs);
        Map<String, Object> handlers = Json.object();
        handlers.put("progArray", Manifest.name(e + "_handlers"));
        handlers.put("slots", Json.array());
        entry.put("handlers", handlers);
        List<Object> entries = Json.array();
        entries.add(entry);
        root.put("entryPoints", entries);
        root.put("maps", Json.array());
        root.put("counters", Manifest.counters());
        if (tcp) {
            root.put("connections", Manifest.connections());
            root.put("resets", Manifest.resets());
            root.put("drain", Manifest.drain());
        }
        Map<String, Object> scratch = Json.object();
        scratch.put("maps", List.of("xps_nest", "xps_scratch", "xps_window"));
        scratch.put("windowBytes", 64);
        scratch.put("responseBytes", CGenerator.MAX_RESPONSE);
        scratch.put("does", "per-CPU working memory; xps_nest and xps_scratch are shared with the sub-contexts' "
                + "handlers (the response buffer is the largest xpsc builds, so every handler fits)");
        root.put("scratch", scratch);
        return Json.write(root);
    }

    /** The TCP composite's files under {@code ebpf/xps-composite/}; the object only when clang is here. */
    public static Result generate() {
        return generate(Protocol.TCP);
    }

    /** The composite's files under {@code ebpf/<base>/}; the object only when clang is here. */
    public static Result generate(Protocol protocol) {
        String base = protocol.base();
        String dir = "ebpf/" + base + "/";
        String source = source(protocol);
        String header = CGenerator.runtimeHeader();
        List<GeneratedFile> files = new ArrayList<>();
        files.add(GeneratedFile.text(dir + base + ".bpf.c", source));
        files.add(GeneratedFile.text(dir + "xps_runtime.h", header));
        files.add(GeneratedFile.text(dir + base + ".manifest.json", manifest(protocol)));
        Optional<Clang.Toolchain> clang = Clang.toolchain();
        if (clang.isEmpty()) {
            return new Result(files, Optional.of("target 'ebpf': " + Clang.whyUnavailable() + "; wrote the C "
                    + "sources only (build them with: clang " + String.join(" ", Clang.FLAGS) + " -I" + dir + " -c "
                    + dir + base + ".bpf.c)"), Optional.empty());
        }
        Map<String, String> sources = new LinkedHashMap<>();
        sources.put(base + ".bpf.c", source);
        sources.put("xps_runtime.h", header);
        return switch (Clang.compile(clang.get(), sources, base + ".bpf.c")) {
            case Clang.Result.Built b -> {
                files.add(new GeneratedFile(dir + base + ".bpf.o", b.object()));
                yield new Result(files, Optional.empty(), Optional.empty());
            }
            case Clang.Result.Failed f -> new Result(List.of(), Optional.empty(), Optional.of(
                    "internal compiler error: clang rejected the composite's eBPF C (a bug in xpsc, please report "
                            + "it):\n" + f.output().strip()));
        };
    }
}
