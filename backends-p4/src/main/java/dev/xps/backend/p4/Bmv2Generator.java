package dev.xps.backend.p4;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.DecodeOp;
import dev.xps.compiler.ir.EncodeItem;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrExpr;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrLocal;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrStmt;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.Ipv4Prefix;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.PortRange;
import dev.xps.compiler.ir.Predicate;
import dev.xps.compiler.ir.Verdict;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * P4-16 for BMv2 {@code simple_switch} (v1model) from one module. Every handler this target
 * accepts reads only fixed-size fields at offsets known at compile time, so the parser extracts
 * the first bytes of the UDP payload into a stack of one-byte headers and each handler is a
 * control whose decode steps index that stack with constants: the exact incomplete / malformed
 * rules of docs/language.md become comparisons with the number of bytes that arrived.
 *
 * <p>Hash maps become exact-match tables (one per lookup site, filled by the control plane),
 * arrays become registers, the response is a second stack of one-byte headers, and a tx reflects
 * the packet out of its ingress port. What the capability model cannot say about this target
 * (integer-only map values, fixed-length keys, no hash-map writes, encodes at fixed positions)
 * is checked here and refused with the same kind of diagnostic, before any file is produced.
 */
final class Bmv2Generator {
    static final String TARGET = "p4-bmv2";
    static final int VERDICT_TX = 0;
    static final int VERDICT_DROP = 1;
    static final int VERDICT_PASS = 2;

    private final IrModule module;
    private final String file;
    private final Diagnostics diagnostics;
    private final List<String[]> refusals = new ArrayList<>();
    private final Set<String> refused = new LinkedHashSet<>();

    /** Table entries description for the control plane, one per lookup site. */
    final List<LookupSite> sites = new ArrayList<>();
    private int payloadMax = 1;
    private int responseMax = 1;

    record LookupSite(IrMap map, String control, String table, String keyField, int keyBits, String action,
                      int valueBits, SourceLocation location) {}

    Bmv2Generator(IrModule module, Diagnostics diagnostics) {
        this.module = module;
        this.file = fileName(module.sourceFile());
        this.diagnostics = diagnostics;
    }

    static String fileName(String path) {
        String p = path.replace('\\', '/');
        return safe(p.substring(p.lastIndexOf('/') + 1));
    }

    static String safe(String text) {
        StringBuilder s = new StringBuilder(text.length());
        for (char c : text.toCharArray()) {
            s.append(c < 0x20 || c == 0x7F ? '?' : c);
        }
        return s.toString().replace("*/", "*\\/").replace("/*", "/\\*");
    }

    String at(SourceLocation l) {
        return file + ":" + l.line();
    }

    private void refuse(SourceLocation at, String construct) {
        String message = "target '" + TARGET + "' cannot express " + construct;
        if (refused.add(at + message)) {
            diagnostics.error(at, message);
            refusals.add(new String[] {at.toString(), message});
        }
    }

    // ------------------------------------------------------------------ the subset

    /** Reports what this target cannot express; true when everything fits. */
    boolean check() {
        for (IrMap m : module.maps()) {
            if (!(m.valueType() instanceof IrType.Int)) {
                refuse(m.location(), "a map with bytes values ('" + m.name() + "'): a table action parameter or a "
                        + "register holds an integer");
            }
        }
        for (IrHandler h : module.handlers()) {
            Map<String, Integer> fixed = new HashMap<>();
            checkStatements(h, h.body(), fixed);
            checkEncodePositions(h);
        }
        return refusals.isEmpty();
    }

    private void checkStatements(IrHandler h, List<IrStmt> body, Map<String, Integer> fixed) {
        for (IrStmt s : body) {
            switch (s) {
                case IrStmt.Decode d -> {
                    for (DecodeOp op : d.ops()) {
                        if (op instanceof DecodeOp.FixedBytes f) {
                            fixed.put(f.target().name(), f.size());
                        }
                    }
                }
                case IrStmt.Let l -> {
                    if (l.target().type() instanceof IrType.Bytes) {
                        Integer n = fixedSize(l.value(), fixed);
                        if (n == null) {
                            refuse(l.location(), "a bytes value whose length is not known at compile time");
                        } else {
                            fixed.put(l.target().name(), n);
                        }
                    }
                }
                case IrStmt.Lookup l -> checkKey(l.map(), l.key(), fixed, l.location());
                case IrStmt.Update u -> {
                    if (u.map().kind() == MapKind.HASH) {
                        refuse(u.location(), "a write to hash map '" + u.map().name() + "' (P4 tables are written "
                                + "by the control plane only)");
                    }
                    checkKey(u.map(), u.key(), fixed, u.location());
                }
                case IrStmt.Delete d -> {
                    if (d.map().kind() == MapKind.HASH) {
                        refuse(d.location(), "a delete from hash map '" + d.map().name() + "' (P4 tables are "
                                + "written by the control plane only)");
                    }
                    checkKey(d.map(), d.key(), fixed, d.location());
                }
                case IrStmt.Append a -> refuse(a.location(), "a log append");
                case IrStmt.If i -> {
                    checkExpr(i.condition(), fixed, i.location());
                    checkStatements(h, i.then(), new HashMap<>(fixed));
                    checkStatements(h, i.otherwise(), new HashMap<>(fixed));
                }
                case IrStmt.Encode e -> {
                    for (EncodeItem item : e.items()) {
                        if (item instanceof EncodeItem.Value v && fixedSize(v.bytes(), fixed) == null) {
                            refuse(e.location(), "an encoded bytes value whose length is not known at compile time");
                        }
                    }
                }
                case IrStmt.Return r -> { }
            }
        }
    }

