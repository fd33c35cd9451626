package dev.xps.backend.ebpf;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IrConsensus;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.stringtemplate.v4.ST;
import org.stringtemplate.v4.STGroup;
import org.stringtemplate.v4.STGroupFile;

/**
 * Lowers a module's {@code consensus} blocks to the data plane of docs/consensus.md: one
 * {@code <base>.consensus.bpf.c} (templates: consensus.stg; shared definitions: xps_consensus.h) with three
 * programs per block, TC ingress and egress for the leader and XDP for every member, and the manifest's
 * {@code consensus} section that tells the agent their names and the layouts of their maps. The handler
 * programs ({@link CGenerator}) are a separate object: the two share nothing.
 */
final class ConsensusGenerator {
    static final String HEADER = "xps_consensus.h";
    /** The counters of a block, in the order of {@code struct <block>_counters} (u64 each). */
    static final List<String> COUNTERS = List.of("ordered", "unordered", "oversize", "stopped", "prepares_sent",
            "send_failed", "prepares_received", "duplicates", "beyond_log", "prepareoks_sent", "prepareoks_received",
            "commits", "commits_received", "replies", "rtt_samples", "failures", "bad", "unconfigured", "ring_full",
            "log_full");
    static final int RINGBUF_BYTES = 1 << 18;
    static final int CONFIG_MEMBERS_OFFSET = 48;
    static final int MEMBER_BYTES = 12;
    static final int STATE_ACKED_OFFSET = 48;
    static final int SLOT_DATA_OFFSET = 32;
    static final int EVENT_BYTES = 24;
    /** The longest request one PREPARE carries at MTU 1500 (dev.xps.consensus.wire.Wire.MAX_REQUEST). */
    static final int MAX_REQUEST = 1500 - 20 - 8 - 12 - 24;

    private static final STGroup TEMPLATES = loadTemplates();

    private final IrModule module;
    private final Diagnostics diagnostics;
    private final long maxLogSlots;

    /** Log maps get the block's capacity as max_entries. */
    ConsensusGenerator(IrModule module, Diagnostics diagnostics) {
        this(module, diagnostics, Long.MAX_VALUE);
    }

    /**
     * Log maps get at most {@code maxLogSlots} slots as their default max_entries (tests: a 1M-slot log of
     * 600-byte entries is 632 MiB of kernel memory). The agent reads the capacity from the loaded map anyway.
     */
    ConsensusGenerator(IrModule module, Diagnostics diagnostics, long maxLogSlots) {
        this.module = module;
        this.diagnostics = diagnostics;
        this.maxLogSlots = maxLogSlots;
    }

    /** One block as the templates see it. */
    record Block(String name, String prefix, String macro, int port, int replPort, int replicas, int entryBytes,
                 int entryCap, long logSlots, int threshold, String orderText, String orderBody,
                 List<String> counters) {
        String program(String role) {
            return prefix + "_" + role;
        }

        int configSize() {
            return align8(CONFIG_MEMBERS_OFFSET + MEMBER_BYTES * replicas);
        }

        int stateSize() {
            return STATE_ACKED_OFFSET + 8 * replicas;
        }

        int slotSize() {
            return SLOT_DATA_OFFSET + entryCap;
        }
    }

    boolean hasBlocks() {
        return !module.consensus().isEmpty();
    }

    /** The C source, or empty when a block cannot be lowered (an error is reported). */
    Optional<String> generate() {
        List<Block> blocks = blocks();
        if (blocks.size() != module.consensus().size()) {
            return Optional.empty();
        }
        ST st = TEMPLATES.getInstanceOf("file");
        st.add("source", C.fileName(module.sourceFile()));
        st.add("blocks", blocks);
        return Optional.of(st.render());
    }

    List<Block> blocks() {
        List<Block> out = new ArrayList<>();
        for (IrConsensus c : module.consensus()) {
            block(c).ifPresent(out::add);
        }
        return out;
    }

