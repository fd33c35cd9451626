package dev.xps.backend.ebpf;

import dev.xps.backend.ebpf.EbpfModel.Arm;
import dev.xps.backend.ebpf.EbpfModel.Constant;
import dev.xps.backend.ebpf.EbpfModel.DataMap;
import dev.xps.backend.ebpf.EbpfModel.Dispatch;
import dev.xps.backend.ebpf.EbpfModel.Entry;
import dev.xps.backend.ebpf.EbpfModel.Handler;
import dev.xps.backend.ebpf.EbpfModel.Slot;
import dev.xps.backend.ebpf.EbpfModel.Vars;
import dev.xps.backend.ebpf.Plan.EntryPlan;
import dev.xps.backend.ebpf.Plan.HandlerProgram;
import dev.xps.backend.ebpf.Plan.MapPlan;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.DecodeOp;
import dev.xps.compiler.ir.EncodeItem;
import dev.xps.compiler.ir.Ipv4Prefix;
import dev.xps.compiler.ir.Ipv6Prefix;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrExpr;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrStmt;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Predicate;
import dev.xps.compiler.ir.Protocol;
import dev.xps.compiler.ir.Verdict;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.stringtemplate.v4.ST;
import org.stringtemplate.v4.STGroup;
import org.stringtemplate.v4.STGroupFile;

/**
 * Turns one module into its eBPF C ({@code <base>.bpf.c}), rendered with the templates of
 * {@code ebpf.stg}. What the target cannot do and the capability model does not name (a handler
 * that reads more than the per-CPU window holds, a long delimiter) is reported here, at the
 * construct, and nothing is generated.
 */
final class CGenerator {
    /** The most bytes of one message a handler can read: half of a 32 KiB per-CPU window. */
    static final int MAX_READS = 16_384;
    /** The response buffer of one segment. */
    static final int MAX_RESPONSE = 16_384;
    /** A per-CPU map value is at most 32 KiB: a handler's bytes locals must fit in one. */
    static final int MAX_VARS_BYTES = 32_768;
    static final int MAX_DELIMITER = 16;
    /** Long literals are matched in pieces (the result is the same: see xps_expect). */
    static final int EXPECT_CHUNK = 64;

    private static final STGroup TEMPLATES = loadTemplates();

    private final Plan plan;
    private final IrModule module;
    private final Diagnostics diagnostics;
    private final CNames fileScope = CNames.file();
    private final TreeSet<Integer> bytesCaps = new TreeSet<>();
    private final List<Constant> constants = new ArrayList<>();
    private final Map<String, String> constantNames = new HashMap<>();
    private int window = 64;
    private int errors;

    CGenerator(Plan plan, Diagnostics diagnostics) {
        this.plan = plan;
        this.module = plan.module();
        this.diagnostics = diagnostics;
        for (MapPlan m : plan.maps()) {
            fileScope.fixed(m.cName());
            if (m.hitsName() != null) {
                fileScope.fixed(m.hitsName());
            }
        }
        for (HandlerProgram p : plan.programs()) {
            fileScope.fixed(p.cName());
        }
        for (EntryPlan e : plan.entries()) {
            for (String n : new String[] {e.handlersArray(), e.call(), e.run(), e.messageFn(), e.segmentFn(),
                    e.resetFn(), e.socks(), e.verdictProg(), e.sockopsProg(), e.egressProg(), e.xdpProg()}) {
                if (n != null) {
                    fileScope.fixed(n);
                }
            }
        }
    }

    private static STGroup loadTemplates() {
        STGroup group = new STGroupFile(CGenerator.class.getResource("ebpf.stg"), "UTF-8", '$', '$');
        group.registerModelAdaptor(Record.class, new RecordAdaptor());
        return group;
    }

    static String runtimeHeader() {
        try (var in = CGenerator.class.getResourceAsStream("xps_runtime.h")) {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException | NullPointerException e) {
            throw new IllegalStateException("xps_runtime.h is missing from the ebpf backend's resources", e);
        }
    }

    /** The C source, or empty when the module does not fit the target (reported). */
    Optional<String> generate() {
        for (MapPlan m : plan.maps()) {
            bytesCaps.addAll(capsOf(m.map().keyType()));
            bytesCaps.addAll(capsOf(m.map().valueType()));
        }
        List<Handler> handlers = new ArrayList<>();
        List<Vars> vars = new ArrayList<>();
        for (HandlerProgram p : plan.programs()) {
            HandlerCode code = new HandlerCode(p);
            handlers.add(code.build());
            if (!code.fields.isEmpty()) {
                vars.add(new Vars(p.cName(), p.cName() + "_vars", List.copyOf(code.fields)));
            }
        }
        List<Entry> entries = new ArrayList<>();
        for (EntryPlan e : plan.entries()) {
            entries.add(entry(e));
        }
        if (errors > 0) {
            return Optional.empty();
        }
        List<DataMap> maps = plan.maps().stream().map(this::dataMap).toList();
        response = responseBytes();
        EbpfModel.File file = new EbpfModel.File(C.fileName(module.sourceFile()), module.baseName(), summary(),
                window, "\t/* a handler reads at most " + maxReads() + " bytes of a message */", response,
                Math.max(1, plan.entries().size()), bytesCaps.isEmpty() ? 8 : bytesCaps.last(), List.copyOf(bytesCaps), maps, plan.hasTcp(), vars,
                List.copyOf(constants), handlers, entries);
        ST st = TEMPLATES.getInstanceOf("file");
        st.add("m", file);
        return Optional.of(st.render());
    }

