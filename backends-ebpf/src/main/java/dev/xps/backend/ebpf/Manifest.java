package dev.xps.backend.ebpf;

import dev.xps.backend.ebpf.Plan.EntryPlan;
import dev.xps.backend.ebpf.Plan.MapPlan;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.PortRange;
import dev.xps.compiler.ir.Predicate;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code <base>.manifest.json}: the contract between a compiled module and the runtime agent,
 * which reads it instead of depending on the compiler. The format is documented in
 * docs/ebpf-target.md; {@link #VERSION} changes when it changes incompatibly.
 */
final class Manifest {
    static final String FORMAT = "xps-ebpf-manifest";
    static final int VERSION = 1;
    /** The kernel keeps the first 15 characters of a program's or map's name. */
    static final int KERNEL_NAME = 15;

    private Manifest() {}

    static String write(Plan plan, int window, int response) {
        Map<String, Object> root = Json.object();
        root.put("format", FORMAT);
        root.put("version", VERSION);
        root.put("source", C.fileName(plan.module().sourceFile()));
        root.put("object", plan.module().baseName() + ".bpf.o");
        root.put("license", "Dual BSD/GPL");
        List<Object> entries = Json.array();
        for (EntryPlan e : plan.entries()) {
            entries.add(entry(e));
        }
        root.put("entryPoints", entries);
        List<Object> maps = Json.array();
        for (MapPlan m : plan.maps()) {
            maps.add(map(m));
        }
        root.put("maps", maps);
        root.put("counters", counters());
        if (plan.hasTcp()) {
            root.put("connections", connections());
            root.put("resets", resets());
            root.put("drain", drain());
        }
        root.put("scratch", scratch(window, response));
        if (!plan.module().consensus().isEmpty()) {
            root.put("consensus", ConsensusGenerator.manifest(plan.module()));
        }
        return Json.write(root);
    }

    // ------------------------------------------------------------------ entry points

    private static Map<String, Object> entry(EntryPlan e) {
        IrEntryPoint ep = e.entry();
        Map<String, Object> o = Json.object();
        o.put("name", ep.name());
        o.put("index", e.index());
        o.put("kind", ep instanceof IrEntryPoint.Dispatch ? "dispatch" : "handler");
        o.put("protocol", ep.predicate().protocol().name().toLowerCase(Locale.ROOT));
        o.put("predicate", predicate(ep.predicate()));
        if (ep instanceof IrEntryPoint.Dispatch d) {
            o.put("dispatch", dispatch(e, d));
        }
        List<Object> programs = Json.array();
        if (e.tcp()) {
            programs.add(program(e.sockopsProg(), "sockops", "sock_ops", "cgroup",
                    "on passively established connections that match the predicate, adds the socket to "
                            + e.socks() + " (key: struct xps_tuple)"));
            programs.add(program(e.verdictProg(), "sk_skb/stream_verdict", "sk_skb_stream_verdict", e.socks(),
                    "attach to the sockhash without a stream parser; runs the handlers on each received segment"));
            programs.add(program(e.egressProg(), "sk_msg", "sk_msg_verdict", e.socks(),
                    "marks a connection in step again when the service sends on it"));
            o.put("sockhash", name(e.socks()));
        } else {
            programs.add(program(e.xdpProg(), "xdp", "xdp", "interface",
                    "Ethernet/IPv4 or IPv6/UDP datagrams that match the predicate; answers with XDP_TX"));
        }
        o.put("programs", programs);
        Map<String, Object> handlers = Json.object();
        handlers.put("progArray", name(e.handlersArray()));
        List<Object> slots = Json.array();
        for (var s : e.slots()) {
            Map<String, Object> slot = Json.object();
            slot.put("slot", s.index());
            slot.put("handler", s.program().handler().name());
            slot.put("program", s.program().cName());
            slot.put("kernelName", kernelName(s.program().cName()));
            slot.put("section", e.tcp() ? "sk_skb/stream_verdict" : "xdp");
            slot.put("write", s.program().handler().write());
            slots.add(slot);
        }
        handlers.put("slots", slots);
        o.put("handlers", handlers);
        return o;
    }

    private static Map<String, Object> predicate(Predicate p) {
        Map<String, Object> o = Json.object();
        o.put("port", range(p.dstPort()));
        o.put("sport", p.srcPort().map(Manifest::range).orElse(null));
        o.put("from", p.srcAddress().map(a -> prefix(a)).orElse(null));
        o.put("to", p.dstAddress().map(a -> prefix(a)).orElse(null));
        return o;
    }

    private static Map<String, Object> range(PortRange r) {
        Map<String, Object> o = Json.object();
        o.put("low", r.low());
        o.put("high", r.high());
        return o;
    }

    private static Map<String, Object> prefix(dev.xps.compiler.ir.IpPrefix a) {
        Map<String, Object> o = Json.object();
        String s = a.toString();
        o.put("address", s.substring(0, s.indexOf('/')));
        o.put("prefixLength", a.prefixLength());
        return o;
    }

    private static Map<String, Object> dispatch(EntryPlan e, IrEntryPoint.Dispatch d) {
        Map<String, Object> o = Json.object();
        o.put("offset", d.offset());
        o.put("length", d.length());
        o.put("order", d.order() == ByteOrder.BIG ? "big" : "little");
        List<Object> arms = Json.array();
        for (IrEntryPoint.Arm a : d.arms()) {
            Map<String, Object> arm = Json.object();
            switch (a.selector()) {
                case IrEntryPoint.Selector.IntValue i -> arm.put("selector", Long.toUnsignedString(i.value()));
                case IrEntryPoint.Selector.BytesValue b -> arm.put("selectorHex", HexFormat.of().formatHex(b.value()));
            }
            target(e, a.target(), arm);
            arms.add(arm);
        }
        o.put("arms", arms);
        Map<String, Object> fallback = Json.object();
        target(e, d.fallback(), fallback);
        o.put("fallback", fallback);
        return o;
    }

    private static void target(EntryPlan e, IrEntryPoint.Target t, Map<String, Object> into) {
        switch (t) {
            case IrEntryPoint.Target.ToHandler h -> {
                into.put("handler", h.handler().name());
                into.put("slot", e.slotOf(h.handler()).orElseThrow().index());
            }
            case IrEntryPoint.Target.ToVerdict v -> into.put("verdict", v.verdict().keyword());
        }
    }

    static Map<String, Object> program(String cName, String section, String attach, String target,
                                       String what) {
        Map<String, Object> o = Json.object();
        o.put("name", cName);
        o.put("kernelName", kernelName(cName));
        o.put("section", section);
        o.put("attach", attach);
        o.put("target", target);
        o.put("does", what);
        return o;
    }

    // ------------------------------------------------------------------ maps

    private static Map<String, Object> map(MapPlan p) {
        IrMap m = p.map();
        Map<String, Object> o = name(p.cName());
        o.put("xpsName", m.name());
        o.put("kind", m.kind().name().toLowerCase(Locale.ROOT));
        o.put("bpfType", m.kind() == MapKind.HASH ? "hash" : "array");
        o.put("flags", m.kind() == MapKind.HASH ? List.of("BPF_F_NO_PREALLOC") : List.of());
        o.put("capacity", m.capacity());
        o.put("maxEntries", KernelLayout.maxEntries(m));
        o.put("keySize", KernelLayout.keySize(m));
        o.put("valueSize", KernelLayout.valueSize(m));
        o.put("key", m.kind() == MapKind.HASH ? layout(m.keyType())
                : m.kind() == MapKind.ARRAY ? index(m.keyType()) : logIndex());
        o.put("value", m.kind() == MapKind.LOG ? logSlot(m, p.slotStruct()) : layout(m.valueType()));
        if (m.stats()) {
            Map<String, Object> stats = name(p.hitsName());
            stats.put("bpfType", m.kind() == MapKind.HASH ? "hash" : "array");
            stats.put("key", "the key of " + p.cName() + ", in its kernel layout");
            stats.put("value", "u64: lookups that hit (atomically added)");
            o.put("stats", stats);
        }
        return o;
    }

    private static Map<String, Object> layout(IrType t) {
        Map<String, Object> o = Json.object();
        o.put("type", t.toString());
        o.put("size", KernelLayout.size(t));
        switch (t) {
            case IrType.Int i -> o.put("encoding", "integer, little-endian, " + i.byteWidth() + " bytes");
            case IrType.Bytes b -> {
                o.put("encoding", "struct xps_bytes_" + KernelLayout.bytesCap(b.maxLength())
                        + " { u32 len; u8 data[" + KernelLayout.bytesCap(b.maxLength()) + "]; }, data zero after len");
                o.put("lengthOffset", 0);
                o.put("dataOffset", 4);
                o.put("dataCapacity", KernelLayout.bytesCap(b.maxLength()));
                o.put("maxLength", b.maxLength());
            }
            case IrType.Bool b -> throw new IllegalArgumentException("bool in a map");
        }
        return o;
    }

    private static Map<String, Object> index(IrType t) {
        Map<String, Object> o = Json.object();
        o.put("type", t.toString());
        o.put("canonicalSize", ((IrType.Int) t).byteWidth());
        o.put("size", 4);
        o.put("encoding", "array index as u32, little-endian (the " + t + " index zero-extended)");
        return o;
    }

    private static Map<String, Object> logIndex() {
        Map<String, Object> o = Json.object();
        o.put("type", "u64");
        o.put("canonicalSize", 8);
        o.put("size", 4);
        o.put("encoding", "slot as u32, little-endian: entry i (from 1) is slot i; slot 0 is the head");
        return o;
    }

    private static Map<String, Object> logSlot(IrMap m, String slotStruct) {
        Map<String, Object> o = Json.object();
        o.put("type", "log slot of " + m.valueType());
        o.put("size", KernelLayout.valueSize(m));
        o.put("encoding", "struct " + slotStruct + " { u64 seq; <entry> entry; }");
        o.put("seqOffset", 0);
        o.put("entryOffset", KernelLayout.logEntryOffset());
        o.put("entry", layout(m.valueType()));
        o.put("head", "slot 0's seq: appends made so far (atomically incremented; can pass capacity when full)");
        o.put("committed", "slot i holds entry i when its seq is i");
        return o;
    }

    // ------------------------------------------------------------------ runtime maps

    static Map<String, Object> counters() {
        Map<String, Object> o = name("xps_counters");
        o.put("bpfType", "percpu_array");
        o.put("key", "u32: the entry point's index");
        o.put("valueSize", 64);
        o.put("fields", List.of("tx", "drop", "pass", "reset", "malformed", "incomplete", "fallback", "unsynced"));
        o.put("encoding", "u64 each, little-endian, in this order; sum over CPUs");
        return o;
    }

    static Map<String, Object> connections() {
        Map<String, Object> o = name("xps_conns");
        o.put("bpfType", "lru_hash");
        o.put("key", "struct xps_tuple { u32 family; u32 remote_port; u32 local_port; u32 remote_ip6[4];"
                + " u32 local_ip6[4]; } (44 bytes; IPv4 is family 2 with v4-mapped addresses, IPv6 family 10)");
        o.put("value", "u32 flags: 1 out of step, 2 waiting for the service, 4 reset");
        return o;
    }

    static Map<String, Object> resets() {
        Map<String, Object> o = name("xps_resets");
        o.put("bpfType", "ringbuf");
        o.put("event", "struct xps_reset_event { u32 entry; struct xps_tuple tuple; } (48 bytes)");
        o.put("does", "the agent destroys each socket it names (sk_skb cannot)");
        return o;
    }

    static Map<String, Object> drain() {
        Map<String, Object> o = name("xps_drain");
        o.put("bpfType", "array");
        o.put("key", "u32 0");
        o.put("value", "u32: 1 makes the verdict programs pass every segment to the service");
        o.put("does", "the agent sets it before it detaches, so connections still on the fast path get plain service");
        return o;
    }

    private static Map<String, Object> scratch(int window, int response) {
        Map<String, Object> o = Json.object();
        o.put("maps", List.of("xps_nest", "xps_scratch", "xps_window", "xps_vars"));
        o.put("windowBytes", window);
        o.put("responseBytes", response);
        o.put("does", "per-CPU working memory of the programs; the agent leaves them alone");
        return o;
    }

    static Map<String, Object> name(String cName) {
        Map<String, Object> o = Json.object();
        o.put("name", cName);
        o.put("kernelName", kernelName(cName));
        return o;
    }

    static String kernelName(String cName) {
        return cName.length() <= KERNEL_NAME ? cName : cName.substring(0, KERNEL_NAME);
    }
}
