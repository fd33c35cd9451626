package dev.xps.agent;

import dev.xps.agent.bpf.AttachType;
import dev.xps.agent.bpf.BpfException;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.NetNs;
import dev.xps.agent.bpf.Preflight;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The runtime agent's control API over eBPF artifacts (brief §5): {@link #createContext}, {@link #updateContext},
 * {@link #deleteContext}, and {@link #context} to reach a context's data, statistics and logs.
 *
 * <p>A context's kernel objects are pinned under {@code <pinRoot>/<name>/} ({@link PinnedContext}); the agent's
 * record of it — the manifest, the object it loaded and the attachment — is kept under
 * {@code <stateRoot>/<name>/} (bpffs holds only BPF objects). Both survive the agent, so a restarted agent
 * finds every context again; {@link #deleteContext} removes both.
 */
public final class Agent {
    public static final Path DEFAULT_STATE_ROOT = Path.of("/run/xps");

    private final Path pinRoot;
    private final Path stateRoot;

    public Agent(Path pinRoot, Path stateRoot) {
        this.pinRoot = pinRoot.toAbsolutePath().normalize();
        this.stateRoot = stateRoot.toAbsolutePath().normalize();
    }

    /** The agent on {@link Pins#DEFAULT_ROOT} and {@link #DEFAULT_STATE_ROOT}. */
    public static Agent standard() {
        return new Agent(Pins.DEFAULT_ROOT, DEFAULT_STATE_ROOT);
    }

    public Path pinRoot() {
        return pinRoot;
    }

    public Path stateRoot() {
        return stateRoot;
    }

    /** Names of the contexts pinned under the pin root. */
    public List<String> contexts() {
        return Pins.contexts(pinRoot);
    }

    // ------------------------------------------------------------------ create

    /**
     * Loads {@code artifact} (a directory holding one {@code *.manifest.json} and its object, or the manifest
     * file) as context {@code name} and attaches its entry points: for TCP, the stream verdict and the sk_msg
     * program on the entry's sockhash, then sock_ops on {@code attachment}'s cgroup (last, so no socket enters
     * the sockhash before its verdict program is there); for UDP, XDP on the interface.
     *
     * @throws AgentException.PortClaimed if another context serves one of the entry points' ports
     * @throws AgentException.VerifierRejected if the kernel refuses a program (with the verifier log and the
     *                                         .xps line it points at)
     * @throws dev.xps.agent.bpf.PreflightException when not privileged, the cgroup is not cgroup v2, or the
     *                                              interface does not exist
     */
    public Context createContext(String name, Path artifact, Attachment attachment) {
        Preflight.requirePrivileges();
        try (var lock = lock()) {
            return create(name, artifact, attachment);
        }
    }

    /**
     * Serializes the agents of one machine (and {@code bin/xps} invocations) around create, update and delete:
     * an exclusive lock on {@code <stateRoot>/.lock}, so two creates cannot both find a port free.
     */
    private AutoCloseable0 lock() {
        try {
            Files.createDirectories(stateRoot);
            var ch = java.nio.channels.FileChannel.open(stateRoot.resolve(".lock"),
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
            var l = ch.lock();
            return () -> {
                try {
                    l.release();
                    ch.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock " + stateRoot.resolve(".lock"), e);
        }
    }

    private interface AutoCloseable0 extends AutoCloseable {
        @Override
        void close();
    }

    private Context create(String name, Path artifact, Attachment attachment) {
        Path manifestFile = Manifest.locate(artifact);
        Manifest manifest = Manifest.read(manifestFile);
        if (manifest.composite().isPresent()) {
            throw new AgentException(manifestFile + " is the generic composite object: create it with "
                    + "createCompContext (xps compcontext NAME DIR --port P --offset O --length L "
                    + "--cgroup PATH | --interface IF [--netns NS])");
        }
        return create(name, manifestFile, manifest, attachment, null);
    }

    private static Path objectOf(Path manifestFile, Manifest manifest) {
        Path object = manifestFile.resolveSibling(manifest.object());
        if (!Files.isRegularFile(object)) {
            throw new AgentException("the manifest names object " + manifest.object() + " but " + object
                    + " does not exist (was clang missing when xpsc compiled it?)");
        }
        return object;
    }

    /** Loads, pins and attaches; {@code beforeAttach} (may be null) runs after the load, before any attachment. */
    private Context create(String name, Path manifestFile, Manifest manifest, Attachment attachment,
                           java.util.function.Consumer<PinnedContext> beforeAttach) {
        Pins pins = Pins.of(pinRoot, name);
        Path object = objectOf(manifestFile, manifest);
        if (pins.exists()) {
            throw new AgentException("context '" + name + "' already exists (" + pins.dir()
                    + "): delete it first, or update it");
        }
        checkAttachment(manifest, attachment);
        checkPorts(name, manifest);

        Path state = stateRoot.resolve(name);
        PinnedContext pinned = null;
        try {
            pinned = load(pins, object, manifest, manifestFile);
            if (beforeAttach != null) {
                beforeAttach.accept(pinned);
            }
            for (Manifest.Entry e : manifest.entries()) {
                if (e.tcp()) {
                    String socks = e.sockhash().orElseThrow(() -> new AgentException("TCP entry " + e.name()
                            + " has no sockhash in the manifest"));
                    for (Manifest.Program p : e.programs()) {
                        switch (p.attach()) {
                            case "sk_skb_stream_verdict" ->
                                    pinned.attachToMap(p.name(), target(p, socks), AttachType.SK_SKB_STREAM_VERDICT);
                            case "sk_msg_verdict" ->
                                    pinned.attachToMap(p.name(), target(p, socks), AttachType.SK_MSG_VERDICT);
                            case "sock_ops" -> { } // last, below
                            default -> throw new AgentException("unknown attach '" + p.attach() + "' of program "
                                    + p.name());
                        }
                    }
                    for (Manifest.Program p : e.programs()) {
                        if (p.attach().equals("sock_ops")) {
                            pinned.attachCgroup(p.name(), attachment.cgroup().orElseThrow(),
                                    AttachType.CGROUP_SOCK_OPS);
                        }
                    }
                } else {
                    for (Manifest.Program p : e.programs()) {
                        String iface = attachment.iface().orElseThrow();
                        if (attachment.netns().isPresent()) {
                            pinned.attachXdp(p.name(), p.name(), attachment.netns().get(), iface, attachment.xdpMode());
                        } else {
                            pinned.attachXdp(p.name(), iface, attachment.xdpMode());
                        }
                    }
                }
            }
            writeState(state, manifest.text(), manifestFile, object, attachment);
            return new Context(name, pinned, manifest, attachment, state);
        } catch (RuntimeException ex) {
            if (pinned != null) {
                try {
                    pinned.unload();
                } catch (RuntimeException suppressed) {
                    ex.addSuppressed(suppressed);
                }
            }
            deleteTree(state);
            throw ex;
        }
    }

    private static String target(Manifest.Program p, String socks) {
        return p.target() == null ? socks : p.target();
    }

    private void checkAttachment(Manifest manifest, Attachment a) {
        if (manifest.hasTcp()) {
            Path cg = a.cgroup().orElseThrow(() -> new AgentException("the module has TCP entry points ("
                    + tcpEntries(manifest) + "): give the service's cgroup v2 (--cgroup PATH)"));
            Preflight.requireCgroupV2(cg);
        }
        if (manifest.hasUdp()) {
            String iface = a.iface().orElseThrow(() -> new AgentException(
                    "the module has UDP entry points: give the interface the requests arrive on (--interface IF)"));
            if (a.netns().isPresent()) {
                NetNs.ifindex(a.netns().get(), iface);
            } else {
                Preflight.ifindex(iface);
            }
        }
    }

    private static String tcpEntries(Manifest m) {
        return String.join(", ", m.entries().stream().filter(Manifest.Entry::tcp)
                .map(e -> e.name() + " on port " + e.ports()).toList());
    }

    /** Refuses an entry point whose protocol and port range overlap one of another context's. */
    private void checkPorts(String name, Manifest manifest) {
        for (String other : contexts()) {
            if (other.equals(name)) {
                continue;
            }
            Path f = stateRoot.resolve(other).resolve("manifest.json");
            if (!Files.isRegularFile(f)) {
                continue; // not one of ours (or a context loaded without the agent's record)
            }
            if (Files.exists(stateRoot.resolve(other).resolve(SUB_RECORD))) {
                continue; // a sub-context serves its composite's port: the composite claims it
            }
            Manifest m = Manifest.read(f);
            for (Manifest.Entry mine : manifest.entries()) {
                for (Manifest.Entry theirs : m.entries()) {
                    if (mine.overlaps(theirs)) {
                        throw new AgentException.PortClaimed("port " + mine.ports() + "/" + mine.protocol()
                                + " (entry '" + mine.name() + "') is already claimed by context '" + other
                                + "' (entry '" + theirs.name() + "', port " + theirs.ports()
                                + "): delete that context first");
                    }
                }
            }
        }
    }

    private static PinnedContext load(Pins pins, Path object, Manifest manifest, Path manifestFile) {
        try {
            return PinnedContext.load(pins, object);
        } catch (BpfException e) {
            if (e.verifierLog() == null || e.verifierLog().isBlank()) {
                throw e;
            }
            throw verifierRejected(e, manifestFile.resolveSibling(object.getFileName().toString()
                    .replaceFirst("\\.o$", ".c")), manifest);
        }
    }

    private static final Pattern AT_LINE = Pattern.compile("@ ([^:\\s]+\\.bpf\\.c):(\\d+)");
    private static final Pattern XPS_LINE = Pattern.compile("/\\*\\s*([^\\s*]+\\.xps):(\\d+)\\s*\\*/");

    /** Maps the last {@code @ file.bpf.c:LINE} of the verifier log to the nearest preceding {@code /* x.xps:N *}{@code /}. */
    static AgentException.VerifierRejected verifierRejected(BpfException e, Path cSource, Manifest manifest) {
        Matcher m = AT_LINE.matcher(e.verifierLog());
        int cLine = -1;
        while (m.find()) {
            cLine = Integer.parseInt(m.group(2));
        }
        String where = null;
        StringBuilder msg = new StringBuilder("the kernel's verifier rejected " + manifest.object());
        if (cLine > 0 && Files.isRegularFile(cSource)) {
            try {
                List<String> lines = Files.readAllLines(cSource);
                msg.append("\n  at ").append(cSource.getFileName()).append(':').append(cLine);
                if (cLine <= lines.size()) {
                    msg.append(": ").append(lines.get(cLine - 1).strip());
                }
                for (int k = Math.min(cLine, lines.size()) - 1; k >= 0; k--) {
                    Matcher x = XPS_LINE.matcher(lines.get(k));
                    if (x.find()) {
                        where = x.group(1) + ":" + x.group(2);
                        msg.append("\n  from ").append(where);
                        Path xps = cSource.resolveSibling(x.group(1));
                        for (Path cand : List.of(xps, cSource.getParent().getParent().getParent().resolve(x.group(1)))) {
                            if (Files.isRegularFile(cand)) {
                                List<String> src = Files.readAllLines(cand);
                                int n = Integer.parseInt(x.group(2));
                                if (n <= src.size()) {
                                    msg.append(": ").append(src.get(n - 1).strip());
                                }
                                break;
                            }
                        }
                        break;
                    }
                }
            } catch (IOException | RuntimeException ignored) {
                // the log below still says it all
            }
        }
        msg.append('\n').append(e.getMessage());
        return new AgentException.VerifierRejected(msg.toString(), where, e);
    }

    private static void writeState(Path state, String manifestText, Path manifestFile, Path object,
                                   Attachment attachment) {
        try {
            Files.createDirectories(state);
            Files.writeString(state.resolve("manifest.json"), manifestText);
            Files.copy(object, state.resolve("object.bpf.o"), StandardCopyOption.REPLACE_EXISTING);
            Path c = manifestFile.resolveSibling(object.getFileName().toString().replaceFirst("\\.o$", ".c"));
            if (Files.isRegularFile(c)) {
                Files.copy(c, state.resolve("object.bpf.c"), StandardCopyOption.REPLACE_EXISTING);
            }
            Files.writeString(state.resolve("attachment.json"), Json.write(attachment.toJson()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record the context in " + state, e);
        }
    }

    // ------------------------------------------------------------------ composite contexts

    /** In a composite's state directory: {@code {"port":P,"offset":O,"length":L,"protocol":"tcp"|"udp"}}. */
    static final String COMPOSITE_RECORD = "composite.json";
    /** In a sub-context's state directory: {@code {"composite":C,"slot":N,"value":"0x.."}}. */
    static final String SUB_RECORD = "subcontext.json";

    /** A composite's configuration, as recorded: {@code protocol} is "tcp" or "udp". */
    public record Composite(String name, int port, int offset, int length, String protocol) {
        /** A TCP composite. */
        public Composite(String name, int port, int offset, int length) {
            this(name, port, offset, length, "tcp");
        }
    }

    /** A sub-context's place in its composite, as recorded. */
    public record SubContext(String name, String composite, int slot, byte[] value) {}

    /**
     * create_compcontext(port, offset, length): loads the generic composite object {@code artifact} (written by
     * {@code xpsc composite -o DIR}, under {@code DIR/ebpf/xps-composite/}, or by {@code xpsc composite --protocol
     * udp -o DIR}, under {@code DIR/ebpf/xps-composite-udp/}) as context {@code name}, writes its config map (port,
     * selector offset and length) and attaches it like a context of its protocol: TCP to {@code attachment}'s
     * cgroup, UDP as XDP to its interface (in its network namespace, if any). With no sub-context every message
     * passes to the service; {@link #createSubContext} adds them. The agent's record of the context carries the
     * port and protocol, so other contexts cannot claim them.
     *
     * @throws IllegalArgumentException if port, offset or length is out of range
     */
    @SuppressWarnings("unchecked")
    public Context createCompContext(String name, Path artifact, int port, int offset, int length,
                                     Attachment attachment) {
        Preflight.requirePrivileges();
        Path manifestFile = Manifest.locate(artifact);
        Manifest generic = Manifest.read(manifestFile);
        Manifest.Composite c = generic.composite().orElseThrow(() -> new AgentException(manifestFile
                + " is not the composite object (write it with: xpsc composite -o DIR)"));
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is not in 1..65535");
        }
        if (length < 1 || length > c.maxSelectorLength()) {
            throw new IllegalArgumentException("selector length " + length + " is not in 1.."
                    + c.maxSelectorLength());
        }
        if (offset < 0 || offset > c.maxOffset()) {
            throw new IllegalArgumentException("selector offset " + offset + " is not in 0.." + c.maxOffset());
        }
        // the record of this context says which port it serves (the generic manifest says 0)
        Map<String, Object> root = (Map<String, Object>) Json.parse(generic.text());
        for (Object e : (List<Object>) root.get("entryPoints")) {
            Map<String, Object> pred = (Map<String, Object>) ((Map<String, Object>) e).get("predicate");
            pred.put("port", new LinkedHashMap<>(Map.of("low", (long) port, "high", (long) port)));
            Map<String, Object> comp = (Map<String, Object>) ((Map<String, Object>) e).get("composite");
            comp.put("port", (long) port);
            comp.put("offset", (long) offset);
            comp.put("length", (long) length);
        }
        Manifest configured = Manifest.parse(Json.write(root));
        String protocol = configured.entries().getFirst().protocol();
        try (var lock = lock()) {
            if (protocol.equals("tcp") && attachment.cgroup().isEmpty()) {
                throw new AgentException("a TCP composite serves connections: give the service's cgroup v2 "
                        + "(--cgroup PATH)");
            }
            if (protocol.equals("udp") && attachment.iface().isEmpty()) {
                throw new AgentException("a UDP composite serves datagrams with XDP: give the interface they arrive "
                        + "on (--interface IF [--netns NS])");
            }
            Context ctx = create(name, manifestFile, configured, attachment, pinned -> {
                byte[] v = new byte[16];
                putU32(v, 0, port);
                putU32(v, 4, offset);
                putU32(v, 8, length);
                pinned.map(c.configMap()).put(new byte[4], v);
            });
            try {
                Files.writeString(stateRoot.resolve(name).resolve(COMPOSITE_RECORD), Json.write(Map.of(
                        "port", (long) port, "offset", (long) offset, "length", (long) length,
                        "protocol", protocol)));
            } catch (IOException e) {
                ctx.close();
                delete(name);
                throw new UncheckedIOException("cannot record the composite in " + stateRoot.resolve(name), e);
            }
            return ctx;
        }
    }

    /** The composite {@code name} as recorded. */
    @SuppressWarnings("unchecked")
    public Composite composite(String name) {
        Path f = stateRoot.resolve(name).resolve(COMPOSITE_RECORD);
        if (!Pins.of(pinRoot, name).exists()) {
            throw new NoSuchElementException("no context '" + name + "' (nothing pinned at "
                    + Pins.of(pinRoot, name).dir() + ")");
        }
        if (!Files.isRegularFile(f)) {
            throw new AgentException("context '" + name + "' is not a composite (create one with xps compcontext)");
        }
        try {
            Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(f));
            return new Composite(name, ((Long) m.get("port")).intValue(), ((Long) m.get("offset")).intValue(),
                    ((Long) m.get("length")).intValue(), m.get("protocol") instanceof String p ? p : "tcp");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The sub-context {@code name} as recorded, or empty if it is not a sub-context. */
    @SuppressWarnings("unchecked")
    public Optional<SubContext> subContext(String name) {
        Path f = stateRoot.resolve(name).resolve(SUB_RECORD);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            Map<String, Object> m = (Map<String, Object>) Json.parse(Files.readString(f));
            return Optional.of(new SubContext(name, (String) m.get("composite"), ((Long) m.get("slot")).intValue(),
                    java.util.HexFormat.of().parseHex((String) m.get("value"))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The sub-contexts of composite {@code composite}, by name. */
    public List<SubContext> subContexts(String composite) {
        List<SubContext> out = new ArrayList<>();
        for (String c : contexts()) {
            subContext(c).filter(s -> s.composite().equals(composite)).ifPresent(out::add);
        }
        return out;
    }

    /**
     * create_subcontext(ctx, handler, value): loads {@code artifact} — one handler of the composite's protocol
     * compiled on its own ({@code handler NAME on tcp|udp port P { ... }}, P the composite's port) — as context
     * {@code name}, with the composite's per-CPU scratch memory and counters, and for TCP its sockhash, connection
     * states and reset ring buffer, in place of its own (so its TX answers, ordering and resets are the
     * composite's: the composite's entry program builds the answer from the shared scratch), puts its handler
     * program into a free slot of the composite's program array and then maps {@code value} (exactly the
     * composite's selector length) to that slot: from the next message (UDP: datagram) on, messages whose selector
     * is {@code value} run it, also on connections already open. Its data maps are its own: reach them with
     * {@link #context}{@code (name)}. Entry programs of the artifact are not loaded.
     */
    public Context createSubContext(String composite, String name, Path artifact, byte[] value) {
        Preflight.requirePrivileges();
        try (var lock = lock()) {
            Composite comp = composite(composite);
            Pins pins = Pins.of(pinRoot, name);
            if (pins.exists()) {
                throw new AgentException("context '" + name + "' already exists (" + pins.dir()
                        + "): delete it first, or update it");
            }
            if (value.length != comp.length()) {
                throw new IllegalArgumentException("selector value " + show(value) + " is " + value.length
                        + " bytes; composite '" + composite + "' selects on " + comp.length() + " bytes at offset "
                        + comp.offset());
            }
            int slot = -1;
            List<SubContext> subs = subContexts(composite);
            for (SubContext s : subs) {
                if (java.util.Arrays.equals(s.value(), value)) {
                    throw new AgentException("selector " + show(value) + " of composite '" + composite
                            + "' is already sub-context '" + s.name() + "'s: delete or update that one");
                }
            }
            Path manifestFile = Manifest.locate(artifact);
            Manifest m = Manifest.read(manifestFile);
            Manifest.Entry entry = subEntry(m, manifestFile, comp);
            Path object = objectOf(manifestFile, m);
            Manifest compManifest = Manifest.read(stateRoot.resolve(composite).resolve("manifest.json"));
            Manifest.Composite cdef = compManifest.composite().orElseThrow();
            for (int i = 0; i < cdef.slots() && slot < 0; i++) {
                final int k = i;
                if (subs.stream().noneMatch(s -> s.slot() == k)) {
                    slot = i;
                }
            }
            if (slot < 0) {
                throw new AgentException("composite '" + composite + "' has no free handler slot (" + cdef.slots()
                        + " sub-contexts at most)");
            }
            Manifest recorded = withoutResets(m);
            Path state = stateRoot.resolve(name);
            try (PinnedContext compPinned = PinnedContext.adopt(Pins.of(pinRoot, composite))) {
                Manifest.Entry ce = compManifest.entries().getFirst();
                BpfMap handlers = compPinned.map(ce.progArray().orElseThrow());
                BpfMap selectors = compPinned.map(cdef.selectorsMap());
                PinnedContext sub = loadSub(pins, object, m, manifestFile, entry, compPinned, compManifest);
                boolean selectorSet = false;
                try {
                    handlers.setProgram(slot, sub.program(entry.slots().getFirst().program()));
                    writeState(state, recorded.text(), manifestFile, object, attachmentOf(composite));
                    Files.writeString(state.resolve(SUB_RECORD), Json.write(Map.of("composite", composite,
                            "slot", (long) slot, "value", java.util.HexFormat.of().formatHex(value))));
                    selectors.put(selectorKey(value), u32(slot)); // last: the slot is ready before it is chosen
                    selectorSet = true;
                    return new Context(name, sub, recorded, attachmentOf(composite), state);
                } catch (IOException | RuntimeException ex) {
                    RuntimeException r = ex instanceof RuntimeException re ? re
                            : new UncheckedIOException("cannot record the sub-context in " + state, (IOException) ex);
                    try {
                        if (selectorSet) {
                            selectors.delete(selectorKey(value));
                        }
                        handlers.clearProgram(slot);
                        sub.unload();
                    } catch (RuntimeException suppressed) {
                        r.addSuppressed(suppressed);
                    }
                    deleteTree(state);
                    throw r;
                }
            }
        }
    }

    /** The one handler entry a sub-context artifact must have. */
    private static Manifest.Entry subEntry(Manifest m, Path manifestFile, Composite comp) {
        if (m.composite().isPresent()) {
            throw new AgentException(manifestFile + " is the composite object itself, not a handler");
        }
        if (m.entries().size() != 1 || !m.entries().getFirst().protocol().equals(comp.protocol())
                || !m.entries().getFirst().kind().equals("handler") || m.entries().getFirst().slots().size() != 1) {
            throw new AgentException("a sub-context of " + comp.protocol().toUpperCase(java.util.Locale.ROOT)
                    + " composite '" + comp.name() + "' is one " + comp.protocol().toUpperCase(java.util.Locale.ROOT)
                    + " handler ('handler NAME on " + comp.protocol() + " port " + comp.port() + " { ... }'); "
                    + m.source() + " has " + m.entries().stream().map(e -> e.kind() + " " + e.name() + " on "
                    + e.protocol() + " port " + e.ports()).toList());
        }
        Manifest.Entry e = m.entries().getFirst();
        if (comp.port() < e.portLow() || comp.port() > e.portHigh()) {
            throw new AgentException("handler " + e.name() + " of " + m.source() + " is for " + e.protocol()
                    + " port " + e.ports() + ", but composite '" + comp.name() + "' serves port " + comp.port());
        }
        return e;
    }

    /** Loads a sub-context's handler program with the composite's shared maps. */
    private static PinnedContext loadSub(Pins pins, Path object, Manifest m, Path manifestFile, Manifest.Entry entry,
                                         PinnedContext comp, Manifest compManifest) {
        Manifest.Entry ce = compManifest.entries().getFirst();
        Map<String, BpfMap> shared = new LinkedHashMap<>();
        shared.put("xps_nest", comp.map("xps_nest"));
        shared.put("xps_scratch", comp.map("xps_scratch"));
        shared.put(m.countersMap(), comp.map(compManifest.countersMap()));
        m.connectionsMap().ifPresent(c -> shared.put(c, comp.map(compManifest.connectionsMap().orElseThrow())));
        m.resetsMap().ifPresent(r -> shared.put(r, comp.map(compManifest.resetsMap().orElseThrow())));
        entry.sockhash().ifPresent(h -> shared.put(h, comp.map(ce.sockhash().orElseThrow())));
        try {
            return PinnedContext.load(pins, object, null, shared,
                    java.util.Set.of(entry.slots().getFirst().program()));
        } catch (BpfException e) {
            if (e.verifierLog() == null || e.verifierLog().isBlank()) {
                throw e;
            }
            throw verifierRejected(e, manifestFile.resolveSibling(object.getFileName().toString()
                    .replaceFirst("\\.o$", ".c")), m);
        }
    }

    /** The sub-context's record of its manifest: without the reset ring buffer, which is the composite's. */
    @SuppressWarnings("unchecked")
    private static Manifest withoutResets(Manifest m) {
        Map<String, Object> root = (Map<String, Object>) Json.parse(m.text());
        root.remove("resets");
        return Manifest.parse(Json.write(root));
    }

    @SuppressWarnings("unchecked")
    private Attachment attachmentOf(String context) {
        try {
            return Attachment.fromJson((Map<String, Object>) Json.parse(
                    Files.readString(stateRoot.resolve(context).resolve("attachment.json"))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces sub-context {@code name}'s handler with {@code artifact}'s: data kept, slot swapped atomically. */
    private Context updateSub(SubContext sc, Path artifact) {
        Composite comp = composite(sc.composite());
        Path manifestFile = Manifest.locate(artifact);
        Manifest m = Manifest.read(manifestFile);
        Manifest.Entry entry = subEntry(m, manifestFile, comp);
        Path object = objectOf(manifestFile, m);
        Manifest compManifest = Manifest.read(stateRoot.resolve(sc.composite()).resolve("manifest.json"));
        Manifest recorded = withoutResets(m);
        Attachment attachment = attachmentOf(sc.composite());
        try (PinnedContext compPinned = PinnedContext.adopt(Pins.of(pinRoot, sc.composite()))) {
            PinnedContext sub = loadSub(Pins.of(pinRoot, sc.name()), object, m, manifestFile, entry, compPinned,
                    compManifest);
            try {
                compPinned.map(compManifest.entries().getFirst().progArray().orElseThrow())
                        .setProgram(sc.slot(), sub.program(entry.slots().getFirst().program()));
                writeState(stateRoot.resolve(sc.name()), recorded.text(), manifestFile, object, attachment);
                return new Context(sc.name(), sub, recorded, attachment, stateRoot.resolve(sc.name()));
            } catch (RuntimeException e) {
                sub.close();
                throw e;
            }
        }
    }

    /**
     * Removes sub-context {@code name}: its selector entry first (its messages pass to the service from then
     * on), then its slot, then its pins and record. Connections stay open.
     */
    public DeleteReport deleteSubContext(String name) {
        Preflight.requirePrivileges();
        try (var lock = lock()) {
            SubContext sc = subContext(name).orElseThrow(() -> new NoSuchElementException("no sub-context '"
                    + name + "'"));
            return deleteSub(sc);
        }
    }

    private DeleteReport deleteSub(SubContext sc) {
        List<String> done = new ArrayList<>();
        Pins cp = Pins.of(pinRoot, sc.composite());
        Path compManifestFile = stateRoot.resolve(sc.composite()).resolve("manifest.json");
        if (cp.exists() && Files.isRegularFile(compManifestFile)) {
            Manifest cm = Manifest.read(compManifestFile);
            try (PinnedContext comp = PinnedContext.adopt(cp)) {
                if (comp.map(cm.composite().orElseThrow().selectorsMap()).delete(selectorKey(sc.value()))) {
                    done.add("selector " + show(sc.value()) + " removed");
                }
                if (comp.map(cm.entries().getFirst().progArray().orElseThrow()).clearProgram(sc.slot())) {
                    done.add("slot " + sc.slot() + " emptied");
                }
            }
        }
        Pins pins = Pins.of(pinRoot, sc.name());
        if (pins.exists()) {
            PinnedContext.adopt(pins).unload(); // its sockhash is the composite's: sockets stay with it
        }
        deleteTree(stateRoot.resolve(sc.name()));
        return new DeleteReport(sc.name(), done.isEmpty() ? "nothing to drain" : String.join(", ", done), Map.of());
    }

    static byte[] selectorKey(byte[] value) {
        return java.util.Arrays.copyOf(value, 16);
    }

    private static byte[] u32(int v) {
        byte[] b = new byte[4];
        putU32(b, 0, v);
        return b;
    }

    private static void putU32(byte[] b, int off, int v) {
        b[off] = (byte) v;
        b[off + 1] = (byte) (v >>> 8);
        b[off + 2] = (byte) (v >>> 16);
        b[off + 3] = (byte) (v >>> 24);
    }

    /** A selector value as text if printable, else 0x-hex. */
    static String show(byte[] v) {
        for (byte c : v) {
            if (c < 0x20 || c > 0x7e) {
                return "0x" + java.util.HexFormat.of().formatHex(v);
            }
        }
        return "\"" + new String(v, java.nio.charset.StandardCharsets.US_ASCII) + "\"";
    }

    // ------------------------------------------------------------------ adopt

    /** Opens context {@code name} as an earlier agent (or this one) left it. */
    @SuppressWarnings("unchecked")
    public Context context(String name) {
        Pins pins = Pins.of(pinRoot, name);
        Path state = stateRoot.resolve(name);
        if (!pins.exists()) {
            throw new NoSuchElementException("no context '" + name + "' (nothing pinned at " + pins.dir() + ")");
        }
        if (!Files.isRegularFile(state.resolve("manifest.json"))) {
            throw new AgentException("context '" + name + "' is pinned at " + pins.dir() + " but the agent has no "
                    + "record of it in " + state + " (loaded by something else?)");
        }
        Manifest manifest = Manifest.read(state.resolve("manifest.json"));
        Attachment attachment;
        try {
            attachment = Attachment.fromJson((Map<String, Object>) Json.parse(
                    Files.readString(state.resolve("attachment.json"))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new Context(name, PinnedContext.adopt(pins), manifest, attachment, state);
    }

    // ------------------------------------------------------------------ update

    /**
     * Replaces the handlers of context {@code name} with those of {@code artifact} while connections stay open:
     * the new object is loaded reusing every pinned map (data kept; a map whose shape changed is refused), and
     * each handler slot of each entry's program array gets the new handler program (atomic per slot). Attached
     * entry programs (verdict, sock_ops, XDP) keep running: the new build must have the same entry points and
     * maps (docs/ebpf-target.md, "Handler slots").
     */
    public Context updateContext(String name, Path artifact) {
        Preflight.requirePrivileges();
        try (var lock = lock()) {
            Optional<SubContext> sub = subContext(name);
            if (sub.isPresent()) {
                return updateSub(sub.get(), artifact);
            }
            if (Files.exists(stateRoot.resolve(name).resolve(COMPOSITE_RECORD))) {
                throw new AgentException("context '" + name + "' is a composite: its handlers are its "
                        + "sub-contexts (update those); to change its port, offset or length, delete and create it");
            }
            return update(name, artifact);
        }
    }

    private Context update(String name, Path artifact) {
        Path manifestFile = Manifest.locate(artifact);
        Manifest next = Manifest.read(manifestFile);
        Path object = manifestFile.resolveSibling(next.object());
        Context current = context(name);
        Manifest prev = current.manifest();
        List<String> a = prev.entries().stream().map(e -> e.name() + "/" + e.protocol() + ":" + e.ports()).toList();
        List<String> b = next.entries().stream().map(e -> e.name() + "/" + e.protocol() + ":" + e.ports()).toList();
        if (!a.equals(b)) {
            current.close();
            throw new AgentException("the new build's entry points " + b + " differ from the running " + a
                    + ": delete and create the context instead");
        }
        Attachment attachment = current.attachment();
        current.close();
        Pins pins = Pins.of(pinRoot, name);
        PinnedContext pinned = load(pins, object, next, manifestFile);
        try {
            for (Manifest.Entry e : next.entries()) {
                if (e.progArray().isEmpty()) {
                    continue;
                }
                BpfMap slots = pinned.map(e.progArray().get());
                for (Manifest.Slot s : e.slots()) {
                    BpfProgram p = pinned.program(s.program());
                    slots.setProgram(s.slot(), p);
                }
            }
            writeState(stateRoot.resolve(name), next.text(), manifestFile, object, attachment);
            return new Context(name, pinned, next, attachment, stateRoot.resolve(name));
        } catch (RuntimeException e) {
            pinned.close();
            throw e;
        }
    }

    // ------------------------------------------------------------------ delete

    /** What {@link #deleteContext} did and left. */
    public record DeleteReport(String context, String drain, Map<String, Integer> socketsOnFastPath) {}

    /**
     * Drains, detaches and unpins context {@code name}. Draining: the manifest's drain switch is set (from
     * then on the verdict programs pass every segment of every live connection to the service, dispatch arms
     * with a verdict of their own and connections marked reset included), resets still waiting in the ring
     * buffer are carried out, and every handler slot is emptied (an empty slot makes its messages pass,
     * counted as {@code fallback}: the only drain for artifacts built before the manifest had a switch).
     * Live sockets stay in the sockhash until they close, as the README explains.
     */
    public DeleteReport deleteContext(String name) {
        Preflight.requirePrivileges();
        try (var lock = lock()) {
            Optional<SubContext> sub = subContext(name);
            if (sub.isPresent()) {
                return deleteSub(sub.get());
            }
            List<SubContext> subs = Files.exists(stateRoot.resolve(name).resolve(COMPOSITE_RECORD))
                    ? subContexts(name) : List.of();
            for (SubContext s : subs) {
                deleteSub(s);
            }
            DeleteReport r = delete(name);
            return subs.isEmpty() ? r : new DeleteReport(r.context(), subs.size() + " sub-contexts deleted ("
                    + String.join(", ", subs.stream().map(SubContext::name).toList()) + "), " + r.drain(),
                    r.socketsOnFastPath());
        }
    }

    private DeleteReport delete(String name) {
        Pins pins = Pins.of(pinRoot, name);
        Path state = stateRoot.resolve(name);
        if (!pins.exists()) {
            deleteTree(state);
            throw new NoSuchElementException("no context '" + name + "' (nothing pinned at " + pins.dir() + ")");
        }
        PinnedContext pinned = PinnedContext.adopt(pins);
        String drain;
        Optional<Manifest> manifest = Files.isRegularFile(state.resolve("manifest.json"))
                ? Optional.of(Manifest.read(state.resolve("manifest.json"))) : Optional.empty();
        List<String> drained = new ArrayList<>();
        if (manifest.isPresent() && manifest.get().drainMap().isPresent()) {
            BpfMap d = pinned.map(manifest.get().drainMap().get());
            byte[] one = new byte[d.valueLength()];
            one[0] = 1;
            d.put(new byte[d.keySize()], one);
            drained.add("drain switch " + manifest.get().drainMap().get() + " set");
        }
        if (manifest.isPresent() && manifest.get().resetsMap().isPresent() && SocketDestroyer.probe() == null) {
            // resets a handler decided before the switch was set and nobody has carried out yet: from now on
            // the connection's data would pass, so the handler's decision is honoured here
            int n = Context.serveResets(pinned.map(manifest.get().resetsMap().get()), () -> false, Duration.ZERO,
                    null);
            if (n > 0) {
                drained.add(n + " pending resets carried out");
            }
        }
        for (var e : pinned.maps().entrySet()) {
            if (e.getValue().type() == dev.xps.agent.bpf.MapType.PROG_ARRAY) {
                int n = 0;
                for (int i = 0; i < e.getValue().maxEntries(); i++) {
                    if (e.getValue().clearProgram(i)) {
                        n++;
                    }
                }
                drained.add(n + " handler slots of " + e.getKey() + " emptied");
            }
        }
        drain = drained.isEmpty() ? "nothing to drain" : String.join(", ", drained)
                + (manifest.map(m -> m.drainMap().isEmpty()).orElse(true)
                ? " (the manifest has no drain switch: empty slots make messages pass)" : "");
        PinnedContext.UnloadReport r = pinned.unload();
        deleteTree(state);
        return new DeleteReport(name, drain, r.socketsOnFastPath());
    }

    static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (var walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot remove " + root, e);
        }
    }

    /** Status of every context: name, source, attachment, entry points. */
    public Map<String, String> status() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String c : contexts()) {
            try (Context ctx = context(c)) {
                String extra = subContext(c).map(sc -> "\n  sub-context of " + sc.composite() + ": selector "
                        + show(sc.value()) + ", slot " + sc.slot()).orElse("");
                if (Files.exists(stateRoot.resolve(c).resolve(COMPOSITE_RECORD))) {
                    Composite k = composite(c);
                    extra = "\n  composite: " + k.protocol() + " port " + k.port() + ", selector at offset "
                            + k.offset() + " length " + k.length() + ", sub-contexts "
                            + subContexts(c).stream().map(SubContext::name).toList();
                }
                out.put(c, ctx.describe() + extra);
            } catch (RuntimeException e) {
                out.put(c, "unreadable: " + e.getMessage());
            }
        }
        return out;
    }
}