    private int maxReads = 0;
    private int response;

    /** XPS_WINDOW, once {@link #generate()} ran. */
    int window() {
        return window;
    }

    /** XPS_RESPONSE, once {@link #generate()} ran. */
    int response() {
        return response;
    }

    private int maxReads() {
        return maxReads;
    }

    /** The response buffer: room for every tx response of a segment, within MAX_RESPONSE. */
    private int responseBytes() {
        long needed = 0;
        for (EntryPlan e : plan.entries()) {
            long most = 0;
            for (var slot : e.slots()) {
                most = Math.max(most, slot.program().handler().maxResponseBytes());
            }
            needed = Math.max(needed, e.tcp() ? most * 32 : most);
        }
        return C.powerOfTwoAtLeast((int) Math.max(512, Math.min(MAX_RESPONSE, needed)));
    }

    private List<String> summary() {
        List<String> lines = new ArrayList<>();
        for (EntryPlan e : plan.entries()) {
            IrEntryPoint ep = e.entry();
            String kind = ep instanceof IrEntryPoint.Dispatch ? "dispatch" : "handler";
            lines.add(ep.name() + ": " + kind + " on " + C.comment(ep.predicate().toString()) + " ("
                    + C.at(ep.location()) + ")");
            if (e.tcp()) {
                lines.add(String.format("  %-22s sockops                adds the service's connections to %s",
                        e.sockopsProg(), e.socks()));
                lines.add(String.format("  %-22s sk_skb/stream_verdict  runs the handlers on each received segment",
                        e.verdictProg()));
                lines.add(String.format("  %-22s sk_msg                 notes that the service answered",
                        e.egressProg()));
            } else {
                lines.add(String.format("  %-22s xdp                    runs the handler on each datagram, "
                        + "answers with XDP_TX", e.xdpProg()));
            }
            StringBuilder slots = new StringBuilder("  handlers, tail-called through " + e.handlersArray() + ":");
            for (var s : e.slots()) {
                slots.append(' ').append(s.index()).append(' ').append(s.program().cName());
                if (s.index() < e.slots().size() - 1) {
                    slots.append(',');
                }
            }
            lines.add(slots.toString());
            lines.add("");
        }
        if (!lines.isEmpty()) {
            lines.removeLast();
        }
        return lines;
    }

    // ------------------------------------------------------------------ maps

    private DataMap dataMap(MapPlan p) {
        IrMap m = p.map();
        String kind = m.kind().name().toLowerCase(Locale.ROOT);
        String types = m.kind() == MapKind.LOG ? m.valueType().toString() : m.keyType() + ", " + m.valueType();
        String declaration = "map " + m.name() + " : " + kind + "<" + types + "> capacity "
                + Long.toUnsignedString(m.capacity()) + (m.stats() ? " with stats" : "");
        String bpfType = m.kind() == MapKind.HASH ? "BPF_MAP_TYPE_HASH" : "BPF_MAP_TYPE_ARRAY";
        String valueType = m.kind() == MapKind.LOG ? "struct " + p.slotStruct() : KernelLayout.cType(m.valueType());
        return new DataMap(C.comment(declaration), C.at(m.location()), p.cName(), bpfType, m.kind() == MapKind.HASH,
                KernelLayout.maxEntries(m), KernelLayout.keyCType(m), valueType, p.slotStruct(),
                KernelLayout.cType(m.valueType()), p.hitsName(),
                m.kind() == MapKind.HASH ? "BPF_MAP_TYPE_HASH" : "BPF_MAP_TYPE_ARRAY");
    }

    private static List<Integer> capsOf(IrType t) {
        return t instanceof IrType.Bytes b ? List.of(KernelLayout.bytesCap(b.maxLength())) : List.of();
    }

    // ------------------------------------------------------------------ constants

    /** A bytes constant as a static const struct in .rodata (zero-padded like every bytes value). */
    private String constant(byte[] value) {
        String key = HexFormat.of().formatHex(value);
        return constantNames.computeIfAbsent(key, k -> {
            String name = "xps_const_" + (constants.size() + 1);
            int cap = KernelLayout.bytesCap(value.length);
            bytesCaps.add(cap);
            constants.add(new Constant(name, cap, value.length, C.string(value)));
            return name;
        });
    }

    // ------------------------------------------------------------------ entry points

