package dev.xps.agent;

import dev.xps.agent.bpf.AttachType;
import dev.xps.agent.bpf.BpfException;
import dev.xps.agent.bpf.BpfLink;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfObject;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.LinkInfo;
import dev.xps.agent.bpf.MapType;
import dev.xps.agent.bpf.NetNs;
import dev.xps.agent.bpf.ObjectMap;
import dev.xps.agent.bpf.ObjectProgram;
import dev.xps.agent.bpf.Preflight;
import dev.xps.agent.bpf.ProgramInfo;
import dev.xps.agent.bpf.XdpMode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.function.Consumer;

/**
 * One context's kernel objects — maps, programs, and links (attachments) — all pinned under its {@link Pins}
 * directory, with open handles to them.
 *
 * <h2>Lifecycle</h2>
 * <ul>
 * <li>{@link #load}: loads a {@code .bpf.o} into the context. A map already pinned under the same name is
 * <em>reused</em> (its data are kept: this is how a restarted agent, or a new version of the handler, keeps the
 * user's data); other maps are created. Then every map and program is pinned. Programs pinned by an earlier
 * load are replaced in the pin directory, but links keep running the program they attach until
 * {@link #replaceProgram} swaps it atomically ({@code bpf_link_update}).</li>
 * <li>{@code attach*}: attaches a program with a <em>link</em> and pins the link. Pinned links are what make
 * attachments survive the agent: the kernel keeps a link while it is pinned, and a link detaches itself when
 * its last reference goes, so everything the agent attached is reachable from its pin directory and nothing
 * is attached anywhere else.</li>
 * <li>{@link #adopt}: after a restart, opens everything pinned (maps with their data, programs, links with
 * their attachments intact).</li>
 * <li>{@link #close()}: closes this process's handles only; pins, attachments and data stay.</li>
 * <li>{@link #unload()}: detaches every link ({@code bpf_link_detach}, effective even if someone else holds
 * the link), removes every pin and the directory, and closes the handles: the kernel then frees the
 * programs and maps (asynchronously, within milliseconds), leaving {@code bpftool prog}/{@code map}/
 * {@code link} without our objects — except for connections already on a TCP fast path, which keep their
 * verdict program (and so its maps) until they close (see {@link #unload()}).</li>
 * </ul>
 *
 * <p>Not thread-safe: one agent thread manages a context.
 */
public final class PinnedContext implements AutoCloseable {
    private final Pins pins;
    private final Map<String, BpfMap> maps = new LinkedHashMap<>();
    private final Map<String, BpfProgram> programs = new LinkedHashMap<>();
    private final Map<String, BpfLink> links = new LinkedHashMap<>();
    private boolean closed;

    private PinnedContext(Pins pins) {
        this.pins = pins;
    }

    // ------------------------------------------------------------------ creating and adopting

    /**
     * Loads {@code objectFile} into the context (creating its directory), reusing maps already pinned there
     * and pinning everything; links already pinned are adopted unchanged. If the load fails, a context that
     * did not exist is removed again; an existing one keeps what it had (programs pinned before the failure
     * may already be the new ones; links still run the programs they ran).
     *
     * @param configure called after open and before anything else, e.g. to resize maps; may be null
     * @throws BpfException if libbpf or the kernel refuses (the verifier's log is in the exception)
     * @throws PinnedMapMismatchException if a pinned map no longer matches the object's declaration of it
     */
    public static PinnedContext load(Pins pins, Path objectFile, Consumer<BpfObject> configure) {
        return load(pins, objectFile, configure, Map.of(), null);
    }