    private void checkKey(IrMap map, IrExpr key, Map<String, Integer> fixed, SourceLocation at) {
        if (map.keyType() instanceof IrType.Bytes b) {
            Integer n = fixedSize(key, fixed);
            if (n == null || n != b.maxLength()) {
                refuse(at, "a key of map '" + map.name() + "' that is not exactly " + b.maxLength()
                        + " bytes (a table key has a fixed width)");
            }
        }
    }

    private void checkExpr(IrExpr e, Map<String, Integer> fixed, SourceLocation at) {
        if (e instanceof IrExpr.Binary b) {
            if (b.left().type() instanceof IrType.Bytes && (fixedSize(b.left(), fixed) == null
                    || fixedSize(b.right(), fixed) == null)) {
                refuse(at, "a comparison of bytes whose length is not known at compile time");
            }
            checkExpr(b.left(), fixed, at);
            checkExpr(b.right(), fixed, at);
        } else if (e instanceof IrExpr.Not n) {
            checkExpr(n.operand(), fixed, at);
        }
    }

    private static Integer fixedSize(IrExpr e, Map<String, Integer> fixed) {
        return switch (e) {
            case IrExpr.BytesConst c -> c.value().length;
            case IrExpr.LocalRef r -> fixed.get(r.local().name());
            default -> null;
        };
    }

    /** Encodes are written at positions known at compile time: refuse an encode whose position is not. */
    private void checkEncodePositions(IrHandler h) {
        positions(h.body(), 0);
    }

    /** Returns the response length after the statements, -1 when unknown, -2 when every path returned. */
    private int positions(List<IrStmt> body, int pos) {
        for (IrStmt s : body) {
            switch (s) {
                case IrStmt.Encode e -> {
                    if (pos < 0) {
                        refuse(e.location(), "an encode after branches that encode different lengths (the response "
                                + "is built at fixed positions)");
                        return -2;
                    }
                    for (EncodeItem item : e.items()) {
                        pos += item.maxLength();
                    }
                }
                case IrStmt.If i -> {
                    int a = positions(i.then(), pos);
                    int b = positions(i.otherwise(), pos);
                    if (a == -2 && b == -2) {
                        return -2;
                    }
                    pos = a == -2 ? b : b == -2 ? a : a == b ? a : -1;
                }
                case IrStmt.Return r -> {
                    return -2;
                }
                default -> { }
            }
        }
        return pos;
    }

    // ------------------------------------------------------------------ generation

    private static String ctl(IrHandler h) {
        return "handler_" + h.name();
    }

    private static String inst(IrHandler h) {
        return "h_" + h.name();
    }

    String generate() {
        for (IrHandler h : module.handlers()) {
            payloadMax = Math.max(payloadMax, h.maxMessageBytes());
            responseMax = Math.max(responseMax, h.maxResponseBytes());
        }
        for (IrEntryPoint e : module.entryPoints()) {
            if (e instanceof IrEntryPoint.Dispatch d) {
                payloadMax = Math.max(payloadMax, d.offset() + d.length());
            }
        }
        StringBuilder handlers = new StringBuilder();
        for (IrHandler h : module.handlers()) {
            new HandlerWriter(h).write(handlers);
        }
        StringBuilder s = new StringBuilder();
        s.append("/* Generated by xpsc from ").append(file).append(". Do not edit.\n");
        s.append(" *\n * BMv2 simple_switch (P4-16, v1model). The switch sits between the network (port\n")
                .append(" * XPS_NETWORK_PORT) and the host that runs the service (port XPS_HOST_PORT); the handlers\n")
                .append(" * of ").append(file).append(" answer from here. Table entries: ").append(module.baseName())
                .append(".entries.json; build and run: README.md.\n */\n");
        s.append("#include <core.p4>\n#include <v1model.p4>\n\n");
        s.append("const bit<9> XPS_NETWORK_PORT = 0;\nconst bit<9> XPS_HOST_PORT = 1;\n\n");
        s.append("const bit<8> XPS_TX = 0;\nconst bit<8> XPS_DROP = 1;\nconst bit<8> XPS_PASS = 2;\n\n");
        s.append("""
                header ethernet_t {
                    bit<48> dst;
                    bit<48> src;
                    bit<16> ether_type;
                }

                header ipv4_t {
                    bit<4>  version;
                    bit<4>  ihl;
                    bit<8>  diffserv;
                    bit<16> total_len;
                    bit<16> identification;
                    bit<3>  flags;
                    bit<13> frag_offset;
                    bit<8>  ttl;
                    bit<8>  protocol;
                    bit<16> hdr_checksum;
                    bit<32> src;
                    bit<32> dst;
                }

                header udp_t {
                    bit<16> src_port;
                    bit<16> dst_port;
                    bit<16> length;
                    bit<16> checksum;
                }

                /* One byte of the UDP payload, or of the response. */
                header byte_t {
                    bit<8> b;
                }

                struct xps_meta_t {
                    bit<16> avail;     /* payload bytes extracted into hdr.payload */
                    bit<16> left;      /* parser: payload bytes not extracted yet */
                    bit<16> room;      /* parser: free entries in hdr.payload */
                    bit<8>  verdict;
                    bit<16> resp_len;
                    bit<8>  handler;   /* the handler a dispatch chose, 0 for none */
                }

                struct metadata_t {
                    xps_meta_t xps;
                }

                """);
        s.append("struct headers_t {\n    ethernet_t ethernet;\n    ipv4_t ipv4;\n    udp_t udp;\n")
                .append("    byte_t[").append(responseMax).append("] resp;     /* the response, on tx */\n")
                .append("    byte_t[").append(payloadMax).append("] payload;  /* the first bytes of the message */\n")
                .append("}\n\n");
        registers(s);
        parser(s);
        s.append(handlers);
        ingress(s);
        s.append("""
                control xps_egress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t std) {
                    apply { }
                }

                control xps_verify_checksum(inout headers_t hdr, inout metadata_t meta) {
                    apply { }
                }

                control xps_compute_checksum(inout headers_t hdr, inout metadata_t meta) {
                    apply {
                        update_checksum(hdr.ipv4.isValid() && meta.xps.verdict == XPS_TX,
                            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.diffserv, hdr.ipv4.total_len,
                              hdr.ipv4.identification, hdr.ipv4.flags, hdr.ipv4.frag_offset, hdr.ipv4.ttl,
                              hdr.ipv4.protocol, hdr.ipv4.src, hdr.ipv4.dst },
                            hdr.ipv4.hdr_checksum, HashAlgorithm.csum16);
                    }
                }

                control xps_deparser(packet_out pkt, in headers_t hdr) {
                    apply {
                        pkt.emit(hdr.ethernet);
                        pkt.emit(hdr.ipv4);
                        pkt.emit(hdr.udp);
                        pkt.emit(hdr.resp);
                        pkt.emit(hdr.payload);
                    }
                }

                V1Switch(xps_parser(), xps_verify_checksum(), xps_ingress(), xps_egress(), xps_compute_checksum(),
                         xps_deparser()) main;
                """);
        return s.toString();
    }