    private Entry entry(EntryPlan e) {
        IrEntryPoint ep = e.entry();
        boolean tcp = e.tcp();
        String ctxType = tcp ? "struct __sk_buff" : "struct xdp_md";
        String ctxName = tcp ? "skb" : "ctx";
        String load = tcp ? "bpf_skb_load_bytes" : "bpf_xdp_load_bytes";
        List<Slot> slots = e.slots().stream()
                .map(s -> new Slot(s.index(), s.program().cName(), s.program().handler().name())).toList();
        String title = (ep instanceof IrEntryPoint.Dispatch d
                ? "dispatch " + ep.name() + " on " + ep.predicate() + " at offset " + d.offset() + " length " + d.length()
                        + (d.length() > 1 && !bytesSelectors(d) && d.order() == ByteOrder.LITTLE ? " le" : "")
                : "handler " + ep.name() + " on " + ep.predicate());
        String direct = ep instanceof IrEntryPoint.Direct d ? d.handler().name() : null;
        Entry partial = new Entry(ep.name(), C.comment(title), C.at(ep.location()), e.index(), tcp, ctxType, ctxName,
                load, e.handlersArray(), Math.max(1, slots.size()), slots, e.call(), e.run(), e.messageFn(),
                e.segmentFn(), null, e.socks(), e.resetFn(), e.verdictProg(), e.sockopsProg(), e.egressProg(),
                e.xdpProg(), tcp ? opsPredicate(ep.predicate()) : null, tcp ? null : udpPredicate(ep.predicate()),
                direct);
        String message;
        if (ep instanceof IrEntryPoint.Dispatch d) {
            ST st = TEMPLATES.getInstanceOf("dispatchMessage");
            st.add("e", partial);
            st.add("d", dispatch(e, d));
            message = st.render();
        } else {
            ST st = TEMPLATES.getInstanceOf("directMessage");
            st.add("e", partial);
            message = st.render();
        }
        return new Entry(partial.name(), partial.title(), partial.location(), partial.index(), tcp, ctxType, ctxName,
                load, partial.handlers(), partial.slotCount(), slots, partial.call(), partial.run(),
                partial.messageFn(), partial.segmentFn(), message, partial.socks(), partial.resetFn(),
                partial.verdictProg(), partial.sockopsProg(), partial.egressProg(), partial.xdpProg(),
                partial.opsPredicate(), partial.udpPredicate(), direct);
    }

    private static boolean bytesSelectors(IrEntryPoint.Dispatch d) {
        return d.arms().stream().anyMatch(a -> a.selector() instanceof IrEntryPoint.Selector.BytesValue);
    }

    private Dispatch dispatch(EntryPlan e, IrEntryPoint.Dispatch d) {
        boolean integer = !bytesSelectors(d);
        List<Arm> arms = new ArrayList<>();
        String ctx = e.tcp() ? "skb" : "ctx";
        for (IrEntryPoint.Arm a : d.arms()) {
            String test = switch (a.selector()) {
                case IrEntryPoint.Selector.IntValue i -> "value == " + C.u64(i.value());
                case IrEntryPoint.Selector.BytesValue b -> "xps_sel_is(sel, " + C.string(b.value()) + ", "
                        + b.value().length + ")";
            };
            arms.add(new Arm(test, action(e, a.target(), ctx), C.at(a.location()) + targetNote(a.target())));
        }
        String fallback = action(e, d.fallback(), ctx);
        return new Dispatch(d.offset(), d.length(), integer, d.order() == ByteOrder.BIG ? 1 : 0, arms, fallback,
                targetNote(d.fallback()).replaceFirst("^, ", ""));
    }

    private static String targetNote(IrEntryPoint.Target t) {
        return switch (t) {
            case IrEntryPoint.Target.ToHandler h -> ", " + h.handler().name();
            case IrEntryPoint.Target.ToVerdict v -> ", " + v.verdict().keyword();
        };
    }

    private static String action(EntryPlan e, IrEntryPoint.Target t, String ctx) {
        return switch (t) {
            case IrEntryPoint.Target.ToHandler h ->
                    e.run() + "(" + ctx + ", s, " + e.slotOf(h.handler()).orElseThrow().index() + ")";
            case IrEntryPoint.Target.ToVerdict v -> "xps_arm_verdict(s, " + verdict(v.verdict()) + ")";
        };
    }

    /**
     * sock_ops sees the local port in host order and the remote one in network order. Ports match IPv4 and IPv6
     * connections alike; an address prefix matches its own family only: an IPv4 one IPv4 connections (also
     * v4-mapped ones on an AF_INET6 socket: {@code ops->remote_ip4} of a native IPv6 socket is a placeholder of
     * the kernel's, not one of its addresses), an IPv6 one native IPv6 connections ({@code remote_ip6[]}).
     */
    private static String opsPredicate(Predicate p) {
        List<String> parts = new ArrayList<>();
        parts.add(range("ops->local_port", p.dstPort()));
        p.srcPort().ifPresent(r -> parts.add(range("bpf_ntohl(ops->remote_port)", r)));
        if (p.srcAddress().isPresent() || p.dstAddress().isPresent()) {
            parts.add(p.isIpv6() ? "xps_ops_is_ipv6(ops)" : "xps_ops_is_ipv4(ops)");
        }
        p.srcAddress().ifPresent(a -> parts.add(a instanceof Ipv6Prefix v6
                ? ip6("xps_ip6_in(ops->remote_ip6[0], ops->remote_ip6[1], ops->remote_ip6[2], ops->remote_ip6[3], ", v6)
                : prefix("bpf_ntohl(ops->remote_ip4)", (Ipv4Prefix) a)));
        p.dstAddress().ifPresent(a -> parts.add(a instanceof Ipv6Prefix v6
                ? ip6("xps_ip6_in(ops->local_ip6[0], ops->local_ip6[1], ops->local_ip6[2], ops->local_ip6[3], ", v6)
                : prefix("bpf_ntohl(ops->local_ip4)", (Ipv4Prefix) a)));
        return String.join(" && ", parts);
    }