    /**
     * {@link #load(Pins, Path, Consumer)} for a sub-context of a composite: the maps named in {@code shared} are
     * not created but are the given maps of another context (the composite's), whatever is pinned here; each
     * must have the declared type, key size and capacity and a value at least as large as declared (the
     * composite's response buffer is the largest a handler is built with). They are pinned here too, so an
     * adopted sub-context reaches them. Only the programs in {@code programs} are loaded (all if null).
     */
    public static PinnedContext load(Pins pins, Path objectFile, Consumer<BpfObject> configure,
                                     Map<String, BpfMap> shared, java.util.Set<String> programs) {
        boolean fresh = !pins.exists();
        pins.create();
        pins.removeTemporaries();
        PinnedContext ctx = new PinnedContext(pins);
        List<BpfMap> reused = new ArrayList<>();
        try (BpfObject obj = BpfObject.open(objectFile, null, pins.mapsDir())) {
            if (configure != null) {
                configure.accept(obj);
            }
            if (programs != null) {
                for (ObjectProgram p : obj.programs()) {
                    if (!programs.contains(p.name())) {
                        p.setAutoload(false);
                    }
                }
            }
            for (ObjectMap m : obj.maps()) {
                Path pin = pins.map(m.name());
                BpfMap share = shared.get(m.name());
                if (share != null) {
                    if (share.type() != m.type() || share.keySize() != m.keySize()
                            || share.maxEntries() != m.maxEntries() || share.valueSize() < m.valueSize()) {
                        throw new AgentException("the object declares map '" + m.name() + "' as "
                                + shape(m.type(), m.keySize(), m.valueSize(), m.maxEntries()) + ", but the map it "
                                + "must share is " + shape(share.type(), share.keySize(), share.valueSize(),
                                share.maxEntries()) + " (built by another xpsc version?)");
                    }
                    m.reuse(share);
                    continue;
                }
                if (!m.isInternal() && Files.exists(pin)) {
                    BpfMap existing = BpfMap.fromPin(pin);
                    reused.add(existing);
                    String pinned = shape(existing.type(), existing.keySize(), existing.valueSize(),
                            existing.maxEntries());
                    String declared = shape(m.type(), m.keySize(), m.valueSize(), m.maxEntries());
                    if (!pinned.equals(declared)) {
                        throw new PinnedMapMismatchException(m.name(), pinned, declared, pin.toString());
                    }
                    m.reuse(existing);
                }
            }
            obj.load();
            for (ObjectMap m : obj.maps()) {
                BpfMap handle = m.handle();
                ctx.maps.put(Pins.pinName(m.name()), handle);
                ctx.pinReplacing(pins.map(m.name()), handle.id(), BpfMap::fromPin, BpfMap::id, handle::pin);
            }
            for (ObjectProgram p : obj.programs()) {
                if (programs != null && !programs.contains(p.name())) {
                    continue;
                }
                BpfProgram handle = p.handle();
                ctx.programs.put(Pins.pinName(p.name()), handle);
                ctx.pinReplacing(pins.program(p.name()), handle.id(), BpfProgram::fromPin, BpfProgram::id,
                        handle::pin);
            }
            for (String name : pins.linkNames()) {
                ctx.links.put(name, BpfLink.fromPin(pins.link(name)));
            }
            return ctx;
        } catch (RuntimeException e) {
            ctx.close();
            if (fresh) { // leave no half-made context behind (a reload keeps what the earlier load pinned)
                List<RuntimeException> ignored = new ArrayList<>();
                removeAll(pins.linksDir(), ignored);
                removeAll(pins.programsDir(), ignored);
                removeAll(pins.mapsDir(), ignored);
                pins.removeDirectories();
            }
            throw e;
        } finally {
            reused.forEach(BpfMap::close);
        }
    }

    private static String shape(MapType type, int keySize, int valueSize, int maxEntries) {
        return type.name().toLowerCase() + " (key " + keySize + " bytes, value " + valueSize + " bytes, "
                + maxEntries + " entries)";
    }

    /** {@link #load(Pins, Path, Consumer)} without configuration. */
    public static PinnedContext load(Pins pins, Path objectFile) {
        return load(pins, objectFile, null);
    }

    /**
     * Re-adopts a context from its pins alone (after an agent restart): opens every pinned map, program and
     * link. Attachments and map data are as the previous agent left them.
     *
     * @throws NoSuchElementException if nothing is pinned for this context
     */
    public static PinnedContext adopt(Pins pins) {
        if (!pins.exists()) {
            throw new NoSuchElementException("no context '" + pins.context() + "' is pinned (" + pins.dir()
                    + " does not exist)");
        }
        pins.removeTemporaries();
        PinnedContext ctx = new PinnedContext(pins);
        try {
            for (String name : pins.mapNames()) {
                ctx.maps.put(name, BpfMap.fromPin(pins.map(name)));
            }
            for (String name : pins.programNames()) {
                ctx.programs.put(name, BpfProgram.fromPin(pins.program(name)));
            }
            for (String name : pins.linkNames()) {
                ctx.links.put(name, BpfLink.fromPin(pins.link(name)));
            }
            return ctx;
        } catch (RuntimeException e) {
            ctx.close();
            throw e;
        }
    }

