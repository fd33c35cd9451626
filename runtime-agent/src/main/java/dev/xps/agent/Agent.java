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
        Pins pins = Pins.of(pinRoot, name);
        Path manifestFile = Manifest.locate(artifact);
        Manifest manifest = Manifest.read(manifestFile);
        Path object = manifestFile.resolveSibling(manifest.object());
        if (!Files.isRegularFile(object)) {
            throw new AgentException("the manifest names object " + manifest.object() + " but " + object
                    + " does not exist (was clang missing when xpsc compiled it?)");
        }
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
            writeState(state, manifestFile, object, attachment);
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

    private static void writeState(Path state, Path manifestFile, Path object, Attachment attachment) {
        try {
            Files.createDirectories(state);
            Files.copy(manifestFile, state.resolve("manifest.json"), StandardCopyOption.REPLACE_EXISTING);
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
            writeState(stateRoot.resolve(name), manifestFile, object, attachment);
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
     * Drains, detaches and unpins context {@code name}. The manifest (version 1) has no drain switch, so the
     * agent drains by emptying every handler slot: an empty slot makes its messages pass (counted as
     * {@code fallback}), so connections still on the fast path get plain service from then on. (Dispatch arms
     * with a verdict of their own — {@code "3" => drop} — and connections already marked reset keep that
     * verdict.) Live sockets stay in the sockhash until they close, as the README explains.
     */
    public DeleteReport deleteContext(String name) {
        Preflight.requirePrivileges();
        try (var lock = lock()) {
            return delete(name);
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
            drained.add("drain switch " + manifest.get().drainMap().get());
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
                out.put(c, ctx.describe());
            } catch (RuntimeException e) {
                out.put(c, "unreadable: " + e.getMessage());
            }
        }
        return out;
    }
}