    /** {@code call} (a helper's name and its leading arguments) completed with the network and mask words. */
    private static String ip6(String call, Ipv6Prefix a) {
        if (a.prefixLength() == 0) {
            return "1 /* " + a + " */";
        }
        byte[] n = a.bytes();
        byte[] m = a.maskBytes();
        StringBuilder s = new StringBuilder(call);
        for (byte[] words : List.of(n, m)) {
            for (int i = 0; i < 4; i++) {
                long w = ((words[4 * i] & 0xFFL) << 24) | ((words[4 * i + 1] & 0xFFL) << 16)
                        | ((words[4 * i + 2] & 0xFFL) << 8) | (words[4 * i + 3] & 0xFFL);
                s.append(String.format("bpf_htonl(0x%08x)", w)).append(words == m && i == 3 ? "" : ", ");
            }
        }
        return s.append(") /* ").append(a).append(" */").toString();
    }

    /**
     * The XDP entry's test on a parsed datagram ({@code f}, IPv4 or IPv6). As for TCP, ports match both families and
     * an address prefix only datagrams of its own family (IPv6 ones are read from the packet's header).
     */
    private static String udpPredicate(Predicate p) {
        List<String> parts = new ArrayList<>();
        parts.add(range("bpf_ntohs(f.dport)", p.dstPort()));
        p.srcPort().ifPresent(r -> parts.add(range("bpf_ntohs(f.sport)", r)));
        if (p.srcAddress().isPresent() || p.dstAddress().isPresent()) {
            parts.add(p.isIpv6() ? "!xps_udp_is_ipv4(&f)" : "xps_udp_is_ipv4(&f)");
        }
        p.srcAddress().ifPresent(a -> parts.add(a instanceof Ipv6Prefix v6 ? ip6("xps_udp_ip6_in(ctx, &f, 0, ", v6)
                : prefix("bpf_ntohl(f.saddr)", (Ipv4Prefix) a)));
        p.dstAddress().ifPresent(a -> parts.add(a instanceof Ipv6Prefix v6 ? ip6("xps_udp_ip6_in(ctx, &f, 1, ", v6)
                : prefix("bpf_ntohl(f.daddr)", (Ipv4Prefix) a)));
        return String.join(" && ", parts);
    }

    private static String range(String value, dev.xps.compiler.ir.PortRange r) {
        return r.isSingle() ? value + " == " + r.low()
                : "(" + value + " >= " + r.low() + " && " + value + " <= " + r.high() + ")";
    }

    private static String prefix(String value, Ipv4Prefix a) {
        if (a.prefixLength() == 0) {
            return "1 /* " + a + " */";
        }
        return String.format("(%s & 0x%08x) == 0x%08x /* %s */", value, a.mask(), a.address(), a);
    }

    static String verdict(Verdict v) {
        return "XPS_" + v.name();
    }

    // ------------------------------------------------------------------ handlers

    /** A bytes value as C sees it: its data and length, its capacity, and a pointer to its struct. */
    private record BytesRef(String data, String len, int cap, String ptr, boolean padded) {}

    /** How a local is held in C. */
    private enum Held { INT, BOOL, BYTES_FIELD, BYTES_POINTER }

    private record Local(String cName, IrType type, Held held) {}

    /** One handler compiled for one program type. */
    private final class HandlerCode {
        private final HandlerProgram program;
        private final IrHandler h;
        private final boolean tcp;
        private final CNames scope = fileScope.child();
        private final Map<String, Local> locals = new LinkedHashMap<>();
        private final List<String> fields = new ArrayList<>();
        private int varsBytes;
        private int temps;

        HandlerCode(HandlerProgram program) {
            this.program = program;
            this.h = program.handler();
            this.tcp = program.protocol() == Protocol.TCP;
        }

        private String vars() {
            return "vars->" + program.cName();
        }

        Handler build() {
            List<String> decoded = new ArrayList<>();
            for (IrStmt s : h.body()) {
                if (s instanceof IrStmt.Decode d) {
                    for (DecodeOp op : d.ops()) {
                        target(op).ifPresent(l -> decoded.add(l.name()));
                    }
                }
            }
            List<String> declarations = new ArrayList<>();
            List<String> pointers = new ArrayList<>();
            for (IrLocal l : h.locals()) {
                String c = scope.user(l.name());
                switch (l.type()) {
                    case IrType.Int i -> {
                        locals.put(l.name(), new Local(c, l.type(), Held.INT));
                        declarations.add("__u64 " + c + " = 0;");
                    }
                    case IrType.Bool b -> {
                        locals.put(l.name(), new Local(c, l.type(), Held.BOOL));
                        declarations.add("int " + c + " = 0;");
                    }
                    case IrType.Bytes b -> {
                        String type = KernelLayout.cType(b);
                        bytesCaps.add(KernelLayout.bytesCap(b.maxLength()));
                        if (decoded.contains(l.name())) {
                            locals.put(l.name(), new Local(c, l.type(), Held.BYTES_FIELD));
                            field(type + " " + c + ";", KernelLayout.size(b));
                            declarations.add("const " + type + " *" + c + ";");
                            pointers.add(c + " = &" + vars() + "." + c + ";");
                        } else {
                            locals.put(l.name(), new Local(c, l.type(), Held.BYTES_POINTER));
                            declarations.add("const " + type + " *" + c + " = NULL;");
                        }
                    }
                }
            }
            int reads = reads();
            maxReads = Math.max(maxReads, reads);
            window = Math.max(window, C.powerOfTwoAtLeast(Math.max(64, reads)));
            List<String> body = statements(h.body());
            if (varsBytes > MAX_VARS_BYTES) {
                error(h.location(), "handler '" + h.name() + "' needs " + varsBytes + " bytes for its bytes values "
                        + "but target 'ebpf' keeps at most " + MAX_VARS_BYTES + " per handler (one per-CPU map value)");
            }
            Optional<IrStmt.Decode> decode = h.body().stream().filter(IrStmt.Decode.class::isInstance)
                    .map(IrStmt.Decode.class::cast).findFirst();
            return new Handler((h.write() ? "write handler " : "handler ") + h.name()
                    + (tcp ? ", for TCP entry points" : ", for UDP entry points"),
                    C.at(h.location()), tcp ? "sk_skb/stream_verdict" : "xdp", program.cName(),
                    tcp ? "struct __sk_buff *skb" : "struct xdp_md *ctx", tcp ? "skb" : "ctx",
                    tcp ? "bpf_skb_load_bytes" : "bpf_xdp_load_bytes", reads, declarations, pointers, body,
                    decode.isPresent(), decode.map(d -> verdict(d.onMalformed())).orElse("XPS_PASS"));
        }