    private void registers(StringBuilder s) {
        for (IrMap m : module.maps()) {
            if (m.kind() != MapKind.ARRAY) {
                continue;
            }
            int bits = ((IrType.Int) m.valueType()).bits();
            s.append("/* map ").append(m.name()).append(" : array<").append(m.keyType()).append(", ")
                    .append(m.valueType()).append("> capacity ").append(m.capacity()).append(" (")
                    .append(at(m.location())).append(") */\n");
            s.append("register<bit<").append(bits).append(">>(").append(m.capacity()).append(") ").append(reg(m))
                    .append(";\n");
            if (m.stats()) {
                s.append("counter(").append(m.capacity()).append(", CounterType.packets) ").append(reg(m))
                        .append("_hits;\n");
            }
            s.append('\n');
        }
    }

    private void parser(StringBuilder s) {
        s.append("parser xps_parser(packet_in pkt, out headers_t hdr, inout metadata_t meta,\n")
                .append("                   inout standard_metadata_t std) {\n");
        s.append("""
                    state start {
                        pkt.extract(hdr.ethernet);
                        transition select(hdr.ethernet.ether_type) {
                            0x0800: parse_ipv4;
                            default: accept;
                        }
                    }

                    state parse_ipv4 {
                        pkt.extract(hdr.ipv4);
                        transition select(hdr.ipv4.ihl, hdr.ipv4.frag_offset, hdr.ipv4.protocol) {
                            (5, 0, 17): parse_udp;
                            default: accept;
                        }
                    }

                    state parse_udp {
                        pkt.extract(hdr.udp);
                        transition select(hdr.udp.dst_port) {
                """);
        for (IrEntryPoint e : module.entryPoints()) {
            for (String keyset : PortMasks.keysets(e.predicate().dstPort())) {
                s.append("            ").append(keyset).append(": payload_start;  /* ").append(e.name()).append(" */\n");
            }
        }
        s.append("            default: accept;\n        }\n    }\n\n");
        s.append("    /* The payload, byte by byte: all of it, or the first ").append(payloadMax)
                .append(" bytes (as far as any handler reads). */\n");
        s.append("    state payload_start {\n        meta.xps.left = hdr.udp.length - 8;\n        meta.xps.room = ")
                .append(payloadMax).append(";\n        meta.xps.avail = 0;\n        transition payload_next;\n    }\n\n");
        s.append("    state payload_next {\n        transition select(meta.xps.left, meta.xps.room) {\n")
                .append("            (0, _): accept;\n            (_, 0): accept;\n")
                .append("            default: payload_byte;\n        }\n    }\n\n");
        s.append("    state payload_byte {\n        pkt.extract(hdr.payload.next);\n")
                .append("        meta.xps.left = meta.xps.left - 1;\n        meta.xps.room = meta.xps.room - 1;\n")
                .append("        meta.xps.avail = meta.xps.avail + 1;\n        transition payload_next;\n    }\n}\n\n");
    }