    /**
     * Pins {@code pin} for an object with {@code id}: nothing to do if the pin already is that object (libbpf
     * reused or auto-pinned it), else pin to a temporary name and rename over the old pin, so the path
     * never lacks an object.
     */
    private <T extends AutoCloseable> void pinReplacing(Path pin, int id, java.util.function.Function<Path, T> open,
                                                        java.util.function.ToIntFunction<T> idOf,
                                                        Consumer<Path> pinAt) {
        if (Files.exists(pin)) {
            try (T existing = open.apply(pin)) {
                if (idOf.applyAsInt(existing) == id) {
                    return;
                }
            } catch (Exception e) {
                if (e instanceof RuntimeException r) {
                    throw r;
                }
                throw new IllegalStateException(e);
            }
        }
        Path tmp = Pins.temporary(pin);
        try {
            Files.deleteIfExists(tmp);
            pinAt.accept(tmp);
            Files.move(tmp, pin, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot pin " + pin, e);
        }
    }

    // ------------------------------------------------------------------ access

    public Pins pins() {
        return pins;
    }

    /** The map named {@code name} (libbpf's name or its pin name: {@code x.bss} or {@code x_bss}). */
    public BpfMap map(String name) {
        return get(maps, Pins.pinName(name), "map");
    }

    public BpfProgram program(String name) {
        return get(programs, Pins.pinName(name), "program");
    }

    public BpfLink link(String name) {
        return get(links, Pins.pinName(name), "link");
    }

    public Map<String, BpfMap> maps() {
        return Collections.unmodifiableMap(maps);
    }

    public Map<String, BpfProgram> programs() {
        return Collections.unmodifiableMap(programs);
    }

    public Map<String, BpfLink> links() {
        return Collections.unmodifiableMap(links);
    }

    /** Fresh kernel info (with run counters) for every program. */
    public Map<String, ProgramInfo> programStats() {
        Map<String, ProgramInfo> out = new LinkedHashMap<>();
        programs.forEach((n, p) -> out.put(n, p.info()));
        return out;
    }

    /** Fresh kernel info for every link: what is attached where. */
    public Map<String, LinkInfo> attachments() {
        Map<String, LinkInfo> out = new LinkedHashMap<>();
        links.forEach((n, l) -> out.put(n, l.info()));
        return out;
    }

    private <T> T get(Map<String, T> m, String name, String what) {
        ensureOpen();
        T t = m.get(name);
        if (t == null) {
            throw new NoSuchElementException("context '" + pins.context() + "' has no " + what + " '" + name
                    + "' (it has: " + String.join(", ", m.keySet()) + ")");
        }
        return t;
    }

    // ------------------------------------------------------------------ attaching

    /** Attaches {@code program} to a cgroup v2 (e.g. {@link AttachType#CGROUP_SOCK_OPS}); the link is named after the program. */
    public BpfLink attachCgroup(String program, Path cgroup, AttachType type) {
        return attachCgroup(program, program, cgroup, type);
    }

    public BpfLink attachCgroup(String linkName, String program, Path cgroup, AttachType type) {
        return attach(linkName, () -> program(program).attachCgroup(cgroup, type));
    }

    /** Attaches {@code program} to the sockmap/sockhash {@code map} (e.g. {@link AttachType#SK_SKB_STREAM_VERDICT}). */
    public BpfLink attachToMap(String program, String map, AttachType type) {
        return attachToMap(program, program, map, type);
    }

    public BpfLink attachToMap(String linkName, String program, String map, AttachType type) {
        return attach(linkName, () -> program(program).attachToMap(map(map), type));
    }

    /** Attaches an XDP {@code program} to interface {@code ifname} of this network namespace. */
    public BpfLink attachXdp(String program, String ifname, XdpMode mode) {
        return attach(program, () -> program(program).attachXdp(Preflight.ifindex(ifname), mode));
    }

    /** Attaches an XDP {@code program} to interface {@code ifname} inside network namespace {@code netns}. */
    public BpfLink attachXdp(String linkName, String program, String netns, String ifname, XdpMode mode) {
        return attach(linkName, () -> NetNs.call(netns,
                () -> program(program).attachXdp(Preflight.ifindex(ifname, "network namespace " + netns), mode)));
    }

    private BpfLink attach(String linkName, java.util.function.Supplier<BpfLink> create) {
        ensureOpen();
        Path pin = pins.link(linkName);
        if (links.containsKey(Pins.pinName(linkName)) || Files.exists(pin)) {
            throw new IllegalStateException("context '" + pins.context() + "' already has a link '" + linkName
                    + "': use replaceProgram to swap its program, or detach it first");
        }
        BpfLink link = create.get();
        try {
            link.pin(pin);
        } catch (RuntimeException e) {
            link.close(); // unpinned: closing it detaches it
            throw e;
        }
        links.put(Pins.pinName(linkName), link);
        return link;
    }

    /** Swaps the program a link runs, atomically: every packet sees either the old or the new program. */
    public void replaceProgram(String linkName, String program) {
        link(linkName).update(program(program));
    }

    /** Detaches one link and removes its pin. */
    public void detach(String linkName) {
        BpfLink link = link(linkName);
        link.detach();
        try {
            Files.deleteIfExists(pins.link(linkName));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        link.close();
        links.remove(Pins.pinName(linkName));
    }

    // ------------------------------------------------------------------ ending

    /**
     * Detaches everything, removes every pin and the context's directory, closes the handles. Carries on past
     * failures and reports them all at the end (the first as the exception, the others suppressed).
     *
     * <p>Connections already on a TCP fast path (sockets in a sockmap/sockhash) are not taken off it: each
     * socket holds the verdict program it was added with, which keeps running for that connection until it
     * closes; the kernel frees the program and the map when the last such connection closes. Taking them off
     * ({@link BpfMap#clear()}) would be worse on the kernels we know (6.18): a connection some of whose
     * requests the kernel answered has a receive sequence the normal stack no longer accepts ("TCP recvmsg
     * seq # bug"), and its reads hang. Programs that support it should be told to pass everything first (a
     * drain switch in a map) so those connections get plain service.
     *
     * @return what was left running: the sockets still on a fast path, per map
     */
    public UnloadReport unload() {
        ensureOpen();
        List<RuntimeException> failures = new ArrayList<>();
        // Attachments first (cgroup sock_ops, XDP, sockmap verdicts): nothing new reaches our programs.
        for (BpfLink link : links.values()) {
            try {
                if (!link.info().isDetached()) {
                    link.detach();
                }
            } catch (RuntimeException ex) {
                failures.add(ex);
            }
        }
        // Connections already on a TCP fast path keep it until they close (see above): count them.
        Map<String, Integer> lingering = new LinkedHashMap<>();
        for (var e : maps.entrySet()) {
            MapType t = e.getValue().type();
            if (t == MapType.SOCKHASH || t == MapType.SOCKMAP) {
                try {
                    int n = t == MapType.SOCKHASH ? e.getValue().keys().size() : countSockmap(e.getValue());
                    if (n != 0) {
                        lingering.put(e.getKey(), n);
                    }
                } catch (RuntimeException ex) {
                    failures.add(ex);
                }
            }
        }
        // pins that exist but were never adopted (another agent's late additions) go too
        removeAll(pins.linksDir(), failures);
        removeAll(pins.programsDir(), failures);
        removeAll(pins.mapsDir(), failures);
        close();
        if (!pins.removeDirectories()) {
            failures.add(new IllegalStateException("could not remove " + pins.dir()));
        }
        if (!failures.isEmpty()) {
            RuntimeException first = failures.getFirst();
            failures.subList(1, failures.size()).forEach(first::addSuppressed);
            throw first;
        }
        return new UnloadReport(pins.context(), Map.copyOf(lingering));
    }

    /**
     * What {@link #unload()} left running.
     *
     * @param context the context's name
     * @param socketsOnFastPath per sockmap/sockhash, the connections that keep their verdict program until
     *                          they close (the map and program are freed by the kernel after the last one);
     *                          -1 for a sockmap whose occupancy the kernel does not report
     */
    public record UnloadReport(String context, Map<String, Integer> socketsOnFastPath) {
        /** True when nothing of the context is left in the kernel once the asynchronous frees complete. */
        public boolean isClean() {
            return socketsOnFastPath.isEmpty();
        }
    }

    /** Occupied slots of a sockmap, or -1 if the kernel will not say (it looks up sockets only with 8-byte values). */
    private static int countSockmap(BpfMap m) {
        int n = 0;
        for (int i = 0; i < m.maxEntries(); i++) {
            byte[] k = {(byte) i, (byte) (i >>> 8), (byte) (i >>> 16), (byte) (i >>> 24)};
            try {
                if (m.lookup(k).isPresent()) {
                    n++;
                }
            } catch (BpfException e) {
                return -1;
            }
        }
        return n;
    }

    private static void removeAll(Path dir, List<RuntimeException> failures) {
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (var s = Files.list(dir)) {
            for (Path p : s.toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    failures.add(new UncheckedIOException("cannot unpin " + p, e));
                }
            }
        } catch (IOException e) {
            failures.add(new UncheckedIOException("cannot list " + dir, e));
        }
    }

    /** Closes this process's handles; everything pinned stays loaded and attached. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        links.values().forEach(BpfLink::close);
        programs.values().forEach(BpfProgram::close);
        maps.values().forEach(BpfMap::close);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("context '" + pins.context() + "' is closed");
        }
    }

    @Override
    public String toString() {
        return "context '" + pins.context() + "' at " + pins.dir() + " (maps " + maps.keySet() + ", programs "
                + programs.keySet() + ", links " + links.keySet() + ")";
    }
}