        private void field(String declaration, int size) {
            fields.add(declaration);
            varsBytes += size;
        }

        /** A bytes temporary in the handler's per-CPU locals, zero-padded: returns its path. */
        private String temp(int cap) {
            String name = "xps_t" + (++temps);
            bytesCaps.add(cap);
            field("struct xps_bytes_" + cap + " " + name + ";", 4 + cap);
            return vars() + "." + name;
        }

        /**
         * The most bytes from the message start any decode step can look at (the window it needs),
         * checked against the target's window; unlike the message's extent, a decimal's look-ahead
         * byte counts and a frame's length does not.
         */
        private int reads() {
            long cursor = 0;
            long reads = 0;
            for (IrStmt s : h.body()) {
                if (!(s instanceof IrStmt.Decode d)) {
                    continue;
                }
                for (DecodeOp op : d.ops()) {
                    long before = reads;
                    switch (op) {
                        case DecodeOp.Expect e -> {
                            cursor += e.literal().length;
                            reads = Math.max(reads, cursor);
                        }
                        case DecodeOp.Skip k -> cursor += k.count();
                        case DecodeOp.SkipVar k -> cursor += k.max();
                        case DecodeOp.SkipUntil u -> {
                            delimiter(u.delimiter(), op.location());
                            cursor += u.max() + (long) u.delimiter().length;
                            reads = Math.max(reads, cursor);
                        }
                        case DecodeOp.Decimal dec -> {
                            reads = Math.max(reads, cursor + dec.maxDigits() + 1);
                            cursor += dec.maxDigits();
                        }
                        case DecodeOp.VarBytes v -> {
                            cursor += v.max();
                            reads = Math.max(reads, cursor);
                        }
                        case DecodeOp.FixedBytes f -> {
                            if (f.offset().isPresent()) {
                                reads = Math.max(reads, (long) f.offset().getAsInt() + f.size());
                            } else {
                                cursor += f.size();
                                reads = Math.max(reads, cursor);
                            }
                        }
                        case DecodeOp.Until u -> {
                            delimiter(u.delimiter(), op.location());
                            cursor += u.max() + (long) u.delimiter().length;
                            reads = Math.max(reads, cursor);
                        }
                        case DecodeOp.IntField f -> {
                            if (f.offset().isPresent()) {
                                reads = Math.max(reads, (long) f.offset().getAsInt() + f.byteWidth());
                            } else {
                                cursor += f.byteWidth();
                                reads = Math.max(reads, cursor);
                            }
                        }
                        case DecodeOp.Require r -> { }
                        case DecodeOp.Frame f -> { }
                    }
                    if (reads > MAX_READS && before <= MAX_READS) {
                        error(op.location(), "handler '" + h.name() + "' can read " + reads + " bytes of a message "
                                + "here but target 'ebpf' reads at most " + MAX_READS + " (lower a max)");
                    }
                }
            }
            return (int) Math.min(reads, MAX_READS);
        }

        private void delimiter(byte[] delimiter, SourceLocation at) {
            if (delimiter.length > MAX_DELIMITER) {
                error(at, "target 'ebpf' cannot express a delimiter of " + delimiter.length + " bytes (at most "
                        + MAX_DELIMITER + ")");
            }
        }

        // -------------------------------------------------------------- statements

        private List<String> statements(List<IrStmt> body) {
            List<String> out = new ArrayList<>();
            for (IrStmt s : body) {
                out.add(statement(s));
            }
            return out;
        }

        private String statement(IrStmt s) {
            String loc = C.at(s.location());
            return switch (s) {
                case IrStmt.Decode d -> decode(d);
                case IrStmt.Let l -> render("let", "loc", loc, "target", local(l.target()).cName(),
                        "value", value(l.value()));
                case IrStmt.Lookup l -> lookup(l, loc);
                case IrStmt.Update u -> update(u, loc);
                case IrStmt.Delete d -> delete(d, loc);
                case IrStmt.Append a -> append(a, loc);
                case IrStmt.If i -> render("ifStmt", "loc", loc, "cond", bare(cond(i.condition())),
                        "then", statements(i.then()), "otherwise", i.otherwise().isEmpty() ? null
                                : statements(i.otherwise()));
                case IrStmt.Encode e -> render("encode", "loc", loc, "items", encodeItems(e));
                case IrStmt.Return r -> render("returnStmt", "loc", loc, "verdict", verdict(r.verdict()));
            };
        }