    private void ingress(StringBuilder s) {
        s.append("control xps_ingress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t std) {\n");
        for (IrHandler h : module.handlers()) {
            s.append("    ").append(ctl(h)).append("() ").append(inst(h)).append(";\n");
        }
        s.append("""

                    /* tx: the response replaces the payload and goes back out of the ingress port. */
                    action reflect() {
                        bit<48> mac = hdr.ethernet.dst;
                        hdr.ethernet.dst = hdr.ethernet.src;
                        hdr.ethernet.src = mac;
                        bit<32> ip = hdr.ipv4.dst;
                        hdr.ipv4.dst = hdr.ipv4.src;
                        hdr.ipv4.src = ip;
                        bit<16> port = hdr.udp.dst_port;
                        hdr.udp.dst_port = hdr.udp.src_port;
                        hdr.udp.src_port = port;
                        hdr.ipv4.total_len = 28 + meta.xps.resp_len;
                        hdr.udp.length = 8 + meta.xps.resp_len;
                        hdr.udp.checksum = 0;  /* optional over IPv4 */
                """);
        s.append("        hdr.payload.pop_front(").append(payloadMax).append(");\n");
        s.append("""
                        truncate((bit<32>) (42 + meta.xps.resp_len));  /* drop what was not extracted */
                        std.egress_spec = std.ingress_port;
                    }

                    /* pass: the datagram goes on to the service unchanged. */
                    action to_host() {
                """);
        s.append("        hdr.resp.pop_front(").append(responseMax).append(");\n");
        s.append("""
                        std.egress_spec = XPS_HOST_PORT;
                    }

                    action drop() {
                        mark_to_drop(std);
                    }

                    apply {
                        meta.xps.verdict = XPS_PASS;
                        meta.xps.resp_len = 0;
                        meta.xps.handler = 0;
                        if (std.ingress_port == XPS_HOST_PORT) {
                            std.egress_spec = XPS_NETWORK_PORT;  /* the service's own traffic */
                            return;
                        }
                        if (std.parser_error != error.NoError || !hdr.udp.isValid() || meta.xps.avail == 0) {
                            to_host();  /* not for a handler, or an empty datagram: pass */
                            return;
                        }
                """);
        Map<IrHandler, Integer> ids = new HashMap<>();
        for (IrHandler h : module.handlers()) {
            ids.put(h, ids.size() + 1);
        }
        String kw = "if";
        for (IrEntryPoint e : module.entryPoints()) {
            s.append("        ").append(kw).append(" (").append(predicate(e.predicate())).append(") {  /* ")
                    .append(e instanceof IrEntryPoint.Dispatch ? "dispatch " : "handler ").append(e.name()).append(", ")
                    .append(at(e.location())).append(" */\n");
            switch (e) {
                case IrEntryPoint.Direct d -> s.append("            meta.xps.handler = ").append(ids.get(d.handler()))
                        .append(";\n");
                case IrEntryPoint.Dispatch d -> {
                    s.append("            if (meta.xps.avail < ").append(d.offset() + d.length()).append(") {\n")
                            .append("                meta.xps.verdict = XPS_PASS;  /* too short for the selector: ")
                            .append("incomplete */\n");
                    StringBuilder sel = new StringBuilder();
                    for (int i = 0; i < d.length(); i++) {
                        sel.append(i == 0 ? "" : " ++ ").append("hdr.payload[").append(d.offset() + i).append("].b");
                    }
                    for (IrEntryPoint.Arm arm : d.arms()) {
                        s.append("            } else if ((").append(sel).append(") == ").append(selector(arm.selector(), d))
                                .append(") {  /* ").append(at(arm.location())).append(" */\n");
                        target(arm.target(), ids, s);
                    }
                    s.append("            } else {\n");
                    target(d.fallback(), ids, s);
                    s.append("            }\n");
                }
            }
            kw = "} else if";
        }
        s.append("        }\n");
        for (IrHandler h : module.handlers()) {
            s.append("        if (meta.xps.handler == ").append(ids.get(h)).append(") {\n            ").append(inst(h))
                    .append(".apply(hdr, meta);\n        }\n");
        }
        s.append("        if (meta.xps.verdict == XPS_TX) {\n            reflect();\n")
                .append("        } else if (meta.xps.verdict == XPS_PASS) {\n            to_host();\n")
                .append("        } else {\n            drop();\n        }\n    }\n}\n\n");
    }

    private static void target(IrEntryPoint.Target t, Map<IrHandler, Integer> ids, StringBuilder s) {
        switch (t) {
            case IrEntryPoint.Target.ToHandler h -> s.append("                meta.xps.handler = ")
                    .append(ids.get(h.handler())).append(";\n");
            case IrEntryPoint.Target.ToVerdict v -> s.append("                meta.xps.verdict = ")
                    .append(v.verdict() == Verdict.PASS ? "XPS_PASS" : "XPS_DROP").append(";\n");
        }
    }

    private static String selector(IrEntryPoint.Selector sel, IrEntryPoint.Dispatch d) {
        return switch (sel) {
            case IrEntryPoint.Selector.IntValue v -> {
                long value = v.value();
                if (d.order() == ByteOrder.LITTLE) {
                    long r = 0;
                    for (int i = 0; i < d.length(); i++) {
                        r = (r << 8) | ((value >>> (8 * i)) & 0xFF);
                    }
                    value = r;
                }
                yield (8 * d.length()) + "w0x" + Long.toHexString(value);
            }
            case IrEntryPoint.Selector.BytesValue v -> (8 * d.length()) + "w0x" + HexFormat.of().formatHex(v.value());
        };
    }