    private Optional<Block> block(IrConsensus c) {
        var range = c.predicate().dstPort();
        if (range.low() != range.high()) {
            diagnostics.error(c.location(), "target 'ebpf' lowers a consensus block on one UDP port, not a range ("
                    + range + "): replication uses port P + 1");
            return Optional.empty();
        }
        if (range.low() >= 0xffff) {
            diagnostics.error(c.location(), "consensus '" + c.name() + "': port " + range.low()
                    + " leaves no port P + 1 for replication");
            return Optional.empty();
        }
        if (c.entryBytes() > MAX_REQUEST) {
            diagnostics.error(c.location(), "consensus '" + c.name() + "': entries of " + c.entryBytes()
                    + " bytes do not fit one PREPARE datagram at MTU 1500 (at most "
                    + MAX_REQUEST + ")");
            return Optional.empty();
        }
        long slots = Math.min(c.logCapacity(), maxLogSlots);
        if (slots > Integer.MAX_VALUE) {
            diagnostics.error(c.location(), "consensus '" + c.name() + "': a log of " + c.logCapacity()
                    + " slots exceeds a BPF array's max_entries");
            return Optional.empty();
        }
        if (c.predicate().srcAddress().isPresent() || c.predicate().dstAddress().isPresent()
                || c.predicate().srcPort().isPresent()) {
            diagnostics.warning(c.location(), "target 'ebpf' orders every request to the consensus port; "
                    + "the block's address and source-port conditions are not applied by the data plane");
        }
        String prefix = "vr_" + c.name();
        String macro = prefix.toUpperCase(Locale.ROOT);
        String orderText;
        String orderBody;
        var field = c.ordering().field();
        if (field.isEmpty()) {
            orderText = "order all";
            orderBody = TEMPLATES.getInstanceOf("orderAll").render();
        } else {
            IrConsensus.Field f = field.get();
            orderText = "order when u" + (8 * f.byteWidth()) + (f.byteWidth() == 1 ? ""
                    : f.order() == ByteOrder.LITTLE ? "le" : "be") + " at " + f.offset() + " in { " + c.ordering().values().stream()
                    .map(Long::toUnsignedString).collect(Collectors.joining(", ")) + " }";
            ST st = TEMPLATES.getInstanceOf("orderField");
            st.add("offset", f.offset());
            st.add("width", f.byteWidth());
            st.add("load", load(f));
            st.add("test", c.ordering().values().stream().map(v -> "v == " + Long.toUnsignedString(v) + "ULL")
                    .collect(Collectors.joining(" || ")));
            orderBody = st.render();
        }
        return Optional.of(new Block(c.name(), prefix, macro, range.low(), range.low() + 1, c.replicas(),
                c.entryBytes(), align8(c.entryBytes()), slots, c.failureThresholdMultiple(), orderText, orderBody,
                COUNTERS));
    }

    /** The field's value from its bytes {@code b[0..width)}. */
    private static String load(IrConsensus.Field f) {
        StringBuilder s = new StringBuilder();
        int w = f.byteWidth();
        for (int i = 0; i < w; i++) {
            int index = f.order() == ByteOrder.BIG ? i : w - 1 - i;
            int shift = 8 * (w - 1 - i);
            if (i > 0) {
                s.append(" | ");
            }
            s.append(shift == 0 ? "(__u64)b[" + index + "]" : "((__u64)b[" + index + "] << " + shift + ")");
        }
        return s.toString();
    }

    static int align8(int n) {
        return (n + 7) & ~7;
    }

    /**
     * The consensus files of {@code module} under {@code dir}: {@code <base>.consensus.bpf.c}, xps_consensus.h
     * and, with clang, {@code <base>.consensus.bpf.o}. None when the module has no consensus block.
     */
    static List<GeneratedFile> files(IrModule module, String dir, Diagnostics diagnostics,
                                     Optional<Clang.Toolchain> clang) {
        return new ConsensusGenerator(module, diagnostics).files(dir, clang);
    }