        /** A value for a let: an integer, a condition, or a pointer to a bytes value. */
        private String value(IrExpr e) {
            return switch (e.type()) {
                case IrType.Bytes b -> bytes(e).ptr();
                case IrType.Bool b -> cond(e);
                case IrType.Int i -> expr(e);
            };
        }

        private String decode(IrStmt.Decode d) {
            List<String> parts = new ArrayList<>();
            parts.add(render("decodeHeader", "loc", C.at(d.location()), "verdict", d.onMalformed().keyword()));
            for (DecodeOp op : d.ops()) {
                String loc = C.at(op.location());
                switch (op) {
                    case DecodeOp.Expect e -> {
                        byte[] lit = e.literal();
                        for (int at = 0; at < lit.length; at += EXPECT_CHUNK) {
                            byte[] piece = java.util.Arrays.copyOfRange(lit, at, Math.min(lit.length, at + EXPECT_CHUNK));
                            parts.add(step(loc, "xps_expect(w, &m, " + C.string(piece) + ", " + piece.length + ", "
                                    + (e.caseInsensitive() ? 1 : 0) + ")"));
                        }
                    }
                    case DecodeOp.Skip k -> parts.add(step(loc, "xps_skip(&m, " + k.count() + ", " + k.count() + ")"));
                    case DecodeOp.SkipVar k -> parts.add(step(loc, "xps_skip(&m, " + expr(k.count()) + ", "
                            + k.max() + ")"));
                    case DecodeOp.SkipUntil u -> parts.add(step(loc, "xps_skip_until(w, &m, " + C.string(u.delimiter())
                            + ", " + u.delimiter().length + ", " + u.max() + ")"));
                    case DecodeOp.Decimal dec -> parts.add(step(loc, "xps_decimal(w, &m, " + dec.maxDigits() + ", &"
                            + local(dec.target()).cName() + ")"));
                    case DecodeOp.VarBytes v -> {
                        String f = field(v.target());
                        parts.add(step(loc, "xps_bytes(w, &m, " + expr(v.length()) + ", " + v.max() + ", &" + f
                                + ".len, " + f + ".data, " + capOf(v.target()) + ")"));
                    }
                    case DecodeOp.FixedBytes fb -> {
                        String f = field(fb.target());
                        parts.add(step(loc, fb.offset().isPresent()
                                ? "xps_bytes_at(w, &m, " + fb.offset().getAsInt() + ", " + fb.size() + ", &" + f
                                        + ".len, " + f + ".data, " + capOf(fb.target()) + ")"
                                : "xps_bytes(w, &m, " + fb.size() + ", " + fb.size() + ", &" + f + ".len, " + f
                                        + ".data, " + capOf(fb.target()) + ")"));
                    }
                    case DecodeOp.Until u -> {
                        String f = field(u.target());
                        parts.add(step(loc, "xps_until(w, &m, " + C.string(u.delimiter()) + ", "
                                + u.delimiter().length + ", " + u.max() + ", &" + f + ".len, " + f + ".data, "
                                + capOf(u.target()) + ")"));
                    }
                    case DecodeOp.IntField i -> {
                        int be = i.order() == ByteOrder.BIG ? 1 : 0;
                        String target = "&" + local(i.target()).cName();
                        parts.add(step(loc, i.offset().isPresent()
                                ? "xps_uint_at(w, &m, " + i.offset().getAsInt() + ", " + i.byteWidth() + ", " + be
                                        + ", " + target + ")"
                                : "xps_uint(w, &m, " + i.byteWidth() + ", " + be + ", " + target + ")"));
                    }
                    case DecodeOp.Require r -> parts.add(render("requireStep", "loc", loc, "cond", bare(cond(r.condition()))));

                    case DecodeOp.Frame f -> parts.add(step(loc, "xps_frame(&m, " + expr(f.length()) + ", " + f.max()
                            + ")"));
                }
            }
            parts.add(render("endDecode"));
            return String.join("\n", parts);
        }

        private String step(String loc, String call) {
            return render("decodeStep", "loc", loc, "call", call);
        }

        private String field(IrLocal l) {
            return vars() + "." + local(l).cName();
        }

        private int capOf(IrLocal l) {
            return KernelLayout.bytesCap(((IrType.Bytes) l.type()).maxLength());
        }

        private Local local(IrLocal l) {
            Local local = locals.get(l.name());
            if (local == null) {
                throw new IllegalStateException("local '" + l.name() + "' of handler '" + h.name() + "' is not declared");
            }
            return local;
        }

        // -------------------------------------------------------------- maps

        /** Statements that build a key or value into a C object, and a pointer to it. */
        private record Arg(List<String> prep, String ptr) {}

        private Arg keyArg(IrMap map, IrExpr key, String var) {
            if (map.kind() != MapKind.HASH) {
                int width = ((IrType.Int) map.keyType()).bits();
                String index = width == 32 ? "(__u32)(" + expr(key) + ")" : "(__u32)(__u" + width + ")(" + expr(key) + ")";
                return new Arg(List.of("__u32 " + var + " = " + index + ";"), "&" + var);
            }
            return valueArg(map.keyType(), key, var);
        }