    static String predicate(Predicate p) {
        StringBuilder s = new StringBuilder();
        PortRange port = p.dstPort();
        s.append(port.isSingle() ? "hdr.udp.dst_port == " + port.low()
                : "hdr.udp.dst_port >= " + port.low() + " && hdr.udp.dst_port <= " + port.high());
        p.srcPort().ifPresent(r -> s.append(" && ").append(r.isSingle() ? "hdr.udp.src_port == " + r.low()
                : "hdr.udp.src_port >= " + r.low() + " && hdr.udp.src_port <= " + r.high()));
        p.srcAddress().ifPresent(a -> s.append(" && ").append(prefix("hdr.ipv4.src", a)));
        p.dstAddress().ifPresent(a -> s.append(" && ").append(prefix("hdr.ipv4.dst", a)));
        return s.toString();
    }

    static String prefix(String field, Ipv4Prefix a) {
        if (a.prefixLength() == 0) {
            return "true";
        }
        return "(" + field + " & 32w0x" + Long.toHexString(a.mask()) + ") == 32w0x" + Long.toHexString(a.address());
    }

    // ------------------------------------------------------------------ one handler

    /** Writes one handler as a control: its tables, then its statements in source order. */
    private final class HandlerWriter {
        private final IrHandler h;
        private final StringBuilder decls = new StringBuilder();
        private final StringBuilder body = new StringBuilder();
        private final Map<String, Integer> sizes = new HashMap<>();
        private int lookups;

        HandlerWriter(IrHandler h) {
            this.h = h;
        }

        void write(StringBuilder out) {
            for (IrLocal l : h.locals()) {
                if (l.type() instanceof IrType.Bytes) {
                    sizes.put(l.name(), null);
                }
            }
            statements(h.body(), "        ", 0);
            out.append("/* ").append(h.write() ? "write handler " : "handler ").append(h.name()).append(" (")
                    .append(at(h.location())).append(") */\n");
            out.append("control ").append(ctl(h)).append("(inout headers_t hdr, inout metadata_t meta) {\n");
            out.append(decls);
            out.append("    apply {\n");
            for (IrLocal l : h.locals()) {
                String name = local(l.name());
                switch (l.type()) {
                    case IrType.Int i -> out.append("        bit<64> ").append(name).append(" = 0;\n");
                    case IrType.Bool b -> out.append("        bool ").append(name).append(" = false;\n");
                    case IrType.Bytes b -> out.append("        bit<").append(8 * Math.max(1, sizeOf(l.name())))
                            .append("> ").append(name).append(" = 0;\n");
                }
            }
            out.append(body);
            out.append("    }\n}\n\n");
        }

        private int sizeOf(String local) {
            Integer n = sizes.get(local);
            return n == null ? 1 : n;
        }

        /** Writes statements; returns the response length after them (every encode is at a fixed position). */
        private int statements(List<IrStmt> stmts, String ind, int pos) {
            for (IrStmt s : stmts) {
                pos = statement(s, ind, pos);
            }
            return pos;
        }

        private int statement(IrStmt s, String ind, int pos) {
            switch (s) {
                case IrStmt.Decode d -> decode(d, ind);
                case IrStmt.Let l -> {
                    body.append(ind).append("/* ").append(at(l.location())).append(" */\n");
                    if (l.target().type() instanceof IrType.Bytes) {
                        sizes.put(l.target().name(), bytesSize(l.value()));
                        body.append(ind).append(local(l.target().name())).append(" = ").append(bytes(l.value()))
                                .append(";\n");
                    } else if (l.target().type() instanceof IrType.Bool) {
                        body.append(ind).append(local(l.target().name())).append(" = ").append(cond(l.value()))
                                .append(";\n");
                    } else {
                        body.append(ind).append(local(l.target().name())).append(" = ").append(expr(l.value()))
                                .append(";\n");
                    }
                }
                case IrStmt.Lookup l -> lookup(l, ind);
                case IrStmt.Update u -> {
                    body.append(ind).append("/* ").append(at(u.location())).append(": update ").append(u.map().name())
                            .append(" */\n");
                    int bits = ((IrType.Int) u.map().valueType()).bits();
                    String index = "(" + expr(u.key()) + ")[" + (keyBits(u.map()) - 1) + ":0]";
                    body.append(ind).append("if ((bit<64>) ").append(index).append(" < ").append(u.map().capacity())
                            .append(") {\n");
                    body.append(ind).append("    ").append(reg(u.map())).append(".write((bit<32>) ").append(index)
                            .append(", (").append(expr(u.value())).append(")[").append(bits - 1).append(":0]);\n");
                    if (u.onFull().isPresent()) {
                        body.append(ind).append("} else {\n");
                        ret(u.onFull().get(), ind + "    ", 0);
                    }
                    body.append(ind).append("}\n");
                }
                case IrStmt.Delete d -> {
                    body.append(ind).append("/* ").append(at(d.location())).append(": delete ").append(d.map().name())
                            .append(" */\n");
                    String index = "(" + expr(d.key()) + ")[" + (keyBits(d.map()) - 1) + ":0]";
                    body.append(ind).append("if ((bit<64>) ").append(index).append(" < ").append(d.map().capacity())
                            .append(") {\n");
                    body.append(ind).append("    ").append(reg(d.map())).append(".write((bit<32>) ").append(index)
                            .append(", 0);\n").append(ind).append("}\n");
                }
                case IrStmt.Append a -> throw new IllegalStateException("refused by check()");
                case IrStmt.If i -> {
                    body.append(ind).append("/* ").append(at(i.location())).append(" */\n");
                    body.append(ind).append("if (").append(cond(i.condition())).append(") {\n");
                    int a = statements(i.then(), ind + "    ", pos);
                    int b = pos;
                    if (!i.otherwise().isEmpty()) {
                        body.append(ind).append("} else {\n");
                        b = statements(i.otherwise(), ind + "    ", pos);
                    }
                    body.append(ind).append("}\n");
                    pos = endsInReturn(i.then()) ? b : a;
                }
                case IrStmt.Encode e -> {
                    body.append(ind).append("/* ").append(at(e.location())).append(": encode */\n");
                    for (EncodeItem item : e.items()) {
                        pos = encode(item, ind, pos);
                    }
                }
                case IrStmt.Return r -> {
                    body.append(ind).append("/* ").append(at(r.location())).append(" */\n");
                    ret(r.verdict(), ind, pos);
                }
            }
            return pos;
        }