    List<GeneratedFile> files(String dir, Optional<Clang.Toolchain> clang) {
        if (!hasBlocks()) {
            return List.of();
        }
        Optional<String> source = generate();
        if (source.isEmpty()) {
            return List.of();
        }
        String base = module.baseName() + ".consensus";
        List<GeneratedFile> files = new ArrayList<>();
        files.add(GeneratedFile.text(dir + base + ".bpf.c", source.get()));
        files.add(GeneratedFile.text(dir + HEADER, header()));
        if (clang.isEmpty()) {
            return files;
        }
        Map<String, String> sources = new java.util.LinkedHashMap<>();
        sources.put(base + ".bpf.c", source.get());
        sources.put(HEADER, header());
        switch (Clang.compile(clang.get(), sources, base + ".bpf.c")) {
            case Clang.Result.Built b -> files.add(new GeneratedFile(dir + base + ".bpf.o", b.object()));
            case Clang.Result.Failed f -> diagnostics.error(module.consensus().getFirst().location(),
                    "internal compiler error: clang rejected the generated consensus data plane for target 'ebpf' "
                            + "(a bug in xpsc, please report it):\n" + f.output().strip());
        }
        return files;
    }

    /** xps_consensus.h, emitted next to the source. */
    static String header() {
        try (InputStream in = ConsensusGenerator.class.getResourceAsStream(HEADER)) {
            if (in == null) {
                throw new IllegalStateException(HEADER + " is missing from the backend's resources");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static STGroup loadTemplates() {
        STGroup group = new STGroupFile(ConsensusGenerator.class.getResource("consensus.stg"), "UTF-8", '$', '$');
        group.registerModelAdaptor(Record.class, new RecordAdaptor());
        return group;
    }

    // ------------------------------------------------------------------ manifest

    /** The manifest's {@code consensus} section: the object, and per block its programs and map layouts. */
    static Map<String, Object> manifest(IrModule module) {
        ConsensusGenerator g = new ConsensusGenerator(module, new Diagnostics());
        Map<String, Object> o = Json.object();
        String base = module.baseName();
        o.put("source", base + ".consensus.bpf.c");
        o.put("object", base + ".consensus.bpf.o");
        o.put("header", HEADER);
        o.put("spec", "docs/consensus.md");
        List<Object> blocks = Json.array();
        for (Block b : g.blocks()) {
            blocks.add(block(b));
        }
        o.put("blocks", blocks);
        return o;
    }

    private static Map<String, Object> block(Block b) {
        Map<String, Object> o = Json.object();
        o.put("name", b.name());
        o.put("port", b.port());
        o.put("replicationPort", b.replPort());
        o.put("replicas", b.replicas());
        o.put("logCapacity", b.logSlots());
        o.put("entryBytes", b.entryBytes());
        o.put("failureThreshold", b.threshold());
        o.put("order", b.orderText());
        List<Object> programs = Json.array();
        programs.add(program(b.program("ingress"), "tc", "tcx_ingress", "leader",
                "ordered client requests on port " + b.port() + ": number, log, PREPARE to every other member "
                        + "(bpf_clone_redirect), consume"));
        programs.add(program(b.program("xdp"), "xdp", "xdp", "every member",
                "replication messages on port " + b.replPort() + ": PREPARE -> PREPAREOK (XDP_TX), PREPAREOK -> "
                        + "commit, COMMIT -> commit; events on " + b.prefix() + "_events; other ports pass"));
        programs.add(program(b.program("egress"), "tc", "tcx_egress", "leader",
                "the service's replies from port " + b.port() + ": host RTT and failure detection"));
        o.put("programs", programs);
        Map<String, Object> maps = Json.object();
        maps.put("config", config(b));
        maps.put("state", state(b));
        maps.put("log", log(b));
        maps.put("counters", counters(b));
        maps.put("events", events(b));
        Map<String, Object> next = named(b.prefix() + "_next");
        next.put("bpfType", "prog_array");
        next.put("maxEntries", 1);
        next.put("does", "slot 0: the XDP program " + b.program("xdp") + " tail-calls for traffic that is not "
                + "replication (the module's handler entry program: the interface has one XDP hook); empty: pass");
        maps.put("next", next);
        o.put("maps", maps);
        return o;
    }

    private static Map<String, Object> program(String name, String section, String attach, String role, String does) {
        Map<String, Object> o = named(name);
        o.put("section", section);
        o.put("attach", attach);
        o.put("role", role);
        o.put("does", does);
        return o;
    }

    private static Map<String, Object> config(Block b) {
        Map<String, Object> o = named(b.prefix() + "_config");
        o.put("bpfType", "array");
        o.put("maxEntries", 1);
        o.put("valueSize", b.configSize());
        o.put("encoding", "struct " + b.prefix() + "_config, little-endian except addresses (network order)");
        o.put("fields", fields("configured", 0, 4, "view", 4, 4, "me", 8, 4, "n", 12, 4, "leader", 16, 4,
                "ifindex", 20, 4, "capacity", 24, 8, "quorumOthers", 32, 4, "backlogThreshold", 36, 4,
                "failureFloorNs", 40, 8, "members", CONFIG_MEMBERS_OFFSET, MEMBER_BYTES * b.replicas()));
        o.put("member", fields("ip", 0, 4, "mac", 4, 6));
        o.put("memberBytes", MEMBER_BYTES);
        return o;
    }

    private static Map<String, Object> state(Block b) {
        Map<String, Object> o = named(b.prefix() + "_state");
        o.put("bpfType", "array");
        o.put("maxEntries", 1);
        o.put("valueSize", b.stateSize());
        o.put("fields", fields("lastOp", 0, 8, "commit", 8, 8, "contiguous", 16, 8, "answered", 24, 8,
                "rttNs", 32, 8, "stopped", 40, 4, "acked", STATE_ACKED_OFFSET, 8 * b.replicas()));
        return o;
    }

    private static Map<String, Object> log(Block b) {
        Map<String, Object> o = named(b.prefix() + "_log");
        o.put("bpfType", "array");
        o.put("maxEntries", b.logSlots());
        o.put("key", "u32 slot = op mod capacity (config.capacity: the loaded map's max_entries)");
        o.put("valueSize", b.slotSize());
        o.put("fields", fields("op", 0, 8, "loggedNs", 8, 8, "committedNs", 16, 8, "clientIp", 24, 4,
                "clientPort", 28, 2, "length", 30, 2, "data", SLOT_DATA_OFFSET, b.entryCap()));
        o.put("does", "slot holds entry op when its op field equals op; client address in network order");
        return o;
    }

    private static Map<String, Object> counters(Block b) {
        Map<String, Object> o = named(b.prefix() + "_counters");
        o.put("bpfType", "percpu_array");
        o.put("maxEntries", 1);
        o.put("valueSize", 8 * b.counters().size());
        o.put("fields", b.counters());
        o.put("encoding", "u64 each, little-endian, in this order; sum over CPUs");
        return o;
    }

    private static Map<String, Object> events(Block b) {
        Map<String, Object> o = named(b.prefix() + "_events");
        o.put("bpfType", "ringbuf");
        o.put("maxEntries", RINGBUF_BYTES);
        o.put("eventBytes", EVENT_BYTES);
        o.put("fields", fields("kind", 0, 4, "view", 4, 4, "value", 8, 8, "timeNs", 16, 8));
        Map<String, Object> kinds = Json.object();
        kinds.put("commit", 1);
        kinds.put("failed", 2);
        kinds.put("backlog", 3);
        o.put("kinds", kinds);
        return o;
    }

    private static Map<String, Object> fields(Object... nameOffsetSize) {
        Map<String, Object> o = Json.object();
        for (int i = 0; i < nameOffsetSize.length; i += 3) {
            Map<String, Object> f = Json.object();
            f.put("offset", nameOffsetSize[i + 1]);
            f.put("size", nameOffsetSize[i + 2]);
            o.put((String) nameOffsetSize[i], f);
        }
        return o;
    }

    private static Map<String, Object> named(String cName) {
        Map<String, Object> o = Json.object();
        o.put("name", cName);
        o.put("kernelName", Manifest.kernelName(cName));
        return o;
    }
}