        private Arg valueArg(IrType type, IrExpr value, String var) {
            if (type instanceof IrType.Int i) {
                String t = "__u" + i.bits();
                return new Arg(List.of(t + " " + var + " = (" + t + ")(" + expr(value) + ");"), "&" + var);
            }
            int cap = KernelLayout.bytesCap(((IrType.Bytes) type).maxLength());
            BytesRef b = bytes(value);
            if (b.cap() == cap && b.padded()) {
                return new Arg(List.of(), b.ptr());
            }
            String t = temp(cap);
            return new Arg(List.of("xps_copy_bytes(" + t + ".data, " + cap + ", " + b.data() + ", " + b.len() + ", "
                    + b.cap() + ");", t + ".len = " + b.len() + ";"), "&" + t);
        }

        private String lookup(IrStmt.Lookup l, String loc) {
            IrMap map = l.map();
            MapPlan mp = plan.map(map);
            Local target = local(l.target());
            boolean bytes = map.valueType() instanceof IrType.Bytes;
            if (map.kind() == MapKind.LOG) {
                return render("logLookup", "loc", loc, "index", expr(l.key()), "map", mp.cName(),
                        "slotType", mp.slotStruct(), "capacity", C.u64(map.capacity()),
                        "onMiss", verdict(l.onMiss()),
                        "assign", target.cName() + " = " + (bytes ? "&xps_val->entry" : "xps_val->entry"));
            }
            Arg key = keyArg(map, l.key(), "xps_key");
            return render("lookup", "loc", loc, "prep", key.prep(), "key", key.ptr(), "map", mp.cName(),
                    "valueType", KernelLayout.cType(map.valueType()), "onMiss", verdict(l.onMiss()),
                    "assign", target.cName() + " = " + (bytes ? "xps_val" : "*xps_val"), "hits", mp.hitsName());
        }

        private String update(IrStmt.Update u, String loc) {
            IrMap map = u.map();
            if (map.kind() == MapKind.LOG) {
                throw new IllegalStateException("update of log map '" + map.name() + "' reached the ebpf backend");
            }
            Arg key = keyArg(map, u.key(), "xps_key");
            Arg value = valueArg(map.valueType(), u.value(), "xps_value");
            List<String> prep = new ArrayList<>(key.prep());
            prep.addAll(value.prep());
            return render("update", "loc", loc, "prep", prep, "key", key.ptr(), "value", value.ptr(),
                    "map", plan.map(map).cName(), "onFull", u.onFull().map(CGenerator::verdict).orElse(null));
        }

        private String delete(IrStmt.Delete d, String loc) {
            IrMap map = d.map();
            Arg key = keyArg(map, d.key(), "xps_key");
            String name = plan.map(map).cName();
            return switch (map.kind()) {
                case HASH -> render("deleteHash", "loc", loc, "prep", key.prep(), "key", key.ptr(), "map", name);
                case ARRAY -> render("deleteArray", "loc", loc, "prep", key.prep(), "key", key.ptr(), "map", name,
                        "valueType", KernelLayout.cType(map.valueType()),
                        "clear", map.valueType() instanceof IrType.Bytes b
                                ? List.of("xps_val->len = 0", "xps_zero(xps_val->data, " + KernelLayout.bytesCap(b.maxLength())
                                        + ")")
                                : List.of("*xps_val = 0"));
                case LOG -> throw new IllegalStateException("delete from log map '" + map.name()
                        + "' reached the ebpf backend");
            };
        }

        private String append(IrStmt.Append a, String loc) {
            IrMap map = a.map();
            MapPlan mp = plan.map(map);
            String fill;
            if (map.valueType() instanceof IrType.Bytes bt) {
                int cap = KernelLayout.bytesCap(bt.maxLength());
                BytesRef b = bytes(a.value());
                fill = "xps_copy_bytes(xps_val->entry.data, " + cap + ", " + b.data() + ", " + b.len() + ", " + b.cap()
                        + ");\n" + "xps_val->entry.len = " + b.len();
            } else {
                String t = "__u" + ((IrType.Int) map.valueType()).bits();
                fill = "xps_val->entry = (" + t + ")(" + expr(a.value()) + ")";
            }
            return render("append", "loc", loc, "map", mp.cName(), "slotType", mp.slotStruct(),
                    "capacity", C.u64(map.capacity()), "onFull", verdict(a.onFull()), "fill", fill,
                    "target", local(a.target()).cName());
        }

        // -------------------------------------------------------------- encode

        private List<String> encodeItems(IrStmt.Encode e) {
            List<String> out = new ArrayList<>();
            for (EncodeItem item : e.items()) {
                out.add(switch (item) {
                    case EncodeItem.Literal l -> "xps_out_lit(s, " + C.string(l.bytes()) + ", " + l.bytes().length + ");";
                    case EncodeItem.Value v -> {
                        BytesRef b = bytes(v.bytes());
                        yield "xps_out_bytes(s, " + b.data() + ", " + b.len() + ", " + b.cap() + ");";
                    }
                    case EncodeItem.Decimal d -> "xps_out_decimal(s, " + expr(d.value()) + ");";
                    case EncodeItem.IntBinary i -> "xps_out_uint(s, " + expr(i.value()) + ", " + i.byteWidth() + ", "
                            + (i.order() == ByteOrder.BIG ? 1 : 0) + ");";
                });
            }
            return out;
        }

        // -------------------------------------------------------------- expressions