        private boolean endsInReturn(List<IrStmt> stmts) {
            if (stmts.isEmpty()) {
                return false;
            }
            IrStmt last = stmts.get(stmts.size() - 1);
            return last instanceof IrStmt.Return || (last instanceof IrStmt.If i && endsInReturn(i.then())
                    && !i.otherwise().isEmpty() && endsInReturn(i.otherwise()));
        }

        private void ret(Verdict v, String ind, int pos) {
            switch (v) {
                case TX -> body.append(ind).append("meta.xps.resp_len = ").append(pos).append(";\n").append(ind)
                        .append("meta.xps.verdict = XPS_TX;\n");
                case PASS -> body.append(ind).append("meta.xps.verdict = XPS_PASS;\n");
                case DROP, RESET -> body.append(ind).append("meta.xps.verdict = XPS_DROP;")
                        .append(v == Verdict.RESET ? "  /* reset on UDP is drop */" : "").append('\n');
            }
            body.append(ind).append("return;\n");
        }

        private int encode(EncodeItem item, String ind, int pos) {
            switch (item) {
                case EncodeItem.Literal l -> {
                    for (byte b : l.bytes()) {
                        out(ind, pos++, String.format("0x%02x", b & 0xFF));
                    }
                }
                case EncodeItem.IntBinary b -> {
                    String v = expr(b.value());
                    for (int i = 0; i < b.byteWidth(); i++) {
                        int shift = 8 * (b.order() == ByteOrder.BIG ? b.byteWidth() - 1 - i : i);
                        out(ind, pos++, "(" + v + ")[" + (shift + 7) + ":" + shift + "]");
                    }
                }
                case EncodeItem.Value v -> {
                    int n = bytesSize(v.bytes());
                    String value = bytes(v.bytes());
                    for (int i = 0; i < n; i++) {
                        int hi = 8 * (n - i) - 1;
                        out(ind, pos++, "(" + value + ")[" + hi + ":" + (hi - 7) + "]");
                    }
                }
                case EncodeItem.Decimal d -> throw new IllegalStateException("refused by the capability model");
            }
            return pos;
        }

        private void out(String ind, int pos, String value) {
            body.append(ind).append("hdr.resp[").append(pos).append("].setValid();\n");
            body.append(ind).append("hdr.resp[").append(pos).append("].b = ").append(value).append(";\n");
        }

        private void lookup(IrStmt.Lookup l, String ind) {
            IrMap m = l.map();
            int valueBits = ((IrType.Int) m.valueType()).bits();
            String target = local(l.target().name());
            body.append(ind).append("/* ").append(at(l.location())).append(": lookup ").append(m.name()).append(" */\n");
            if (m.kind() == MapKind.ARRAY) {
                String index = "(" + expr(l.key()) + ")[" + (keyBits(m) - 1) + ":0]";
                body.append(ind).append("if ((bit<64>) ").append(index).append(" >= ").append(m.capacity()).append(") {\n");
                ret(l.onMiss(), ind + "    ", 0);
                body.append(ind).append("}\n");
                String tmp = m.name() + "_value" + (++lookups);
                decls.append("    bit<").append(valueBits).append("> ").append(tmp).append(";\n");
                body.append(ind).append(reg(m)).append(".read(").append(tmp).append(", (bit<32>) ").append(index)
                        .append(");\n");
                if (m.stats()) {
                    body.append(ind).append(reg(m)).append("_hits.count((bit<32>) ").append(index).append(");\n");
                }
                body.append(ind).append(target).append(" = (bit<64>) ").append(tmp).append(";\n");
                return;
            }
            int n = ++lookups;
            String table = m.name() + "_" + n;
            int kb = keyBits(m);
            decls.append("    /* map ").append(m.name()).append(", looked up at ").append(at(l.location()))
                    .append(": entries from the control plane */\n");
            decls.append("    bit<").append(kb).append("> ").append(table).append("_key;\n");
            decls.append("    bit<").append(valueBits).append("> ").append(table).append("_value;\n");
            decls.append("    bool ").append(table).append("_found;\n");
            if (m.stats()) {
                decls.append("    direct_counter(CounterType.packets) ").append(table).append("_hits;\n");
            }
            decls.append("    action ").append(table).append("_hit(bit<").append(valueBits).append("> value) {\n")
                    .append("        ").append(table).append("_value = value;\n        ").append(table)
                    .append("_found = true;\n    }\n");
            decls.append("    action ").append(table).append("_miss() {\n        ").append(table)
                    .append("_found = false;\n    }\n");
            decls.append("    table ").append(table).append(" {\n        key = { ").append(table)
                    .append("_key : exact; }\n        actions = { ").append(table).append("_hit; ").append(table)
                    .append("_miss; }\n        default_action = ").append(table).append("_miss();\n        size = ")
                    .append(m.capacity()).append(";\n");
            if (m.stats()) {
                decls.append("        counters = ").append(table).append("_hits;\n");
            }
            decls.append("    }\n\n");
            if (m.keyType() instanceof IrType.Bytes) {
                body.append(ind).append(table).append("_key = ").append(bytes(l.key())).append(";\n");
            } else {
                body.append(ind).append(table).append("_key = (").append(expr(l.key())).append(")[").append(kb - 1)
                        .append(":0];\n");
            }
            body.append(ind).append(table).append(".apply();\n");
            body.append(ind).append("if (!").append(table).append("_found) {\n");
            ret(l.onMiss(), ind + "    ", 0);
            body.append(ind).append("}\n");
            body.append(ind).append(target).append(" = (bit<64>) ").append(table).append("_value;\n");
            sites.add(new LookupSite(m, ctl(h), table, table + "_key", kb, table + "_hit", valueBits, l.location()));
        }