        /** An integer expression, as a C expression of type __u64. */
        private String expr(IrExpr e) {
            return switch (e) {
                case IrExpr.IntConst c -> C.u64(c.value());
                case IrExpr.LocalRef r -> local(r.local()).cName();
                case IrExpr.Length l -> "(__u64)" + bytes(l.operand()).len();
                case IrExpr.Binary b -> switch (b.op()) {
                    case SHL -> "xps_shl(" + expr(b.left()) + ", " + expr(b.right()) + ")";
                    case SHR -> "xps_shr(" + expr(b.left()) + ", " + expr(b.right()) + ")";
                    case ADD, SUB, MUL, BIT_AND, BIT_OR, BIT_XOR ->
                            "(" + expr(b.left()) + " " + b.op().symbol() + " " + expr(b.right()) + ")";
                    default -> throw new IllegalStateException("not an integer operator: " + b.op());
                };
                case IrExpr.BoolConst c -> throw new IllegalStateException("a condition used as an integer");
                case IrExpr.BytesConst c -> throw new IllegalStateException("bytes used as an integer");
                case IrExpr.Not n -> throw new IllegalStateException("a condition used as an integer");
            };
        }

        /** A condition, as a C expression that is 0 or 1. */
        private String cond(IrExpr e) {
            return switch (e) {
                case IrExpr.BoolConst c -> c.value() ? "1" : "0";
                case IrExpr.LocalRef r -> local(r.local()).cName();
                case IrExpr.Not n -> "!" + paren(cond(n.operand()));
                case IrExpr.Binary b -> switch (b.op()) {
                    case AND -> "(" + cond(b.left()) + " && " + cond(b.right()) + ")";
                    case OR -> "(" + cond(b.left()) + " || " + cond(b.right()) + ")";
                    case EQ, NE -> {
                        if (b.left().type() instanceof IrType.Bytes) {
                            String eq = bytesEq(bytes(b.left()), bytes(b.right()));
                            yield b.op() == IrExpr.BinaryOp.EQ ? eq : "!" + eq;
                        }
                        String side = b.left().type() instanceof IrType.Bool ? cond(b.left()) : expr(b.left());
                        String other = b.right().type() instanceof IrType.Bool ? cond(b.right()) : expr(b.right());
                        yield "(" + side + " " + b.op().symbol() + " " + other + ")";
                    }
                    case LT, LE, GT, GE -> "(" + expr(b.left()) + " " + b.op().symbol() + " " + expr(b.right()) + ")";
                    default -> throw new IllegalStateException("not a condition: " + b.op());
                };
                default -> throw new IllegalStateException("not a condition: " + e);
            };
        }

        /** Without the outer parentheses a binary operator put there ({@code if (a == b)}). */
        private static String bare(String s) {
            if (!(s.startsWith("(") && s.endsWith(")"))) {
                return s;
            }
            int depth = 0;
            for (int i = 0; i < s.length() - 1; i++) {
                depth += s.charAt(i) == '(' ? 1 : s.charAt(i) == ')' ? -1 : 0;
                if (depth == 0) {
                    return s; // "(a) && (b)": the first parenthesis closes early
                }
            }
            return s.substring(1, s.length() - 1);
        }

        private static String paren(String s) {
            return s.startsWith("(") && s.endsWith(")") ? s : "(" + s + ")";
        }

        /** Two temporaries of the smaller capacity receive zero-padded copies to compare. */
        private String bytesEq(BytesRef a, BytesRef b) {
            int cap = Math.min(a.cap(), b.cap());
            String ta = temp(cap);
            String tb = temp(cap);
            return "xps_bytes_eq(" + a.data() + ", " + a.len() + ", " + a.cap() + ", " + b.data() + ", " + b.len() + ", "
                    + b.cap() + ", " + ta + ".data, " + tb + ".data, " + cap + ")";
        }

        private BytesRef bytes(IrExpr e) {
            return switch (e) {
                case IrExpr.LocalRef r -> {
                    Local l = local(r.local());
                    int cap = KernelLayout.bytesCap(((IrType.Bytes) l.type()).maxLength());
                    yield new BytesRef(l.cName() + "->data", l.cName() + "->len", cap, l.cName(),
                            l.held() == Held.BYTES_FIELD);
                }
                case IrExpr.BytesConst c -> {
                    String name = constant(c.value());
                    yield new BytesRef(name + ".data", name + ".len", KernelLayout.bytesCap(c.value().length),
                            "&" + name, true);
                }
                default -> throw new IllegalStateException("not a bytes value: " + e);
            };
        }
    }

    private static Optional<IrLocal> target(DecodeOp op) {
        return switch (op) {
            case DecodeOp.Decimal d -> Optional.of(d.target());
            case DecodeOp.VarBytes v -> Optional.of(v.target());
            case DecodeOp.FixedBytes f -> Optional.of(f.target());
            case DecodeOp.Until u -> Optional.of(u.target());
            case DecodeOp.IntField i -> Optional.of(i.target());
            default -> Optional.empty();
        };
    }

    private void error(SourceLocation at, String message) {
        errors++;
        diagnostics.error(at, message);
    }

    private static String render(String template, Object... attributes) {
        ST st = TEMPLATES.getInstanceOf(template);
        if (st == null) {
            throw new IllegalStateException("no template " + template);
        }
        for (int i = 0; i < attributes.length; i += 2) {
            st.add((String) attributes[i], attributes[i + 1]);
        }
        return st.render();
    }
}