        // -------------------------------------------------------------- decode

        /** Decode with constant offsets: status 0 ok, 1 incomplete, 2 malformed, checked step by step. */
        private void decode(IrStmt.Decode d, String ind) {
            body.append(ind).append("/* ").append(at(d.location())).append(": decode, else ")
                    .append(d.onMalformed().keyword()).append(" */\n");
            body.append(ind).append("bit<2> status = 0;  /* 0 ok, 1 incomplete, 2 malformed */\n");
            int cursor = 0;
            int furthest = 0;
            for (DecodeOp op : d.ops()) {
                String c = "  /* " + at(op.location()) + " */";
                switch (op) {
                    case DecodeOp.Expect e -> {
                        byte[] lit = e.literal();
                        body.append(ind).append("if (status == 0) {").append(c).append('\n');
                        for (int i = 0; i < lit.length; i++) {
                            body.append(ind).append(i == 0 ? "    if" : "    } else if").append(" (meta.xps.avail > ")
                                    .append(cursor + i).append(" && hdr.payload[").append(cursor + i).append("].b != ")
                                    .append(String.format("0x%02x", lit[i] & 0xFF)).append(") {\n").append(ind)
                                    .append("        status = 2;\n");
                        }
                        body.append(ind).append(lit.length == 0 ? "    if" : "    } else if").append(" (meta.xps.avail < ")
                                .append(cursor + lit.length).append(") {\n").append(ind).append("        status = 1;\n")
                                .append(ind).append("    }\n").append(ind).append("}\n");
                        cursor += lit.length;
                    }
                    case DecodeOp.Skip s -> {
                        need(ind, cursor + s.count(), c);
                        cursor += s.count();
                    }
                    case DecodeOp.IntField f -> {
                        int off = f.offset().isPresent() ? f.offset().getAsInt() : cursor;
                        need(ind, off + f.byteWidth(), c);
                        body.append(ind).append("if (status == 0) {\n").append(ind).append("    ")
                                .append(local(f.target().name())).append(" = (bit<64>) (")
                                .append(concat(off, f.byteWidth(), f.order() == ByteOrder.LITTLE)).append(");\n")
                                .append(ind).append("}\n");
                        if (f.offset().isPresent()) {
                            furthest = Math.max(furthest, off + f.byteWidth());
                        } else {
                            cursor += f.byteWidth();
                        }
                    }
                    case DecodeOp.FixedBytes f -> {
                        int off = f.offset().isPresent() ? f.offset().getAsInt() : cursor;
                        sizes.put(f.target().name(), f.size());
                        need(ind, off + f.size(), c);
                        body.append(ind).append("if (status == 0) {\n").append(ind).append("    ")
                                .append(local(f.target().name())).append(" = ").append(concat(off, f.size(), false))
                                .append(";\n").append(ind).append("}\n");
                        if (f.offset().isPresent()) {
                            furthest = Math.max(furthest, off + f.size());
                        } else {
                            cursor += f.size();
                        }
                    }
                    case DecodeOp.Require r -> body.append(ind).append("if (status == 0 && !(").append(cond(r.condition()))
                            .append(")) {").append(c).append('\n').append(ind).append("    status = 2;\n").append(ind)
                            .append("}\n");
                    default -> throw new IllegalStateException("refused by the capability model: " + op);
                }
                furthest = Math.max(furthest, cursor);
            }
            if (furthest == 0) {
                body.append(ind).append("if (status == 0) {\n").append(ind)
                        .append("    status = 2;  /* an empty message */\n").append(ind).append("}\n");
            }
            body.append(ind).append("if (status == 1) {\n");
            body.append(ind).append("    meta.xps.verdict = XPS_PASS;  /* incomplete: the service reassembles */\n");
            body.append(ind).append("    return;\n").append(ind).append("}\n");
            body.append(ind).append("if (status == 2) {\n");
            ret(d.onMalformed(), ind + "    ", 0);
            body.append(ind).append("}\n");
        }

        private void need(String ind, int end, String comment) {
            body.append(ind).append("if (status == 0 && meta.xps.avail < ").append(end).append(") {").append(comment)
                    .append('\n').append(ind).append("    status = 1;\n").append(ind).append("}\n");
        }

        private String concat(int offset, int n, boolean littleEndian) {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < n; i++) {
                int at = littleEndian ? offset + n - 1 - i : offset + i;
                s.append(i == 0 ? "" : " ++ ").append("hdr.payload[").append(at).append("].b");
            }
            return s.toString();
        }

        // -------------------------------------------------------------- expressions

        private int bytesSize(IrExpr e) {
            return switch (e) {
                case IrExpr.BytesConst c -> c.value().length;
                case IrExpr.LocalRef r -> sizeOf(r.local().name());
                default -> throw new IllegalStateException("not bytes: " + e);
            };
        }

        private String bytes(IrExpr e) {
            return switch (e) {
                case IrExpr.BytesConst c -> c.value().length == 0 ? "0"
                        : (8 * c.value().length) + "w0x" + HexFormat.of().formatHex(c.value());
                case IrExpr.LocalRef r -> local(r.local().name());
                default -> throw new IllegalStateException("not bytes: " + e);
            };
        }

        String expr(IrExpr e) {
            return switch (e) {
                case IrExpr.IntConst c -> "64w" + Long.toUnsignedString(c.value());
                case IrExpr.LocalRef r -> local(r.local().name());
                case IrExpr.Length l -> "64w" + bytesSize(l.operand());
                case IrExpr.Binary b when (b.op() == IrExpr.BinaryOp.SHL || b.op() == IrExpr.BinaryOp.SHR)
                        && b.right() instanceof IrExpr.IntConst c -> Long.compareUnsigned(c.value(), 64) >= 0 ? "64w0"
                        : "(" + expr(b.left()) + " " + b.op().symbol() + " " + c.value() + ")";
                case IrExpr.Binary b when b.op() == IrExpr.BinaryOp.SHL || b.op() == IrExpr.BinaryOp.SHR -> {
                    String n = expr(b.right());
                    yield "(" + n + " >= 64 ? 64w0 : " + expr(b.left()) + " " + b.op().symbol() + " (bit<8>) " + n + ")";
                }
                case IrExpr.Binary b when b.op().isArithmetic() -> "(" + expr(b.left()) + " " + b.op().symbol() + " "
                        + expr(b.right()) + ")";
                default -> throw new IllegalStateException("not an integer: " + e);
            };
        }

        String cond(IrExpr e) {
            return switch (e) {
                case IrExpr.BoolConst c -> c.value() ? "true" : "false";
                case IrExpr.LocalRef r -> local(r.local().name());
                case IrExpr.Not n -> "!(" + cond(n.operand()) + ")";
                case IrExpr.Binary b when b.op() == IrExpr.BinaryOp.AND -> "(" + cond(b.left()) + " && "
                        + cond(b.right()) + ")";
                case IrExpr.Binary b when b.op() == IrExpr.BinaryOp.OR -> "(" + cond(b.left()) + " || "
                        + cond(b.right()) + ")";
                case IrExpr.Binary b when b.left().type() instanceof IrType.Bytes -> {
                    int l = bytesSize(b.left());
                    int r = bytesSize(b.right());
                    boolean eq = b.op() == IrExpr.BinaryOp.EQ;
                    if (l != r) {
                        yield eq ? "false" : "true";  // different lengths are never equal
                    }
                    if (l == 0) {
                        yield eq ? "true" : "false";
                    }
                    yield "(" + bytes(b.left()) + (eq ? " == " : " != ") + bytes(b.right()) + ")";
                }
                case IrExpr.Binary b when b.left().type() instanceof IrType.Bool -> "(" + cond(b.left()) + " "
                        + b.op().symbol() + " " + cond(b.right()) + ")";
                case IrExpr.Binary b -> "(" + expr(b.left()) + " " + b.op().symbol() + " " + expr(b.right()) + ")";
                default -> throw new IllegalStateException("not a condition: " + e);
            };
        }
    }

    /** The register that holds array map {@code m}. */
    static String reg(IrMap m) {
        return "map_" + m.name();
    }

    static int keyBits(IrMap m) {
        return switch (m.keyType()) {
            case IrType.Int i -> i.bits();
            case IrType.Bytes b -> 8 * b.maxLength();
            case IrType.Bool b -> 1;
        };
    }

    private static final Set<String> P4_RESERVED = Set.of("action", "actions", "apply", "bit", "bool", "const",
            "control", "default", "else", "enum", "error", "exit", "extern", "false", "header", "if", "in", "inout",
            "int", "key", "match_kind", "out", "package", "parser", "return", "select", "state", "struct", "switch",
            "table", "transition", "true", "tuple", "typedef", "varbit", "verify", "void", "value", "hdr", "meta",
            "std", "status", "packet_in", "packet_out", "string", "list", "type", "entries", "size");

    static String local(String name) {
        return P4_RESERVED.contains(name) ? name + "_" : name;
    }

    List<String[]> refusals() {
        return refusals;
    }
}
