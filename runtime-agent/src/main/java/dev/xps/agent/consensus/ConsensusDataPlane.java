package dev.xps.agent.consensus;

import dev.xps.agent.PinnedContext;
import dev.xps.agent.PinnedMapMismatchException;
import dev.xps.agent.Pins;
import dev.xps.agent.bpf.AttachType;
import dev.xps.agent.bpf.BpfLink;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfObject;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.NetNs;
import dev.xps.agent.bpf.ObjectMap;
import dev.xps.agent.bpf.RingBuffer;
import dev.xps.agent.bpf.XdpMode;
import dev.xps.consensus.Group;
import dev.xps.consensus.LogEntry;
import dev.xps.consensus.Member;
import dev.xps.consensus.RecoverableService;
import dev.xps.consensus.RecoveryReport;
import dev.xps.consensus.ReplicatedService;
import dev.xps.consensus.wire.VrMessage;
import dev.xps.consensus.wire.Wire;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The host side of one consensus block's data plane (docs/consensus.md, "Where each piece runs"): loads the
 * block's programs from {@code <base>.consensus.bpf.o} as the manifest describes them, attaches XDP and tcx
 * ingress/egress to an interface, installs the configuration ({@link #updateReplica}), delivers committed
 * entries to a {@link ReplicatedService} in op order (the leader sends each reply from port P), re-sends
 * PREPARE and COMMIT from user space on a timer (XDP has none), reads the log back ({@link #getNicLog}) and
 * reports a host failure the data plane detected ({@link #onFailure}).
 *
 * <pre>{@code
 * try (ConsensusDataPlane dp = ConsensusDataPlane.load(manifest, null, ConsensusDataPlane.Options.defaults())) {
 *     dp.attach(ifindex);
 *     dp.updateReplica(group, me);
 *     dp.start(service, replySocketOnPortP, replicationSocket);
 *     ...
 * }
 * }</pre>
 *
 * <p>Threads, from {@link #start}: one consumes the ring buffer (commit numbers; failures, reported even while
 * the service hangs); one delivers (the service is called from this one thread, in op order); one runs the
 * retransmission timer. {@link #close()} stops them, detaches and unloads.
 *
 * <p><b>Pinned</b> ({@link Options#pinDir()} set; docs/consensus.md, "Pinned data planes"): every map, the block's
 * programs and the three links are pinned under that directory in the agent's layout ({@code maps/}, {@code progs/},
 * {@code links/}, as {@link Pins}). Then the data plane outlives its host process: {@link #close()} stops this
 * process's threads and closes its descriptors but leaves everything attached and pinned (replicas keep
 * acknowledging, the leader keeps ordering until its host-failure detector stops it); {@link #adopt} opens the pins
 * again in a new process, checked against the manifest, and {@link #resume} brings a fresh service up to date
 * through {@link #recoverService}; only {@link #unload()} (or {@link #unload(Path, Path, String)}) detaches and
 * removes everything.
 *
 * <p><b>Fenced</b>: the retransmission timer checks every interval that the links still attach the programs. When
 * one does not (someone else detached it, the interface went away), {@link #dataPlaneLost()} says why and the member
 * stops taking part, so that a leader without programs falls silent and its replicas elect another.
 */
public final class ConsensusDataPlane implements AutoCloseable {
    /** Ops read per batch by {@link #getNicLog} (one {@code bpf_map_lookup_batch} each). */
    static final int BATCH = 1024;
    /** At most this many PREPAREs per member per retransmission round (docs/consensus.md). */
    static final int RETRANSMIT_PER_MEMBER = 64;
    /** STATE_CHUNKs sent per STATE_REQUEST (docs/consensus.md, "State transfer"). */
    static final int CHUNKS_PER_REQUEST = 32;
    /** A state transfer silent for this many retransmit intervals is asked again from its first missing chunk... */
    static final int STALL_INTERVALS = 3;
    /** ... and after this many silent asks another member is asked. */
    static final int ASKS_PER_SOURCE = 5;
    /** A member that answers no retransmission round is retried after at most 2^5 = 32 intervals. */
    static final int MAX_BACKOFF_SHIFT = 5;
    /** LOG_COPY entries sent per LOG_REQUEST (view change). */
    static final int COPIES_PER_REQUEST = 64;

    /** A snapshot of the service after entries {@code 1 .. op} ({@link #checkpoint()}). */
    public record Checkpoint(long op, byte[] state) {
        public Checkpoint {
            if (op < 0) {
                throw new IllegalArgumentException("op must be >= 0, got " + op);
            }
            state = state.clone();
        }

        @Override
        public byte[] state() {
            return state.clone();
        }
    }

    /**
     * A host failure the data plane detected (leader): entry {@code op}, committed (announced to the host) at
     * {@code committedNanos}, still had no reply at {@code detectedNanos} (both {@code CLOCK_MONOTONIC}, as
     * {@link System#nanoTime()} on Linux); {@code rttNanos} is the EWMA then, {@code limitNanos} =
     * max(failure_threshold x rtt, floor) the rule compared the age with.
     */
    public record HostFailure(long op, long detectedNanos, long committedNanos, long rttNanos, long limitNanos) {
        /** How long the entry had waited for its reply when the data plane declared the failure. */
        public long ageNanos() {
            return detectedNanos - committedNanos;
        }
    }

    /**
     * Settings.
     *
     * @param logSlots           the log map's max_entries at load time (0: the block's capacity); the programs
     *                           index the log by {@code op mod} the capacity the agent configures, which is this
     * @param retransmitInterval the retransmission timer's period
     * @param backlogThreshold   the data plane asks for retransmission at once past this backlog (0: never)
     * @param failureFloor       the host is failed only when its oldest reply is also this late
     * @param xdpMode            how the XDP program is attached
     * @param leaderTimeout      a replica that has received no PREPARE or COMMIT from its leader for this long
     *                           starts a view change by itself (and a view change that has not completed in this
     *                           long moves on to the next view); zero: only {@link #startViewChange()} starts one
     * @param pinDir             null: the data plane lives and dies with this object; else a directory on a BPF
     *                           filesystem ({@code <root>/<name>}, the agent's {@link Pins} layout) where the maps,
     *                           programs and links are pinned, so that the data plane survives its host process
     */
    public record Options(long logSlots, Duration retransmitInterval, int backlogThreshold, Duration failureFloor,
                          XdpMode xdpMode, Duration leaderTimeout, Path pinDir) {
        public Options {
            Objects.requireNonNull(retransmitInterval);
            Objects.requireNonNull(failureFloor);
            Objects.requireNonNull(xdpMode);
            Objects.requireNonNull(leaderTimeout);
            if (leaderTimeout.isNegative()) {
                throw new IllegalArgumentException("the leader timeout must be >= 0");
            }
            if (logSlots < 0 || logSlots > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("log slots must be 0 .. 2^31-1, got " + logSlots);
            }
            if (retransmitInterval.toMillis() < 1) {
                throw new IllegalArgumentException("the retransmission interval must be >= 1 ms");
            }
        }

        public Options(long logSlots, Duration retransmitInterval, int backlogThreshold, Duration failureFloor,
                       XdpMode xdpMode, Duration leaderTimeout) {
            this(logSlots, retransmitInterval, backlogThreshold, failureFloor, xdpMode, leaderTimeout, null);
        }

        public Options(long logSlots, Duration retransmitInterval, int backlogThreshold, Duration failureFloor,
                       XdpMode xdpMode) {
            this(logSlots, retransmitInterval, backlogThreshold, failureFloor, xdpMode, Duration.ZERO);
        }

        public static Options defaults() {
            return new Options(0, Duration.ofMillis(10), 256, Duration.ofMillis(50), XdpMode.AUTO, Duration.ZERO);
        }

        /** Pins the data plane under {@code dir} (null: not pinned); see {@link ConsensusDataPlane#adopt}. */
        public Options withPinDir(Path dir) {
            return new Options(logSlots, retransmitInterval, backlogThreshold, failureFloor, xdpMode, leaderTimeout,
                    dir);
        }

        public Options withLogSlots(long n) {
            return new Options(n, retransmitInterval, backlogThreshold, failureFloor, xdpMode, leaderTimeout, pinDir);
        }

        public Options withXdpMode(XdpMode m) {
            return new Options(logSlots, retransmitInterval, backlogThreshold, failureFloor, m, leaderTimeout, pinDir);
        }

        public Options withFailureFloor(Duration d) {
            return new Options(logSlots, retransmitInterval, backlogThreshold, d, xdpMode, leaderTimeout, pinDir);
        }

        public Options withRetransmitInterval(Duration d) {
            return new Options(logSlots, d, backlogThreshold, failureFloor, xdpMode, leaderTimeout, pinDir);
        }

        /** Automatic view change after this much leader silence (zero: off). */
        public Options withLeaderTimeout(Duration d) {
            return new Options(logSlots, retransmitInterval, backlogThreshold, failureFloor, xdpMode, d, pinDir);
        }
    }

    /** The data plane's protocol numbers ({@code <block>_state}). */
    public record Status(long lastOp, long commit, long contiguous, long answered, long rttNanos, boolean stopped,
                         long[] acked) {
        public Status {
            acked = acked.clone();
        }

        @Override
        public long[] acked() {
            return acked.clone();
        }

        @Override
        public String toString() {
            return "Status[lastOp=" + lastOp + ", commit=" + commit + ", contiguous=" + contiguous + ", answered="
                    + answered + ", rtt=" + rttNanos + "ns, stopped=" + stopped + ", acked=" + Arrays.toString(acked)
                    + "]";
        }
    }

    private final ConsensusManifest.Block block;
    private final Options options;
    /** What owns the loaded objects: the {@link BpfObject} (not pinned) or the {@link PinnedContext} (pinned). */
    private final AutoCloseable owner;
    /** The pins (null: not pinned). */
    private final PinnedContext pinned;
    /** True when {@link #adopt} opened this data plane from pins another process (or object) left running. */
    private final boolean adopted;
    private final BpfMap config;
    private final BpfMap state;
    private final BpfMap log;
    private final BpfMap counters;
    private final BpfMap eventsMap;
    private final BpfMap next;
    private final BpfProgram ingress;
    private final BpfProgram xdp;
    private final BpfProgram egress;
    private final long capacity;
    private final List<BpfLink> links = new ArrayList<>();
    private final AtomicLong target = new AtomicLong();
    private final AtomicLong rejoins = new AtomicLong();
    private final List<LongConsumer> failureListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<HostFailure>> hostFailureListeners = new CopyOnWriteArrayList<>();
    /** Guards {@link #applied}, {@link #generation} and the replies: an abandoned service's result is dropped. */
    private final Object deliveryLock = new Object();
    private final Object recoveryLock = new Object();
    private final AtomicLong lastReplied = new AtomicLong();
    private final ConcurrentLinkedQueue<CompletableFuture<Checkpoint>> snapshotRequests = new ConcurrentLinkedQueue<>();
    private final Map<Integer, Served> served = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<VrMessage.StateChunk> inbox = new LinkedBlockingQueue<>();
    /** Bumped by every recovery: a delivery thread of an older generation stops and its results are dropped. */
    private volatile int generation;
    private volatile boolean recovering;
    private volatile HostFailure lastFailure;
    private final AtomicLong stateChunksSent = new AtomicLong();
    private final AtomicLong stateRequestsAnswered = new AtomicLong();
    private final AtomicLong badStateMessages = new AtomicLong();
    private final ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();
    private volatile int ifindex;
    private volatile Group group;
    private volatile int me = -1;
    private volatile long applied;
    private volatile long failedAt = -1;
    private volatile boolean running;
    private volatile ReplicatedService service;
    private DatagramChannel replies;
    private DatagramChannel replication;
    private RingBuffer ring;
    private Thread deliverer;
    private Thread events;
    private Thread timer;
    private Thread stateThread;
    private volatile long retransmitted;
    private volatile boolean urgent;
    /** Retransmission backoff per member (timer thread only): see {@link #retransmit}. */
    private final int[] backoff = new int[Wire.MAX_MEMBERS];
    private final long[] retryAt = new long[Wire.MAX_MEMBERS];
    private final long[] ackedWhenSent = new long[Wire.MAX_MEMBERS];
    private final boolean[] sentBefore = new boolean[Wire.MAX_MEMBERS];
    private final boolean[] sendFailing = new boolean[Wire.MAX_MEMBERS];
    private final AtomicLong retransmitsDeferred = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    /** View change (host side, message-based): guards the transitions below. */
    private final Object viewLock = new Object();
    /** The view this member is changing to (-1: none); while set the programs are paused (configured = 0). */
    private volatile int pendingView = -1;
    /** Why this member's programs no longer run under it (null while they do): it then takes no part in the protocol. */
    private volatile String dataPlaneLost;
    /** Between {@link #rejoin}'s start and its snapshot's install: no part in view changes (VR's recovering status). */
    private volatile boolean rejoining;
    private volatile long viewChangeStartedNs;
    private final Map<Integer, VrMessage.DoViewChange> doViewChanges = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<VrMessage.LogCopy> logInbox = new LinkedBlockingQueue<>();
    private final List<Consumer<Group>> viewListeners = new CopyOnWriteArrayList<>();
    /** What this member installed as the leader of its view (resent in START_VIEW to a member that missed it). */
    private volatile long installedContiguous;
    /** The latest normal view of the log it adopted then (START_VIEW's log view). */
    private volatile int installedLogView;
    private volatile long installedCommit;
    private volatile long heardCount = -1;
    private volatile long heardAtNs;
    private final AtomicLong viewChangesInstalled = new AtomicLong();
    private final AtomicLong leaderSilences = new AtomicLong();
    private final AtomicLong entriesFetched = new AtomicLong();

    private ConsensusDataPlane(ConsensusManifest.Block block, Options options, AutoCloseable owner,
                               PinnedContext pinned, boolean adopted, java.util.function.Function<String, BpfMap> maps,
                               java.util.function.Function<String, BpfProgram> programs) {
        this.block = block;
        this.options = options;
        this.owner = owner;
        this.pinned = pinned;
        this.adopted = adopted;
        this.config = maps.apply(block.configMap());
        this.state = maps.apply(block.stateMap());
        this.log = maps.apply(block.logMap());
        this.counters = maps.apply(block.countersMap());
        this.eventsMap = maps.apply(block.eventsMap());
        this.next = maps.apply(block.nextMap());
        this.ingress = programs.apply(block.ingressProgram());
        this.xdp = programs.apply(block.xdpProgram());
        this.egress = programs.apply(block.egressProgram());
        this.capacity = log.maxEntries();
    }

    /** The names of the three links under {@code links/} of a pinned data plane (the manifest's attach points). */
    static final String XDP_LINK = "xdp";
    static final String INGRESS_LINK = "tcx_ingress";
    static final String EGRESS_LINK = "tcx_egress";

    /**
     * Loads the consensus object the manifest names ({@code <base>.manifest.json}'s consensus section) for
     * block {@code blockName} (null: the module's only block). Only that block's programs are loaded. With
     * {@link Options#pinDir()} every map and the block's programs are pinned there (and {@link #attach} pins the
     * links); a directory that already holds a data plane is refused: {@link #adopt} it, or {@link #unload} it.
     */
    public static ConsensusDataPlane load(Path manifest, String blockName, Options options) {
        ConsensusManifest m = ConsensusManifest.read(manifest);
        ConsensusManifest.Block block = m.block(blockName);
        if (options.pinDir() != null) {
            return loadPinned(m, block, options);
        }
        BpfObject object = BpfObject.open(m.object());
        try {
            for (var p : object.programs()) {
                String n = p.name();
                p.setAutoload(n.equals(block.ingressProgram()) || n.equals(block.xdpProgram())
                        || n.equals(block.egressProgram()));
            }
            if (options.logSlots() > 0) {
                ObjectMap logMap = object.map(block.logMap());
                logMap.setMaxEntries((int) options.logSlots());
            }
            object.load();
            return new ConsensusDataPlane(block, options, object, null, false, n -> object.map(n).handle(),
                    n -> object.program(n).handle());
        } catch (RuntimeException e) {
            object.close();
            throw e;
        }
    }

    /** The agent's {@link Pins} for a pin directory {@code <root>/<name>}. */
    static Pins pins(Path pinDir) {
        Path abs = pinDir.toAbsolutePath().normalize();
        if (abs.getParent() == null || abs.getFileName() == null) {
            throw new IllegalArgumentException("the pin directory must be <root>/<name> on a BPF filesystem, got "
                    + pinDir);
        }
        try {
            return Pins.of(abs.getParent(), abs.getFileName().toString());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("pin directory " + pinDir + ": " + e.getMessage(), e);
        }
    }

    private static ConsensusDataPlane loadPinned(ConsensusManifest m, ConsensusManifest.Block block, Options options) {
        Pins pins = pins(options.pinDir());
        if (pins.exists()) {
            throw new IllegalStateException("a data plane is already pinned at " + pins.dir() + " (maps "
                    + pins.mapNames() + ", links " + pins.linkNames() + "): adopt it (ConsensusDataPlane.adopt, xps"
                    + " consensus-node --pin) or unload it first (xps consensus-node ARTIFACT --pin DIR --unload)");
        }
        PinnedContext ctx = PinnedContext.load(pins, m.object(), obj -> {
            if (options.logSlots() > 0) {
                obj.map(block.logMap()).setMaxEntries((int) options.logSlots());
            }
        }, Map.of(), Set.of(block.ingressProgram(), block.xdpProgram(), block.egressProgram()));
        try {
            return new ConsensusDataPlane(block, options, ctx, ctx, false, ctx::map, ctx::program);
        } catch (RuntimeException e) {
            ctx.unload(); // a fresh load that cannot be used leaves nothing behind
            throw e;
        }
    }

    /**
     * Opens a data plane pinned at {@link Options#pinDir()} by an earlier process (or an earlier object of this one)
     * that {@link #close() closed} it leaving it running: its maps with their data, its programs and its links,
     * attached as they were. Everything is checked against the manifest first: every map the object declares must be
     * pinned with the declared type, key size, value size and capacity (the log's capacity is
     * {@link Options#logSlots()} when set, else whatever it was loaded with), the block's three programs must be
     * pinned, and either all three links or none (not attached). A mismatch is refused
     * ({@link PinnedMapMismatchException}, {@link IllegalStateException}) and nothing is changed.
     *
     * <p>The group, this member's index and view come from the pinned configuration; {@link #lastReplied()} starts at
     * the data plane's {@code answered} (what the previous host's replies were counted up to, so nothing is answered
     * twice); events the ring buffer still held are consumed here (commit numbers, and a host failure the data plane
     * detected while no host was there: {@link #lastHostFailure()}, without calling listeners). Then {@link #resume}
     * (or {@link #start} and {@link #recoverService}) brings a fresh service up to date.
     *
     * @throws java.util.NoSuchElementException if nothing is pinned there
     */
    public static ConsensusDataPlane adopt(Path manifest, String blockName, Options options) {
        if (options.pinDir() == null) {
            throw new IllegalArgumentException("adopt needs Options.pinDir");
        }
        ConsensusManifest m = ConsensusManifest.read(manifest);
        ConsensusManifest.Block block = m.block(blockName);
        Pins pins = pins(options.pinDir());
        if (!pins.exists()) {
            throw new java.util.NoSuchElementException("no consensus data plane is pinned at " + pins.dir());
        }
        checkPins(m, block, options, pins);
        PinnedContext ctx = PinnedContext.adopt(pins);
        ConsensusDataPlane dp = null;
        try {
            dp = new ConsensusDataPlane(block, options, ctx, ctx, true, ctx::map, ctx::program);
            dp.adoptLinks();
            dp.adoptConfiguration();
            return dp;
        } catch (RuntimeException e) {
            if (dp != null) {
                dp.links.forEach(BpfLink::close);
            }
            ctx.close(); // closes descriptors only: the pinned data plane keeps running
            throw e;
        }
    }

    /** {@link #adopt} when something is pinned at {@link Options#pinDir()}, else {@link #load}. */
    public static ConsensusDataPlane loadOrAdopt(Path manifest, String blockName, Options options) {
        if (options.pinDir() != null && pins(options.pinDir()).exists()) {
            return adopt(manifest, blockName, options);
        }
        return load(manifest, blockName, options);
    }

    /**
     * Detaches and removes the data plane pinned at {@code pinDir} without adopting it (its maps need not match
     * the manifest: a data plane an older build left is removed too). The directory must hold the pins of block
     * {@code blockName} of {@code manifest} (its maps by name), so that an unrelated directory is never emptied.
     *
     * @return false when nothing was pinned there
     */
    public static boolean unload(Path pinDir, Path manifest, String blockName) {
        ConsensusManifest.Block block = ConsensusManifest.read(manifest).block(blockName);
        Pins pins = pins(pinDir);
        if (!pins.exists()) {
            return false;
        }
        List<String> maps = pins.mapNames();
        for (String n : List.of(block.configMap(), block.stateMap(), block.logMap())) {
            if (!maps.contains(Pins.pinName(n))) {
                throw new IllegalStateException(pins.dir() + " does not hold block '" + block.name() + "''s data"
                        + " plane (no map " + Pins.pinName(n) + "; it has " + maps + "): not removed");
            }
        }
        PinnedContext.adopt(pins).unload();
        return true;
    }

    /** The pinned maps and programs against what the object and the manifest declare (nothing is changed). */
    private static void checkPins(ConsensusManifest m, ConsensusManifest.Block block, Options options, Pins pins) {
        Set<String> mapPins = Set.copyOf(pins.mapNames());
        try (BpfObject declared = BpfObject.open(m.object())) {
            for (ObjectMap om : declared.maps()) {
                String name = Pins.pinName(om.name());
                Path pin = pins.map(om.name());
                if (!mapPins.contains(name)) {
                    if (om.isInternal()) {
                        continue;
                    }
                    throw new IllegalStateException("the data plane pinned at " + pins.dir() + " has no map '" + name
                            + "' that " + m.object().getFileName() + " declares (maps pinned: " + mapPins
                            + "): not the same build; unload it first (this drops its log)");
                }
                try (BpfMap p = BpfMap.fromPin(pin)) {
                    long entries = om.maxEntries();
                    if (om.name().equals(block.logMap())) {
                        entries = options.logSlots() > 0 ? options.logSlots() : p.maxEntries();
                    }
                    String pinnedShape = shape(p.type().name(), p.keySize(), p.valueSize(), p.maxEntries());
                    String declaredShape = shape(om.type().name(), om.keySize(), om.valueSize(), entries);
                    if (!pinnedShape.equals(declaredShape)) {
                        throw new PinnedMapMismatchException(om.name(), pinnedShape, declaredShape, pin.toString());
                    }
                }
            }
        }
        // the manifest's value layouts (what this library reads and writes) against the pins
        checkValueSize(pins, block.configMap(), block.configSize());
        checkValueSize(pins, block.stateMap(), block.stateSize());
        checkValueSize(pins, block.logMap(), block.slotSize());
        List<String> progs = pins.programNames();
        for (String p : List.of(block.ingressProgram(), block.xdpProgram(), block.egressProgram())) {
            if (!progs.contains(Pins.pinName(p))) {
                throw new IllegalStateException("the data plane pinned at " + pins.dir() + " has no program '" + p
                        + "' (programs pinned: " + progs + "): not block '" + block.name() + "'; unload it first");
            }
        }
        List<String> links = pins.linkNames();
        if (!links.isEmpty() && !Set.copyOf(links).equals(Set.of(XDP_LINK, INGRESS_LINK, EGRESS_LINK))) {
            throw new IllegalStateException("the data plane pinned at " + pins.dir() + " has links " + links
                    + ", expected none or " + List.of(XDP_LINK, INGRESS_LINK, EGRESS_LINK) + "; unload it first");
        }
    }

    private static void checkValueSize(Pins pins, String map, int size) {
        try (BpfMap p = BpfMap.fromPin(pins.map(map))) {
            if (p.valueSize() != size) {
                throw new PinnedMapMismatchException(map, "a map with " + p.valueSize() + "-byte values",
                        "the manifest's " + size + "-byte layout", pins.map(map).toString());
            }
        }
    }

    private static String shape(String type, int keySize, int valueSize, long maxEntries) {
        return type.toLowerCase(java.util.Locale.ROOT) + " (key " + keySize + " bytes, value " + valueSize
                + " bytes, " + maxEntries + " entries)";
    }

    /** Adopt: the pinned links, if any; each must still be attached (its interface still exists). */
    private void adoptLinks() {
        if (pinned.links().isEmpty()) {
            return;
        }
        // descriptors of our own (the PinnedContext keeps its own: its unload() still reads them after detach())
        BpfLink x = BpfLink.fromPin(pinned.pins().link(XDP_LINK));
        BpfLink in = BpfLink.fromPin(pinned.pins().link(INGRESS_LINK));
        BpfLink out = BpfLink.fromPin(pinned.pins().link(EGRESS_LINK));
        links.add(x);
        links.add(in);
        links.add(out); // closed with the data plane whatever happens below
        int at = -1;
        for (BpfLink l : List.of(x, in, out)) {
            var info = l.info();
            if (info.isDetached()) {
                throw new IllegalStateException("the pinned link " + l + " of " + pinned.pins().dir() + " is no"
                        + " longer attached (its interface is gone): unload the data plane and load it again");
            }
            if (at >= 0 && info.ifindex() != at) {
                throw new IllegalStateException("the pinned links of " + pinned.pins().dir() + " are attached to"
                        + " different interfaces");
            }
            at = info.ifindex();
        }
        if (x.info().programId() != xdp.id() || in.info().programId() != ingress.id()
                || out.info().programId() != egress.id()) {
            throw new IllegalStateException("the pinned links of " + pinned.pins().dir() + " do not run the pinned"
                    + " programs: unload the data plane and load it again");
        }
        this.ifindex = at;
    }

    /** Adopt: the group, this member and the numbers from the pinned config and state; old ring events consumed. */
    private void adoptConfiguration() {
        ByteBuffer c = ByteBuffer.wrap(config.lookup(key(0)).orElseThrow()).order(ByteOrder.LITTLE_ENDIAN);
        int n = c.getInt(block.config("n").offset());
        if (n >= 1) {
            int view = c.getInt(block.config("view").offset());
            int myIndex = c.getInt(block.config("me").offset());
            List<Member> ms = new ArrayList<>();
            int members = block.config("members").offset();
            for (int i = 0; i < n; i++) {
                int at = members + i * block.memberBytes();
                byte[] ip = new byte[4];
                c.get(at + block.member("ip").offset(), ip);
                byte[] mac = new byte[6];
                c.get(at + block.member("mac").offset(), mac);
                try {
                    ms.add(new Member(i, (Inet4Address) InetAddress.getByAddress(ip), mac));
                } catch (UnknownHostException e) {
                    throw new AssertionError(e);
                }
            }
            this.group = new Group(view, ms, block.port());
            this.me = myIndex;
            if (c.getInt(block.config("configured").offset()) == 0) {
                System.err.println("consensus " + block.name() + ": the adopted data plane is paused (a view change"
                        + " was under way when its host went): updateReplica, or the leader timeout, resumes it");
            }
        }
        Status s = status();
        lastReplied.set(s.answered()); // the previous host's replies, as the data plane counted them
        target.accumulateAndGet(s.commit(), Math::max);
        try (RingBuffer r = RingBuffer.open(eventsMap, this::onEvent)) {
            for (int i = 0; i < 64 && r.consume() > 0; i++) {
                // events of the time without a host: commits (target) and a failure (lastHostFailure)
            }
        }
    }

    /** Whether this data plane is pinned (it survives {@link #close()}). */
    public boolean pinned() {
        return pinned != null;
    }

    /** The pin directory, or null. */
    public Path pinDir() {
        return pinned == null ? null : pinned.pins().dir();
    }

    /** True when this object re-adopted pins left running ({@link #adopt}). */
    public boolean adopted() {
        return adopted;
    }

    /** The interface the links are attached to (0: not attached). */
    public int ifindex() {
        return ifindex;
    }

    public ConsensusManifest.Block block() {
        return block;
    }

    /** The log's slots (the loaded map's max_entries). */
    public long capacity() {
        return capacity;
    }

    // ------------------------------------------------------------------ attach

    /**
     * Attaches XDP (every member) and tcx ingress and egress (they act only on the leader) to the interface. A pinned
     * data plane pins each link ({@code links/xdp}, {@code links/tcx_ingress}, {@code links/tcx_egress}) right after
     * creating it: a crash in between leaves no attachment (an unpinned link dies with its last descriptor).
     */
    public synchronized void attach(int ifindex) {
        if (!links.isEmpty()) {
            throw new IllegalStateException("already attached to ifindex " + this.ifindex);
        }
        try {
            links.add(pinLink(XDP_LINK, xdp.attachXdp(ifindex, options.xdpMode())));
            links.add(pinLink(INGRESS_LINK, ingress.attachTcx(ifindex, AttachType.TCX_INGRESS)));
            links.add(pinLink(EGRESS_LINK, egress.attachTcx(ifindex, AttachType.TCX_EGRESS)));
        } catch (RuntimeException e) {
            detach();
            throw e;
        }
        this.ifindex = ifindex;
        if (group != null) {
            writeConfig(group, me, pendingView < 0); // the leader's PREPAREs leave by this interface
        }
    }

    private BpfLink pinLink(String name, BpfLink link) {
        if (pinned != null) {
            try {
                link.pin(pinned.pins().link(name));
            } catch (RuntimeException e) {
                link.close(); // not pinned: closing it detaches it
                throw e;
            }
        }
        return link;
    }

    /** {@link #attach(int)} to interface {@code ifname} of network namespace {@code netns}. */
    public void attach(String netns, String ifname) {
        NetNs.call(netns, () -> {
            attach(dev.xps.agent.bpf.Preflight.ifindex(ifname, "network namespace " + netns));
            return null;
        });
    }

    /**
     * Makes the block's XDP program hand every packet that is not replication to {@code handlers} (by tail
     * call): the module's handler entry program for the same interface, which has one XDP hook. Null: such
     * packets pass to the stack again.
     */
    public void chainXdp(BpfProgram handlers) {
        if (handlers == null) {
            next.clearProgram(0);
        } else {
            next.setProgram(0, handlers);
        }
    }

    /** The links: XDP, tcx ingress, tcx egress (empty when detached). */
    public synchronized List<BpfLink> links() {
        return List.copyOf(links);
    }

    /** Detaches the programs (closes the links; a pinned data plane's link pins are removed). */
    public synchronized void detach() {
        for (BpfLink l : links) {
            try {
                l.detach();
            } catch (RuntimeException e) {
                // already gone with its interface
            }
            l.close();
        }
        links.clear();
        ifindex = 0;
        if (pinned != null) {
            for (String n : List.of(XDP_LINK, INGRESS_LINK, EGRESS_LINK)) {
                try {
                    Files.deleteIfExists(pinned.pins().link(n));
                } catch (IOException e) {
                    System.err.println("consensus " + block.name() + ": cannot remove the link pin " + n + ": " + e);
                }
            }
        }
    }

    // ------------------------------------------------------------------ configuration

    /**
     * Installs the group and this member's index ({@code <block>_config}). On a new view the protocol numbers
     * are carried over: a new leader numbers from its contiguous prefix; acknowledgements start again.
     */
    public synchronized void updateReplica(Group group, int myIndex) {
        if (group.port() != block.port()) {
            throw new IllegalArgumentException("the group's port " + group.port() + " is not block '" + block.name()
                    + "''s port " + block.port());
        }
        if (group.size() > block.replicas()) {
            throw new IllegalArgumentException("block '" + block.name() + "' was compiled for at most "
                    + block.replicas() + " members, the group has " + group.size());
        }
        if (myIndex < 0 || myIndex >= group.size()) {
            throw new IllegalArgumentException("member index " + myIndex + " is not in the group of " + group.size());
        }
        Group old = this.group;
        if (old != null && old.view() != group.view()) {
            Status s = status();
            long from = Math.max(s.lastOp(), s.contiguous());
            ByteBuffer v = ByteBuffer.wrap(state.lookup(key(0)).orElseThrow()).order(ByteOrder.LITTLE_ENDIAN);
            v.putLong(block.state("lastOp").offset(), from);
            v.putLong(block.state("contiguous").offset(), from);
            v.putLong(block.state("answered").offset(), s.commit());
            v.putInt(block.state("stopped").offset(), 0);
            ConsensusManifest.Field acked = block.state("acked");
            for (int i = 0; i < acked.size(); i++) {
                v.put(acked.offset() + i, (byte) 0);
            }
            state.put(key(0), v.array());
        }
        writeConfig(group, myIndex);
        this.group = group;
        this.me = myIndex;
    }

    private void writeConfig(Group group, int myIndex) {
        writeConfig(group, myIndex, true);
    }

    /** With {@code configured} false the programs take no part (XDP drops types 1-3, TC passes everything). */
    private void writeConfig(Group group, int myIndex, boolean configured) {
        ByteBuffer c = ByteBuffer.allocate(block.configSize()).order(ByteOrder.LITTLE_ENDIAN);
        c.putInt(block.config("configured").offset(), configured ? 1 : 0);
        c.putInt(block.config("view").offset(), group.view());
        c.putInt(block.config("me").offset(), myIndex);
        c.putInt(block.config("n").offset(), group.size());
        c.putInt(block.config("leader").offset(), group.leader());
        c.putInt(block.config("ifindex").offset(), ifindex);
        c.putLong(block.config("capacity").offset(), capacity);
        c.putInt(block.config("quorumOthers").offset(), group.quorumOthers());
        c.putInt(block.config("backlogThreshold").offset(), options.backlogThreshold());
        c.putLong(block.config("failureFloorNs").offset(), options.failureFloor().toNanos());
        int members = block.config("members").offset();
        for (Member m : group.members()) {
            int at = members + m.index() * block.memberBytes();
            c.put(at + block.member("ip").offset(), m.address().getAddress());
            c.put(at + block.member("mac").offset(), m.mac());
        }
        config.put(key(0), c.array());
    }

    public Group group() {
        return group;
    }

    /** This member's index in {@link #group()} (-1 before {@link #updateReplica}). */
    public int myIndex() {
        return me;
    }

    public boolean isLeader() {
        Group g = group;
        return g != null && g.leader() == me;
    }

    // ------------------------------------------------------------------ delivery and retransmission

    /**
     * Starts delivering committed entries to {@code service} (from op {@code applied() + 1}) and the
     * retransmission timer. The leader sends each reply with {@code replySocket} (bound to the block's port P);
     * {@code replicationSocket} sends retransmitted PREPAREs and COMMITs to the members' port P + 1.
     */
    public synchronized void start(ReplicatedService service, DatagramChannel replySocket,
                                   DatagramChannel replicationSocket) {
        start(service, replySocket, replicationSocket, true);
    }

    /**
     * Starts an {@link #adopt adopted} data plane with a fresh service: the threads as {@link #start} does (no
     * delivery yet), then {@link #recoverService}{@code (fresh, checkpointOp, limit)}: the committed entries after
     * the checkpoint come from the pinned log, what it no longer holds from another member by state transfer; the
     * leader answers only above the last op the previous host's replies reached ({@link #lastReplied()}), clears
     * the stopped flag its data plane set while no host was there, and orders again. Delivery then continues with
     * {@code fresh}. {@code fresh} holds the checkpoint at {@code checkpointOp} (0: an empty service).
     */
    public RecoveryReport resume(RecoverableService fresh, long checkpointOp, DatagramChannel replySocket,
                                 DatagramChannel replicationSocket, Duration limit) {
        start(fresh, replySocket, replicationSocket, false);
        return recoverService(fresh, checkpointOp, limit);
    }

    /**
     * Starts a replica whose data plane is new — its log empty — in a group that has moved on: a member whose machine
     * (or unpinned data plane) was lost and comes back (docs/consensus.md, "A member that lost its log"). Paused
     * (configured = 0), it takes a snapshot of the service from another member (the leader first) by state transfer,
     * restores {@code fresh} from it, sets its numbers to the snapshot's op S ({@code contiguous = commit = S}),
     * resumes, and tells the leader with REJOIN(S), so the leader stops counting the acknowledgements of its previous
     * life above S and resends from S + 1 (without it a member that acknowledged more than the leader had applied
     * when it died would wait forever for entries the leader believes it has). Use {@link #start} on a fresh group and
     * {@link #resume} over a pinned data plane; this is for neither.
     */
    public RecoveryReport rejoin(RecoverableService fresh, DatagramChannel replySocket,
                                 DatagramChannel replicationSocket, Duration limit) {
        Objects.requireNonNull(fresh, "fresh");
        Group g = group;
        if (g == null) {
            throw new IllegalStateException("updateReplica first");
        }
        if (g.leader() == me) {
            throw new IllegalStateException("member " + me + " leads view " + g.view() + ": a leader cannot rejoin"
                    + " (a lost leader is replaced by a view change)");
        }
        long deadline = System.nanoTime() + limit.toNanos();
        rejoining = true;
        writeConfig(g, me, false); // XDP drops PREPARE and COMMIT until the state is here
        start(fresh, replySocket, replicationSocket, false);
        if (stateThread == null) {
            throw new IllegalStateException("rejoining needs the replication socket bound to port "
                    + block.replicationPort() + " (state transfer arrives there)");
        }
        int gen;
        synchronized (deliveryLock) {
            gen = ++generation;
            recovering = true;
        }
        Transfer t = stateTransfer(0, 0, deadline);
        fresh.restore(t.state());
        long s = t.op();
        ConsensusManifest.Field ackedField = block.state("acked");
        changeState(st -> {
            st.putLong(block.state("lastOp").offset(), s);
            st.putLong(block.state("contiguous").offset(), s);
            st.putLong(block.state("commit").offset(), s);
            st.putLong(block.state("answered").offset(), s);
            for (int i = 0; i < ackedField.size(); i++) {
                st.put(ackedField.offset() + i, (byte) 0);
            }
        });
        synchronized (deliveryLock) {
            applied = s;
            service = fresh;
            recovering = false;
        }
        target.accumulateAndGet(s, Math::max);
        writeConfig(g, me, true);
        heardCount = -1; // the leader's silence clock starts now
        rejoining = false;
        byte[] rejoin = Wire.encode(new VrMessage.Rejoin(g.view(), me, s));
        long intervalNs = options.retransmitInterval().toNanos();
        for (int i = 0; i < 3; i++) { // UDP: said a few times; the leader acts once (it ignores it when nothing is lower)
            send(rejoin, g.members().get(g.leader()));
            LockSupport.parkNanos(intervalNs);
        }
        startDeliverer(gen, fresh);
        return new RecoveryReport(0, s, t.source(), 0, s);
    }

    private synchronized void start(ReplicatedService service, DatagramChannel replySocket,
                                    DatagramChannel replicationSocket, boolean deliver) {
        if (running) {
            throw new IllegalStateException("already started");
        }
        if (group == null) {
            throw new IllegalStateException("updateReplica first");
        }
        this.service = Objects.requireNonNull(service);
        this.replies = replySocket;
        this.replication = Objects.requireNonNull(replicationSocket);
        this.ring = RingBuffer.open(eventsMap, this::onEvent);
        lastReplied.accumulateAndGet(applied, Math::max);
        running = true;
        if (deliver) {
            startDeliverer(generation, service);
        }
        events = Thread.ofPlatform().daemon().name("xps-vr-events-" + block.name()).start(this::eventLoop);
        timer = Thread.ofPlatform().daemon().name("xps-vr-timer-" + block.name()).start(this::timerLoop);
        if (boundToReplicationPort(replicationSocket)) {
            stateThread = Thread.ofPlatform().daemon().name("xps-vr-state-" + block.name()).start(this::stateLoop);
        }
    }

    private void startDeliverer(int gen, ReplicatedService svc) {
        deliverer = Thread.ofPlatform().daemon().name("xps-vr-deliver-" + block.name() + "-" + gen)
                .start(() -> deliverLoop(gen, svc));
    }

    /** State transfer (types 4 and 5) reaches the host on P + 1: only a socket bound there receives it. */
    private boolean boundToReplicationPort(DatagramChannel c) {
        try {
            return c.getLocalAddress() instanceof InetSocketAddress a && a.getPort() == block.replicationPort();
        } catch (IOException e) {
            return false;
        }
    }

    /** Entries delivered to the service so far: 1 .. applied. */
    public long applied() {
        return applied;
    }

    /** Sets where delivery resumes (a service restored from a checkpoint of op {@code op}); before start. */
    public synchronized void setApplied(long op) {
        if (running) {
            throw new IllegalStateException("set the applied op before start");
        }
        applied = op;
        target.accumulateAndGet(op, Math::max);
    }

    /** Called with every host failure the data plane detects (on the ring-buffer thread: return quickly). */
    public void onHostFailure(Consumer<HostFailure> listener) {
        hostFailureListeners.add(listener);
    }

    /** The last host failure reported since start (cleared by neither recovery nor {@link #clearStopped}). */
    public Optional<HostFailure> lastHostFailure() {
        return Optional.ofNullable(lastFailure);
    }

    /** The largest op the leader has sent a reply for (a restarted service answers only above it). */
    public long lastReplied() {
        return lastReplied.get();
    }

    /** State transfer served to other members: STATE_REQUESTs answered with a snapshot, chunks sent. */
    public long stateRequestsAnswered() {
        return stateRequestsAnswered.get();
    }

    public long stateChunksSent() {
        return stateChunksSent.get();
    }

    /** Datagrams on P + 1 that reached the host library and were not a state-transfer message of this group. */
    public long badStateMessages() {
        return badStateMessages.get();
    }

    /** Called with the oldest unanswered op when the data plane detects a host failure and stops ordering. */
    public void onFailure(LongConsumer listener) {
        failureListeners.add(listener);
    }

    /** The op the last failure event named, or -1. */
    public long failureReported() {
        return failedAt;
    }

    /** PREPAREs re-sent from user space so far. */
    public long retransmitted() {
        return retransmitted;
    }

    private void onEvent(byte[] e) {
        ByteBuffer b = ByteBuffer.wrap(e).order(ByteOrder.LITTLE_ENDIAN);
        int kind = b.getInt(block.event("kind").offset());
        long value = b.getLong(block.event("value").offset());
        if (kind == block.kind("commit")) {
            target.accumulateAndGet(value, Math::max);
            Thread d = deliverer;
            if (d != null) {
                LockSupport.unpark(d);
            }
        } else if (kind == block.kind("failed")) {
            failedAt = value;
            HostFailure f = hostFailure(value, b.getLong(block.event("timeNs").offset()));
            lastFailure = f;
            for (Consumer<HostFailure> l : hostFailureListeners) {
                l.accept(f);
            }
            for (LongConsumer l : failureListeners) {
                l.accept(value);
            }
        } else if (kind == block.kind("backlog")) {
            urgent = true;
            Thread t = timer;
            if (t != null) {
                LockSupport.unpark(t);
            }
        }
    }

    /** Consumes the ring buffer: commits wake the deliverer; failures reach the listeners even while the
     * service hangs (that is what they report). */
    private void eventLoop() {
        while (running) {
            try {
                ring.poll(Duration.ofMillis(20));
            } catch (RuntimeException e) {
                if (running) {
                    System.err.println("consensus " + block.name() + ": event handling failed: " + e);
                    LockSupport.parkNanos(10_000_000L);
                }
            }
        }
    }

    /** The delivery thread of generation {@code gen} (service {@code svc}); it ends when a recovery replaces it. */
    private void deliverLoop(int gen, ReplicatedService svc) {
        while (running && gen == generation) {
            try {
                serveSnapshots(gen, svc);
                if (applied >= target.get()) {
                    LockSupport.parkNanos(5_000_000L);
                }
                deliver(gen, svc);
            } catch (RuntimeException e) {
                if (running) {
                    System.err.println("consensus " + block.name() + ": delivery failed: " + e);
                    LockSupport.parkNanos(10_000_000L);
                }
            }
        }
    }

    /** Delivers every committed entry not yet delivered, in op order; stops at one the log does not hold. */
    private void deliver(int gen, ReplicatedService svc) {
        long upTo = target.get();
        boolean leader = isLeader();
        for (int round = 0; round < 1024 && applied < upTo; round++) {
            long from = applied + 1;
            long to = Math.min(upTo, from + Math.min(BATCH, capacity) - 1); // never more than the log holds
            List<LogEntry> entries = getNicLog(from, to);
            long next = from;
            for (LogEntry e : entries) {
                if (e.op() != next) {
                    break;
                }
                if (!snapshotRequests.isEmpty()) {
                    serveSnapshots(gen, svc); // between two entries
                }
                if (!execute(gen, svc, e, leader)) {
                    return; // a recovery replaced this service while it executed: its result is dropped
                }
                next++;
            }
            if (next <= to) {
                return; // entry `next` is not in the log (yet): the timer tries again
            }
        }
    }

    /** Executes one entry; false (and nothing recorded or sent) when generation {@code gen} was abandoned. */
    private boolean execute(int gen, ReplicatedService svc, LogEntry e, boolean leader) {
        if (gen != generation) {
            return false;
        }
        InetSocketAddress client = new InetSocketAddress(ipv4(e.clientIpv4()), e.clientPort());
        byte[] reply = svc.execute(e.op(), client, e.request());
        synchronized (deliveryLock) {
            if (gen != generation) {
                return false;
            }
            applied = e.op();
            if (leader) {
                reply(e.op(), reply, client);
            }
        }
        return true;
    }

    /** Sends the reply to entry {@code op} unless one for it (or a later op) already left. */
    private void reply(long op, byte[] reply, InetSocketAddress client) {
        if (reply == null || replies == null || lastReplied.get() >= op) {
            return;
        }
        lastReplied.set(op);
        try {
            replies.send(ByteBuffer.wrap(reply), client);
        } catch (IOException ex) {
            System.err.println("consensus " + block.name() + ": reply to " + client + " failed: " + ex);
        }
    }

    /** Answers {@link #checkpoint()} requests on the delivery thread, between two entries. */
    private void serveSnapshots(int gen, ReplicatedService svc) {
        for (int i = 0; i < 64; i++) {
            CompletableFuture<Checkpoint> f = snapshotRequests.poll();
            if (f == null) {
                return;
            }
            if (!(svc instanceof RecoverableService r)) {
                f.completeExceptionally(new UnsupportedOperationException(
                        "the service is not a RecoverableService: it cannot take snapshots"));
                continue;
            }
            long op;
            synchronized (deliveryLock) {
                if (gen != generation) {
                    snapshotRequests.add(f); // the next generation's thread answers it
                    return;
                }
                op = applied;
            }
            try {
                f.complete(new Checkpoint(op, r.snapshot()));
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        }
    }

    /**
     * A snapshot of the service after the entries delivered so far ({@link Checkpoint#op()}), taken on the
     * delivery thread between two entries. It does not complete while the service hangs; it fails when the
     * service is not a {@link RecoverableService}.
     */
    public CompletableFuture<Checkpoint> checkpoint() {
        CompletableFuture<Checkpoint> f = new CompletableFuture<>();
        if (!running) {
            f.completeExceptionally(new IllegalStateException("not started"));
            return f;
        }
        snapshotRequests.add(f);
        Thread d = deliverer;
        if (d != null) {
            LockSupport.unpark(d);
        }
        return f;
    }

    private void timerLoop() {
        long intervalNs = options.retransmitInterval().toNanos();
        while (running) {
            LockSupport.parkNanos(intervalNs);
            if (!running) {
                return;
            }
            try {
                if (dataPlaneLost != null || !stillAttached()) {
                    continue; // fenced: no heartbeat, no retransmission, no view change
                }
                if (rejoining) {
                    continue; // its log is empty until the snapshot is installed: it must not report or elect
                }
                Status s = status();
                target.accumulateAndGet(s.commit(), Math::max); // a lost or full ring buffer delays, never loses
                if (pendingView >= 0) {
                    viewChangeTick(); // paused: no retransmission, no heartbeat in the old view
                    continue;
                }
                if (!isLeader()) {
                    watchLeader();
                    continue;
                }
                boolean now = urgent; // the backlog crossed the threshold: re-send regardless of age
                urgent = false;
                retransmit(s, now ? 0 : intervalNs);
                if (s.commit() > 0 || !options.leaderTimeout().isZero()) { // the replicas' leader-silence clock
                    Group g = group;
                    byte[] commit = Wire.encode(new VrMessage.Commit(g.view(), me, s.commit()));
                    for (Member m : g.members()) {
                        if (m.index() != me) {
                            send(commit, m);
                        }
                    }
                }
            } catch (RuntimeException e) {
                if (running) {
                    System.err.println("consensus " + block.name() + ": retransmission failed: " + e);
                }
            }
        }
    }

    /**
     * Whether the links this data plane attached still attach its programs (an operator's {@code bpftool link
     * detach}, an interface deleted). When one does not, the member is fenced: what is still attached is paused
     * (a leader's TC ingress would go on sending PREPAREs whose PREPAREOKs nobody counts), and it sends no
     * heartbeat, retransmits nothing and takes no part in view changes, so that the replicas of a leader without
     * programs hear silence and elect another instead of waiting on an agent that is alive but cannot order.
     */
    private boolean stillAttached() {
        List<BpfLink> attached;
        synchronized (this) {
            attached = List.copyOf(links);
        }
        for (BpfLink l : attached) {
            boolean gone;
            try {
                gone = l.info().isDetached();
            } catch (RuntimeException e) {
                gone = true; // the link itself is gone
            }
            synchronized (this) {
                if (!running || !links.contains(l)) {
                    return true; // detached or closed by this process, not lost
                }
            }
            if (gone) {
                dataPlaneLost = "link " + l.id() + " (" + linkName(attached.indexOf(l)) + ") no longer attaches"
                        + " its program";
                try {
                    writeConfig(group, me, false);
                } catch (RuntimeException e) {
                    // the maps may be gone too: nothing left to pause
                }
                System.err.println("consensus " + block.name() + ": member " + me + ": " + dataPlaneLost
                        + ": the member stops taking part (no heartbeat, no retransmission, no view change)"
                        + (isLeader() ? "; its replicas will elect another leader" : ""));
                return false;
            }
        }
        return true;
    }

    private static String linkName(int i) {
        return switch (i) {
            case 0 -> XDP_LINK;
            case 1 -> INGRESS_LINK;
            case 2 -> EGRESS_LINK;
            default -> "link " + i;
        };
    }

    /**
     * Why this member's programs stopped running under it — a link detached by someone else, its interface
     * deleted — or null while they run. Such a member is fenced: it pauses what is still attached and sends no
     * heartbeat, retransmits nothing and takes no part in view changes (docs/consensus.md, "View change").
     */
    public String dataPlaneLost() {
        return dataPlaneLost;
    }

    /** Re-sends PREPARE for entries above each member's acked (older than one interval), 64 per member. */
    private void retransmit(Status s, long intervalNs) {
        Group g = group;
        long now = System.nanoTime();
        long period = options.retransmitInterval().toNanos();
        long[] acked = s.acked();
        for (Member m : g.members()) {
            int r = m.index();
            if (r == me || acked[r] >= s.lastOp()) {
                backoff[r] = 0;
                retryAt[r] = 0;
                continue;
            }
            if (acked[r] > ackedWhenSent[r]) {
                backoff[r] = 0; // it acknowledged something since the last round: it is alive and catching up
                retryAt[r] = 0;
            }
            if (now < retryAt[r]) {
                retransmitsDeferred.incrementAndGet(); // backing off: this member answered none of the last rounds
                continue;
            }
            long from = acked[r] + 1;
            long to = Math.min(s.lastOp(), from + RETRANSMIT_PER_MEMBER - 1);
            if (s.lastOp() - from >= capacity) {
                continue; // beyond the log: the member needs state transfer
            }
            int sent = 0;
            for (LogEntry e : getNicLog(from, to)) {
                long logged = loggedAt(e.op());
                if (intervalNs > 0 && logged != 0 && now - logged < intervalNs) {
                    break; // in flight: its PREPARE left less than an interval ago
                }
                send(Wire.encode(new VrMessage.Prepare(g.view(), me, e.op(), s.commit(), e.clientIpv4(),
                        e.clientPort(), e.request())), m);
                retransmitted++;
                sent++;
            }
            if (sent > 0) {
                if (sentBefore[r] && acked[r] <= ackedWhenSent[r]) {
                    backoff[r] = Math.min(backoff[r] + 1, MAX_BACKOFF_SHIFT); // no answer to the last round
                }
                sentBefore[r] = true;
                ackedWhenSent[r] = acked[r];
                retryAt[r] = backoff[r] == 0 ? 0 : now + (period << backoff[r]);
            }
        }
    }

    /** Forgets the retransmission backoff (a new view: every member starts again). */
    private void resetBackoff() {
        Arrays.fill(backoff, 0);
        Arrays.fill(retryAt, 0);
        Arrays.fill(ackedWhenSent, 0);
        Arrays.fill(sentBefore, false);
    }

    /** Retransmission rounds skipped for a member that answered none of its last rounds (backoff). */
    public long retransmitsDeferred() {
        return retransmitsDeferred.get();
    }

    /** Datagrams the agent's socket failed to send (reported once per member until one succeeds again). */
    public long sendFailures() {
        return sendFailures.get();
    }

    private long loggedAt(long op) {
        return log.lookup(key((int) (op % capacity))).map(v -> ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN)
                .getLong(block.slot("loggedNs").offset())).orElse(0L);
    }

    private void send(byte[] message, Member to) {
        try {
            replication.send(ByteBuffer.wrap(message), new InetSocketAddress(to.address(), block.replicationPort()));
            sendFailing[to.index()] = false;
        } catch (IOException e) {
            sendFailures.incrementAndGet();
            if (!sendFailing[to.index()]) { // once per member until a send succeeds again: no log storm
                sendFailing[to.index()] = true;
                System.err.println("consensus " + block.name() + ": send to " + to + " failed: " + e);
            }
        }
    }

    // ------------------------------------------------------------------ view change (host side)

    /**
     * Starts a view change to the next view (docs/consensus.md, "View change on the data plane"): this member's
     * programs stop taking part in the current view and it reports its log to the next view's leader. Also started
     * by a replica on its own after {@link Options#leaderTimeout()} of leader silence. Needs the replication
     * socket bound to P + 1 (the messages arrive there).
     */
    public void startViewChange() {
        startViewChange(Math.max(group.view(), pendingView) + 1);
    }

    /** Called with the new group (view, leader) each time this member installs a view. */
    public void onViewChange(Consumer<Group> listener) {
        viewListeners.add(listener);
    }

    /** The view this member is changing to, or -1 when none is under way. */
    public int pendingView() {
        return pendingView;
    }

    /** Views installed by a view change on this member. */
    public long viewChanges() {
        return viewChangesInstalled.get();
    }

    /** Leader silences this replica noticed (each started a view change). */
    public long leaderSilences() {
        return leaderSilences.get();
    }

    /** Log entries this member took from another member's log when it became leader. */
    public long entriesFetched() {
        return entriesFetched.get();
    }

    private long viewChangeTimeoutNs() {
        return Math.max(options.leaderTimeout().toNanos(), 50 * options.retransmitInterval().toNanos());
    }

    /** Replica: a leader that sends neither PREPARE nor COMMIT (the heartbeat) for the leader timeout is dead. */
    private void watchLeader() {
        if (options.leaderTimeout().isZero() || stateThread == null) {
            return;
        }
        Map<String, Long> c = counters();
        long heard = c.getOrDefault("prepares_received", 0L) + c.getOrDefault("commits_received", 0L);
        long now = System.nanoTime();
        if (heard != heardCount) {
            heardCount = heard;
            heardAtNs = now;
            return;
        }
        if (now - heardAtNs > options.leaderTimeout().toNanos()) {
            leaderSilences.incrementAndGet();
            System.err.println("consensus " + block.name() + ": member " + me + " heard nothing from leader "
                    + group.leader() + " of view " + group.view() + " for " + options.leaderTimeout()
                    + ": view change");
            heardAtNs = now;
            startViewChange(group.view() + 1);
        }
    }

    private void startViewChange(int newView) {
        synchronized (viewLock) {
            Group g = group;
            if (newView <= g.view() || newView <= pendingView) {
                return;
            }
            if (stateThread == null) {
                throw new IllegalStateException("a view change needs the replication socket bound to port "
                        + block.replicationPort());
            }
            if (pendingView < 0) {
                writeConfig(g, me, false); // stop taking part in view g.view(): no PREPAREOK, no ordering
            }
            pendingView = newView;
            viewChangeStartedNs = System.nanoTime();
            doViewChanges.clear();
        }
        sendDoViewChange();
    }

    /** The entries this member holds contiguously: the leader's log is 1 .. last_op, a replica's 1 .. contiguous. */
    private long heldContiguous(Status s) {
        return group.leader() == me ? Math.max(s.lastOp(), s.contiguous()) : s.contiguous();
    }

    /**
     * DO_VIEW_CHANGE(normal view, contiguous, commit) to the leader of the pending view (recorded directly when that
     * is me). The normal view is the group's: {@code group} changes only when a view is installed.
     */
    private void sendDoViewChange() {
        int v = pendingView;
        if (v < 0) {
            return;
        }
        Group g = group;
        Status s = status();
        VrMessage.DoViewChange d = new VrMessage.DoViewChange(v, me, g.view(), heldContiguous(s), s.commit());
        int leader = v % g.size();
        if (leader == me) {
            doViewChanges.put(me, d);
        } else {
            send(Wire.encode(d), g.members().get(leader));
        }
    }

    /** Every interval while a view change is under way: report again, complete it, or give up on that view. */
    private void viewChangeTick() {
        int v = pendingView;
        if (v < 0) {
            return;
        }
        Group g = group;
        sendDoViewChange();
        if (v % g.size() == me && doViewChanges.size() >= g.size() / 2 + 1 && becomeLeader(v)) {
            return;
        }
        if (pendingView == v && System.nanoTime() - viewChangeStartedNs > viewChangeTimeoutNs()) {
            System.err.println("consensus " + block.name() + ": member " + me + ": view " + v
                    + " did not start in time: trying view " + (v + 1));
            startViewChange(v + 1); // its leader is dead too, or no majority answered it
        }
    }

    /** Types 6-10 on P + 1 (view change, and REJOIN); false for any other message. */
    private boolean onViewMessage(VrMessage m) {
        if ((dataPlaneLost != null || rejoining)
                && (m instanceof VrMessage.DoViewChange || m instanceof VrMessage.StartView)) {
            return true; // fenced, or rejoining with no log yet: it must not lead a view or count in one
        }
        switch (m) {
            case VrMessage.DoViewChange d -> onDoViewChange(d);
            case VrMessage.StartView v -> {
                Group g = group;
                int pv = pendingView;
                if (v.view() > g.view() && v.sender() == v.view() % g.size() && (pv < 0 || v.view() >= pv)) {
                    installAsReplica(v.view(), v.logView(), v.contiguous(), v.commit());
                }
            }
            case VrMessage.LogRequest r -> onLogRequest(r);
            case VrMessage.Rejoin r -> onRejoin(r);
            case VrMessage.LogCopy c -> {
                if (c.view() == pendingView) {
                    logInbox.offer(c);
                }
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    private void onDoViewChange(VrMessage.DoViewChange d) {
        Group g = group;
        int v = d.view();
        if (v == g.view() && pendingView < 0 && g.leader() == me) {
            // the member missed START_VIEW: send it again, with what was installed
            send(Wire.encode(new VrMessage.StartView(v, me, installedLogView, installedContiguous, installedCommit)),
                    g.members().get(d.sender()));
            return;
        }
        if (v <= g.view()) {
            return; // an old view change
        }
        if (v > pendingView) {
            startViewChange(v); // join: another member gave up on the leader (VR: a later view wins)
        }
        if (v == pendingView && v % g.size() == me) {
            doViewChanges.put(d.sender(), d);
        }
    }

    /**
     * The leader, told by member {@code r} that its log was lost and it holds the state up to {@code contiguous}:
     * lowers {@code acked[r]} to that (its quorums must not count acknowledgements the member no longer backs, and
     * retransmission must resend what follows). The state map is written while the programs are paused
     * (configured = 0: XDP drops PREPAREOKs, TC numbers nothing) so no raise races with the write.
     */
    private void onRejoin(VrMessage.Rejoin m) {
        Group g = group;
        int r = m.sender();
        if (m.view() != g.view() || g.leader() != me || pendingView >= 0 || dataPlaneLost != null || !running) {
            return;
        }
        synchronized (viewLock) {
            if (group != g || pendingView >= 0 || status().acked()[r] <= m.contiguous()) {
                return; // nothing to lower (a repeated REJOIN, or the member is ahead of it already)
            }
            writeConfig(g, me, false);
            LockSupport.parkNanos(1_000_000L); // a PREPAREOK already inside XDP finishes
            int at = block.state("acked").offset() + 8 * r;
            changeState(st -> st.putLong(at, Math.min(st.getLong(at), m.contiguous())));
            writeConfig(g, me, true);
        }
        backoff[r] = 0; // the member answers from now on (timer-thread fields: a stale read costs one round)
        retryAt[r] = 0;
        ackedWhenSent[r] = m.contiguous();
        sentBefore[r] = false;
        rejoins.incrementAndGet();
        System.err.println("consensus " + block.name() + ": member " + r + " rejoined with state up to op "
                + m.contiguous() + ": its acknowledgements above it no longer count");
    }

    /** REJOINs this leader acted on (members that lost their log and came back). */
    public long rejoins() {
        return rejoins.get();
    }

    private void onLogRequest(VrMessage.LogRequest r) {
        Group g = group;
        if (r.view() != pendingView && r.view() != g.view()) {
            return;
        }
        long from = Math.max(1, r.from());
        long to = Math.min(r.to(), from + COPIES_PER_REQUEST - 1);
        if (to < from || to - from + 1 > capacity) {
            return;
        }
        for (LogEntry e : getNicLog(from, to)) {
            send(Wire.encode(new VrMessage.LogCopy(r.view(), me, e.op(), e.clientIpv4(), e.clientPort(), e.request())),
                    g.members().get(r.sender()));
        }
    }

    /**
     * The new leader of view {@code v}, with DO_VIEW_CHANGE from a majority (itself included): takes the most
     * up-to-date log among them — VR's rule: the latest normal view first, then the longest — copying what it lacks
     * from that member (LOG_REQUEST / LOG_COPY), discards anything above it, installs the view (its programs lead
     * it from here) and sends START_VIEW. Its own entries above its commit count only when its latest normal view is
     * the chosen log's: otherwise they may be an old leader's that never committed and were replaced since, under
     * the same op numbers. False when the copy did not complete (the next tick tries again, until the view change
     * times out).
     */
    private boolean becomeLeader(int v) {
        Group g = group;
        Map<Integer, VrMessage.DoViewChange> reports = new java.util.HashMap<>(doViewChanges);
        VrMessage.DoViewChange mine = reports.get(me);
        if (mine == null) {
            return false;
        }
        VrMessage.DoViewChange best = mine;
        long groupCommit = 0;
        for (VrMessage.DoViewChange d : reports.values()) {
            groupCommit = Math.max(groupCommit, d.commit());
            if (moreUpToDate(d, best, me)) {
                best = d;
            }
        }
        long top = best.contiguous();
        int logView = best.normalView();
        long have = trustedPrefix(mine, logView);
        if (have < mine.contiguous()) {
            clearAbove(have); // another view's uncommitted entries: fetched again from the chosen log
        }
        if (top > have && fetchLog(v, best.sender(), have, top) < top) {
            return false;
        }
        long commit;
        Group installed;
        synchronized (viewLock) {
            if (pendingView != v) {
                return false;
            }
            clearAbove(top);
            commit = Math.max(status().commit(), Math.min(groupCommit, top));
            long c = commit;
            ConsensusManifest.Field ackedField = block.state("acked");
            changeState(st -> {
                st.putLong(block.state("lastOp").offset(), top);
                st.putLong(block.state("contiguous").offset(), top);
                st.putLong(block.state("commit").offset(), c);
                st.putLong(block.state("answered").offset(), c);
                st.putInt(block.state("stopped").offset(), 0);
                for (int i = 0; i < ackedField.size() / 8; i++) {
                    VrMessage.DoViewChange d = reports.get(i);
                    long a = i == me ? top : d == null ? 0 : Math.min(trustedPrefix(d, logView), top);
                    st.putLong(ackedField.offset() + 8 * i, a);
                }
            });
            // the old leader answered what it committed; this one answers what commits from now on
            lastReplied.accumulateAndGet(groupCommit, Math::max);
            installed = g.withView(v);
            installedContiguous = top;
            installedCommit = commit;
            installedLogView = logView;
            writeConfig(installed, me, true);
            group = installed;
            pendingView = -1;
            doViewChanges.clear();
            resetBackoff();
            viewChangesInstalled.incrementAndGet();
        }
        afterInstall(commit);
        byte[] start = Wire.encode(new VrMessage.StartView(v, me, logView, top, commit));
        for (Member m : installed.members()) {
            if (m.index() != me) {
                send(start, m);
            }
        }
        System.err.println("consensus " + block.name() + ": member " + me + " leads view " + v + " (log 1 .. " + top
                + " of view " + logView + " from member " + best.sender() + ", commit " + commit + ", reports from "
                + reports.keySet() + ")");
        for (Consumer<Group> l : viewListeners) {
            l.accept(installed);
        }
        return true;
    }

    /**
     * VR's order of logs in a view change: the later normal view wins, then the longer log; on a tie the new leader's
     * own (nothing to copy), then the lower member index.
     */
    static boolean moreUpToDate(VrMessage.DoViewChange d, VrMessage.DoViewChange best, int me) {
        if (d.normalView() != best.normalView()) {
            return d.normalView() > best.normalView();
        }
        if (d.contiguous() != best.contiguous()) {
            return d.contiguous() > best.contiguous();
        }
        return best.sender() != me && d.sender() < best.sender();
    }

    /**
     * How much of a reported log agrees with the chosen log of view {@code logView}: all of it when it comes from the
     * same normal view; otherwise only the committed part (entries above the commit may be an old leader's that a
     * later view replaced).
     */
    static long trustedPrefix(VrMessage.DoViewChange d, int logView) {
        return d.normalView() == logView ? d.contiguous() : Math.min(d.contiguous(), d.commit());
    }

    /** Copies entries {@code have + 1 .. top} from member {@code source}'s log into this one; the last op held. */
    private long fetchLog(int v, int source, long have, long top) {
        if (top - have > capacity) {
            return have; // cannot hold them all (a longer log than the ring): give up on this view
        }
        long intervalNs = options.retransmitInterval().toNanos();
        long next = have + 1;
        logInbox.clear();
        for (int silent = 0; next <= top && silent < 20 && running && pendingView == v; ) {
            long to = Math.min(top, next + COPIES_PER_REQUEST - 1);
            send(Wire.encode(new VrMessage.LogRequest(v, me, next, to)), group.members().get(source));
            long wanted = to - next + 1;
            long got = 0;
            try {
                for (VrMessage.LogCopy c; got < wanted && (c = logInbox.poll(intervalNs, TimeUnit.NANOSECONDS)) != null; ) {
                    if (c.sender() == source && c.op() >= next && c.op() <= top) {
                        writeSlot(c);
                        got++;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return next - 1;
            }
            long before = next;
            for (LogEntry e : getNicLog(next, to)) {
                if (e.op() != next) {
                    break;
                }
                next++;
            }
            entriesFetched.addAndGet(next - before);
            silent = next == before ? silent + 1 : 0;
        }
        return next - 1;
    }

    /** Writes one entry into its log slot (the programs are paused: nothing races with it). */
    private void writeSlot(VrMessage.LogCopy c) {
        byte[] v = new byte[log.valueSize()];
        ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
        byte[] req = c.request();
        ConsensusManifest.Field data = block.slot("data");
        if (req.length > data.size()) {
            return;
        }
        b.putLong(block.slot("loggedNs").offset(), 0); // 0: the first retransmission round sends it at once
        b.putLong(block.slot("committedNs").offset(), 0);
        ByteBuffer.wrap(v, block.slot("clientIp").offset(), 4).order(ByteOrder.BIG_ENDIAN).putInt(c.clientIpv4());
        ByteBuffer.wrap(v, block.slot("clientPort").offset(), 2).order(ByteOrder.BIG_ENDIAN)
                .putShort((short) c.clientPort());
        b.putShort(block.slot("length").offset(), (short) req.length);
        System.arraycopy(req, 0, v, data.offset(), req.length);
        b.putLong(block.slot("op").offset(), c.op());
        log.put(key((int) (c.op() % capacity)), v);
    }

    /** Empties every log slot holding an op above {@code limit} (entries a new view discards). */
    private void clearAbove(long limit) {
        int opOff = block.slot("op").offset();
        byte[] after = null;
        for (long seen = 0; seen < capacity; ) {
            List<BpfMap.Entry> batch = log.lookupBatch(after, (int) Math.min(BATCH, capacity - seen));
            if (batch.isEmpty()) {
                return;
            }
            for (BpfMap.Entry e : batch) {
                byte[] v = e.value();
                ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
                if (b.getLong(opOff) > limit) {
                    b.putLong(opOff, 0);
                    log.put(e.key(), v);
                }
            }
            seen += batch.size();
            after = batch.getLast().key();
        }
    }

    /**
     * A member receiving START_VIEW(v, logView, leaderContiguous, commit) from the new leader: discards what it holds
     * above the leader's log, above its own contiguous prefix (the leader re-sends those) and — when its latest normal
     * view is not {@code logView} — above its own commit (those may be entries the chosen log replaced), takes the
     * commit number, installs view {@code v} as a replica and resumes. What it lacks arrives by retransmission.
     */
    private void installAsReplica(int v, int logView, long leaderContiguous, long groupCommit) {
        long commit;
        Group installed;
        synchronized (viewLock) {
            Group g = group;
            if (v <= g.view()) {
                return;
            }
            if (pendingView < 0) {
                writeConfig(g, me, false); // a member that had not noticed: stop first
                LockSupport.parkNanos(1_000_000L); // a PREPARE already inside XDP finishes
            }
            Status s = status();
            long held = heldContiguous(s);
            long trusted = g.view() == logView ? held : Math.min(held, s.commit());
            long keep = Math.min(trusted, leaderContiguous);
            clearAbove(keep);
            commit = Math.max(Math.min(s.commit(), keep), Math.min(groupCommit, keep));
            long c = commit;
            ConsensusManifest.Field ackedField = block.state("acked");
            changeState(st -> {
                st.putLong(block.state("lastOp").offset(), keep);
                st.putLong(block.state("contiguous").offset(), keep);
                st.putLong(block.state("commit").offset(), c);
                st.putLong(block.state("answered").offset(), c);
                st.putInt(block.state("stopped").offset(), 0);
                for (int i = 0; i < ackedField.size(); i++) {
                    st.put(ackedField.offset() + i, (byte) 0);
                }
            });
            installed = g.withView(v);
            writeConfig(installed, me, true);
            group = installed;
            pendingView = -1;
            doViewChanges.clear();
            resetBackoff();
            heardCount = -1; // the new leader's silence clock starts now
            viewChangesInstalled.incrementAndGet();
        }
        afterInstall(commit);
        for (Consumer<Group> l : viewListeners) {
            l.accept(installed);
        }
    }

    private void afterInstall(long commit) {
        target.accumulateAndGet(commit, Math::max);
        Thread d = deliverer;
        if (d != null) {
            LockSupport.unpark(d);
        }
    }

    // ------------------------------------------------------------------ host failure and recovery

    private HostFailure hostFailure(long op, long detectedNs) {
        long committed = slotLong(op, "committedNs");
        long rtt = status().rttNanos();
        long limit = Math.max(rtt * block.failureThreshold(), options.failureFloor().toNanos());
        return new HostFailure(op, detectedNs, committed, rtt, limit);
    }

    /** A u64 field of log slot {@code op}, or 0 when the slot holds another op. */
    private long slotLong(long op, String field) {
        return log.lookup(key((int) (op % capacity))).map(v -> {
            ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
            return b.getLong(block.slot("op").offset()) == op ? b.getLong(block.slot(field).offset()) : 0L;
        }).orElse(0L);
    }

    /**
     * Restarts the host service while the data plane keeps running (docs/consensus.md, "Recovery"): {@code fresh}
     * holds the checkpoint at {@code checkpointOp} (0: an empty service; the caller restored it, e.g. from a
     * {@link #checkpoint()}). The service that was running (hung, crashed, or merely replaced) is abandoned: a
     * result it still returns is dropped. On the leader ordering stops (if the data plane had not stopped it
     * already) and the numbered entries are allowed to commit. Then:
     * <ol>
     *   <li>the committed entries {@code checkpointOp + 1 .. commit} that the data plane's log still holds are
     *       executed from it ({@link #getNicLog}), in op order;
     *   <li>if the log no longer holds some of them (the ring lapped them), the state after them is taken from
     *       another member by state transfer (STATE_REQUEST / STATE_CHUNK, types 4 and 5: the leader first for a
     *       replica, the next member for the leader) and only the entries after that snapshot come from the log;
     *   <li>the leader answers the entries above the last op it had answered (nothing twice), restores the RTT
     *       average of the healthy service, clears the stopped flag, and ordering resumes;
     *   <li>delivery continues with {@code fresh}.
     * </ol>
     * Returns how many entries came from the data-plane log ({@link RecoveryReport#fromLocalLog()}) and how many
     * entries' worth of state from another member ({@link RecoveryReport#fromStateTransfer()}). One recovery runs
     * at a time; it throws {@link IllegalStateException} when it cannot complete within {@code limit} (no member
     * answers with a state that reaches the log); the plane is then left stopped, and it may be called again.
     */
    public RecoveryReport recoverService(RecoverableService fresh, long checkpointOp, Duration limit) {
        Objects.requireNonNull(fresh, "fresh");
        Objects.requireNonNull(limit, "limit");
        if (checkpointOp < 0) {
            throw new IllegalArgumentException("the checkpoint op must be >= 0, got " + checkpointOp);
        }
        synchronized (recoveryLock) {
            if (!running) {
                throw new IllegalStateException("start the data plane before recovering its service");
            }
            long deadline = System.nanoTime() + limit.toNanos();
            int gen;
            synchronized (deliveryLock) {
                gen = ++generation; // the running service is abandoned from here on
                recovering = true;
                served.clear();
            }
            Thread old = deliverer;
            if (old != null) {
                LockSupport.unpark(old); // it ends at its next check; a hung one ends when (if) its call returns
            }
            boolean leader = isLeader();
            long rttBefore = status().rttNanos();
            long intervalNs = options.retransmitInterval().toNanos();
            if (leader) {
                if (!status().stopped()) {
                    changeState(v -> v.putInt(block.state("stopped").offset(), 1));
                    LockSupport.parkNanos(intervalNs); // a request already past the check gets its number first
                }
                for (int i = 0; i < 100 && System.nanoTime() < deadline; i++) { // bounded: ~100 intervals
                    Status st = status();
                    if (st.commit() >= st.lastOp()) {
                        break;
                    }
                    LockSupport.parkNanos(intervalNs); // what was numbered commits (the timer re-sends)
                }
            }
            long done = checkpointOp;
            long fromLog = 0;
            long fromReplicas = 0;
            int source = -1;
            for (int round = 0; ; round++) {
                long upTo = status().commit();
                if (done >= upTo) {
                    break;
                }
                long lowest = lowestHeld(done + 1, upTo);
                if (lowest > done + 1) {
                    // the log lapped entries done+1 .. lowest-1: the state after them comes from another member
                    if (round >= 8 || System.nanoTime() >= deadline) {
                        throw new IllegalStateException("recovery of block '" + block.name() + "' did not complete in "
                                + limit + ": the log no longer holds op " + (done + 1) + " and no member's state"
                                + " reached op " + (lowest - 1));
                    }
                    Transfer t = stateTransfer(done, lowest - 1, deadline);
                    fresh.restore(t.state());
                    fromReplicas += t.op() - done;
                    done = t.op();
                    source = t.source();
                    continue;
                }
                long before = done;
                done = executeFromLog(fresh, done, upTo, leader);
                fromLog += done - before;
                if (done < upTo && done == before && round >= 8) {
                    break; // nothing executes (entries not in the log yet): the delivery thread goes on later
                }
                if (!leader && round >= 8) {
                    break; // a replica's commit keeps moving: the delivery thread takes over
                }
            }
            synchronized (deliveryLock) {
                applied = done;
                service = fresh;
                recovering = false;
            }
            target.accumulateAndGet(done, Math::max);
            if (leader) {
                long rtt = rttBefore;
                changeState(v -> {
                    v.putInt(block.state("stopped").offset(), 0);
                    v.putLong(block.state("answered").offset(), v.getLong(block.state("commit").offset()));
                    v.putLong(block.state("rttNs").offset(), rtt); // the late replies' samples were the failure's
                });
                failedAt = -1;
            }
            startDeliverer(gen, fresh);
            return new RecoveryReport(checkpointOp, fromReplicas, source, fromLog, done);
        }
    }

    /** Executes {@code done + 1 ..} up to {@code upTo} from the log in op order; returns the last op executed. */
    private long executeFromLog(RecoverableService svc, long done, long upTo, boolean leader) {
        while (done < upTo) {
            long to = Math.min(upTo, done + Math.min(BATCH, capacity));
            List<LogEntry> entries = getNicLog(done + 1, to);
            long before = done;
            for (LogEntry e : entries) {
                if (e.op() != done + 1) {
                    break;
                }
                InetSocketAddress client = new InetSocketAddress(ipv4(e.clientIpv4()), e.clientPort());
                byte[] reply = svc.execute(e.op(), client, e.request());
                done = e.op();
                if (leader) {
                    reply(e.op(), reply, client); // only above the last op answered
                }
            }
            if (done == before || done < to) {
                return done;
            }
        }
        return done;
    }

    /** The smallest op L in {@code from .. to} such that the log holds every entry L .. to ({@code to + 1}: none). */
    private long lowestHeld(long from, long to) {
        long lowest = to + 1;
        long hi = to;
        while (hi >= from) {
            long lo = Math.max(from, hi - Math.min(capacity, BATCH) + 1);
            List<LogEntry> entries = getNicLog(lo, hi);
            for (int i = entries.size() - 1; i >= 0; i--) {
                if (entries.get(i).op() != lowest - 1) {
                    return lowest;
                }
                lowest--;
            }
            if (lowest != lo) {
                return lowest;
            }
            hi = lo - 1;
        }
        return lowest;
    }

    private record Transfer(long op, byte[] state, int source) {}

    /**
     * Takes another member's service state by state transfer: a snapshot at an op of at least {@code atLeast}
     * (so that it reaches the log) and {@code have}. The members are asked in turn (the leader first for a
     * replica, the next member for the leader), each until its answer stalls {@value #ASKS_PER_SOURCE} times.
     */
    private Transfer stateTransfer(long have, long atLeast, long deadline) {
        Group g = group;
        int n = g.size();
        if (n < 2) {
            throw new IllegalStateException("the log no longer holds op " + (have + 1)
                    + " and there is no other member to take the state from");
        }
        long intervalNs = options.retransmitInterval().toNanos();
        int source = -1;
        while (System.nanoTime() < deadline) {
            source = source < 0 ? (g.leader() != me ? g.leader() : (me + 1) % n) : (source + 1) % n;
            if (source == me) {
                source = (source + 1) % n;
            }
            int nonce = ThreadLocalRandom.current().nextInt();
            inbox.clear();
            byte[] state = null;
            long op = -1;
            java.util.BitSet got = null;
            int chunks = 0;
            int asks = 1;
            askState(g, source, have, nonce, 0);
            long progress = System.nanoTime();
            while (System.nanoTime() < deadline) {
                VrMessage.StateChunk c;
                try {
                    c = inbox.poll(intervalNs, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted during state transfer", e);
                }
                long now = System.nanoTime();
                if (c == null || c.sender() != source || c.nonce() != nonce) {
                    if (now - progress >= STALL_INTERVALS * intervalNs) {
                        if (asks >= ASKS_PER_SOURCE) {
                            break; // silent: the next member
                        }
                        asks++;
                        progress = now;
                        askState(g, source, have, nonce, got == null ? 0 : got.nextClearBit(0) * Wire.MAX_CHUNK);
                    }
                    continue;
                }
                if (state == null) {
                    op = c.op();
                    state = new byte[c.total()];
                    chunks = Math.max(1, (c.total() + Wire.MAX_CHUNK - 1) / Wire.MAX_CHUNK);
                    got = new java.util.BitSet(chunks);
                }
                if (c.op() != op || c.total() != state.length || c.offset() % Wire.MAX_CHUNK != 0) {
                    continue;
                }
                int idx = c.offset() / Wire.MAX_CHUNK;
                if (idx >= chunks || got.get(idx)) {
                    continue;
                }
                byte[] d = c.data();
                System.arraycopy(d, 0, state, c.offset(), d.length);
                got.set(idx);
                progress = now;
                asks = 1;
                if (got.cardinality() == chunks) {
                    if (op < have || op < atLeast) {
                        System.err.println("consensus " + block.name() + ": member " + source + "'s state at op " + op
                                + " does not reach op " + atLeast + ": asking another member");
                        LockSupport.parkNanos(intervalNs);
                        break;
                    }
                    return new Transfer(op, state, source);
                }
                int missing = got.nextClearBit(0);
                if (missing < chunks && missing >= (idx / CHUNKS_PER_REQUEST + 1) * CHUNKS_PER_REQUEST) {
                    askState(g, source, have, nonce, missing * Wire.MAX_CHUNK); // this batch is complete
                }
            }
        }
        throw new IllegalStateException("state transfer for block '" + block.name() + "' did not complete in time:"
                + " no member sent a state at op >= " + atLeast);
    }

    private void askState(Group g, int source, long have, int nonce, int offset) {
        send(Wire.encode(new VrMessage.StateRequest(g.view(), me, have, nonce, offset)), g.members().get(source));
    }

    /** What this member serves to requester: one snapshot per nonce (state null while it is being taken). */
    private record Served(int nonce, long op, byte[] state) {}

    /** Receives state transfer on P + 1 (XDP passes types 4 and 5 to the stack): requests and chunks. */
    private void stateLoop() {
        ByteBuffer buf = ByteBuffer.allocate(2048);
        while (running) {
            buf.clear();
            try {
                if (replication.receive(buf) == null) {
                    continue;
                }
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!replication.isOpen()) {
                    return;
                }
                continue;
            }
            if (!running) {
                return;
            }
            buf.flip();
            byte[] d = new byte[buf.remaining()];
            buf.get(d);
            try {
                onStateMessage(d);
            } catch (RuntimeException e) {
                badStateMessages.incrementAndGet();
                System.err.println("consensus " + block.name() + ": state transfer message failed: " + e);
            }
        }
    }

    private void onStateMessage(byte[] datagram) {
        Optional<VrMessage> m = Wire.decode(datagram);
        Group g = group;
        if (m.isPresent() && m.get().sender() < g.size() && m.get().sender() != me && onViewMessage(m.get())) {
            return; // view change: checked against the views involved, not the current one
        }
        if (m.isEmpty() || m.get().view() != g.view() || m.get().sender() >= g.size() || m.get().sender() == me) {
            badStateMessages.incrementAndGet(); // not a message of this group and view
            return;
        }
        switch (m.get()) {
            case VrMessage.StateRequest r -> onStateRequest(r);
            case VrMessage.StateChunk c -> {
                if (recovering) {
                    inbox.offer(c);
                }
            }
            default -> badStateMessages.incrementAndGet(); // types 1-3 are the XDP program's
        }
    }

    /**
     * Another member asks for this member's state: a snapshot of the service taken between two entries (on the
     * delivery thread), kept for that requester and nonce, sent as up to {@value #CHUNKS_PER_REQUEST} chunks from
     * the asked offset. Silent while recovering, when the service cannot take snapshots, or while it hangs. A
     * data-plane member's log survives a service restart, so (unlike the baseline) the leader does not lower
     * {@code acked} for the requester.
     */
    private void onStateRequest(VrMessage.StateRequest r) {
        if (recovering || !(service instanceof RecoverableService)) {
            return;
        }
        int from = r.sender();
        Served s = served.get(from);
        if (s != null && s.nonce() == r.nonce()) {
            if (s.state() != null) {
                sendChunks(from, s, r.offset());
            }
            return; // the snapshot is being taken
        }
        Served pending = new Served(r.nonce(), -1, null);
        served.put(from, pending);
        checkpoint().thenAccept(cp -> {
            Served ready = new Served(r.nonce(), cp.op(), cp.state());
            if (served.replace(from, pending, ready)) {
                stateRequestsAnswered.incrementAndGet();
                sendChunks(from, ready, 0);
            }
        });
    }

    private void sendChunks(int to, Served s, int offset) {
        Group g = group;
        int total = s.state().length;
        for (int i = 0; i < CHUNKS_PER_REQUEST; i++) {
            int off = offset + i * Wire.MAX_CHUNK;
            if (off >= total && !(total == 0 && i == 0)) {
                break;
            }
            byte[] data = Arrays.copyOfRange(s.state(), Math.min(off, total), Math.min(total, off + Wire.MAX_CHUNK));
            send(Wire.encode(new VrMessage.StateChunk(g.view(), me, s.op(), s.nonce(), total, Math.min(off, total),
                    data)), g.members().get(to));
            stateChunksSent.incrementAndGet();
        }
    }

    /**
     * Read-modify-write of the state map's value. The programs change the same value concurrently (an array map
     * has no partial update): callers write only while ordering is stopped, when the programs move at most
     * {@code commit} and {@code acked}, and a lost raise of those is repaired by the next PREPAREOK.
     */
    private void changeState(Consumer<ByteBuffer> change) {
        ByteBuffer v = ByteBuffer.wrap(state.lookup(key(0)).orElseThrow()).order(ByteOrder.LITTLE_ENDIAN);
        change.accept(v);
        state.put(key(0), v.array());
    }

    // ------------------------------------------------------------------ reading the data plane

    /**
     * The log entries {@code from .. to} (inclusive) that the log map holds, in op order: read in shards of
     * {@value #BATCH} slots, one {@code bpf_map_lookup_batch} each, shards in parallel. An entry whose slot
     * holds another op (overwritten, or not yet received) is left out.
     */
    public List<LogEntry> getNicLog(long from, long to) {
        if (from < 1 || to < from - 1) {
            throw new IllegalArgumentException("ops are numbered from 1; asked for " + from + " .. " + to);
        }
        if (to < from) {
            return List.of();
        }
        if (to - from + 1 > capacity) {
            throw new IllegalArgumentException("the log holds " + capacity + " entries; asked for " + (to - from + 1));
        }
        List<long[]> shards = new ArrayList<>();
        for (long op = from; op <= to; ) {
            long slot = op % capacity;
            long n = Math.min(Math.min(BATCH, to - op + 1), capacity - slot); // a shard never wraps
            shards.add(new long[] {op, n});
            op += n;
        }
        if (shards.size() == 1) {
            return readShard(shards.getFirst()[0], (int) shards.getFirst()[1]);
        }
        List<Future<List<LogEntry>>> parts = new ArrayList<>();
        for (long[] s : shards) {
            parts.add(readers.submit(() -> readShard(s[0], (int) s[1])));
        }
        List<LogEntry> out = new ArrayList<>();
        try {
            for (Future<List<LogEntry>> f : parts) {
                out.addAll(f.get());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading the log", e);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        }
        return out;
    }

    private List<LogEntry> readShard(long firstOp, int count) {
        int slot = (int) (firstOp % capacity);
        List<BpfMap.Entry> read = log.lookupBatch(slot == 0 ? null : key(slot - 1), count);
        List<LogEntry> out = new ArrayList<>(read.size());
        int opOff = block.slot("op").offset();
        int ipOff = block.slot("clientIp").offset();
        int portOff = block.slot("clientPort").offset();
        int lenOff = block.slot("length").offset();
        ConsensusManifest.Field data = block.slot("data");
        for (int i = 0; i < read.size() && i < count; i++) {
            byte[] v = read.get(i).value();
            ByteBuffer b = ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN);
            long op = firstOp + i;
            if (b.getLong(opOff) != op) {
                continue;
            }
            int len = Short.toUnsignedInt(b.getShort(lenOff));
            if (len > data.size()) {
                continue;
            }
            int ip = ByteBuffer.wrap(v, ipOff, 4).order(ByteOrder.BIG_ENDIAN).getInt();
            int port = Short.toUnsignedInt(ByteBuffer.wrap(v, portOff, 2).order(ByteOrder.BIG_ENDIAN).getShort());
            out.add(new LogEntry(op, ip, port, Arrays.copyOfRange(v, data.offset(), data.offset() + len)));
        }
        return out;
    }

    /** The protocol numbers now. */
    public Status status() {
        ByteBuffer b = ByteBuffer.wrap(state.lookup(key(0)).orElseThrow()).order(ByteOrder.LITTLE_ENDIAN);
        ConsensusManifest.Field acked = block.state("acked");
        long[] a = new long[acked.size() / 8];
        for (int i = 0; i < a.length; i++) {
            a[i] = b.getLong(acked.offset() + 8 * i);
        }
        return new Status(b.getLong(block.state("lastOp").offset()), b.getLong(block.state("commit").offset()),
                b.getLong(block.state("contiguous").offset()), b.getLong(block.state("answered").offset()),
                b.getLong(block.state("rttNs").offset()), b.getInt(block.state("stopped").offset()) != 0, a);
    }

    /** Whether the data plane has stopped ordering after detecting a host failure. */
    public boolean stopped() {
        return status().stopped();
    }

    /** Resumes ordering after a host failure (the service has recovered): clears the stopped flag. */
    public void clearStopped() {
        changeState(v -> {
            v.putInt(block.state("stopped").offset(), 0);
            v.putLong(block.state("answered").offset(), v.getLong(block.state("commit").offset()));
        });
        failedAt = -1;
    }

    /** The counters, summed over CPUs, by the manifest's names. */
    public Map<String, Long> counters() {
        byte[] all = counters.lookup(key(0)).orElseThrow();
        long[] sums = new long[block.counters().size()];
        for (byte[] cpu : counters.perCpuValues(all)) {
            ByteBuffer b = ByteBuffer.wrap(cpu).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < sums.length && 8 * i + 8 <= cpu.length; i++) {
                sums[i] += b.getLong(8 * i);
            }
        }
        Map<String, Long> out = new LinkedHashMap<>();
        for (int i = 0; i < sums.length; i++) {
            out.put(block.counters().get(i), sums[i]);
        }
        return out;
    }

    /** The programs, for tests ({@code BPF_PROG_TEST_RUN}). */
    public BpfProgram xdpProgram() {
        return xdp;
    }

    public BpfProgram ingressProgram() {
        return ingress;
    }

    public BpfProgram egressProgram() {
        return egress;
    }

    /** The log map, for tools that fill or inspect it directly (the read-back benchmark). */
    BpfMap logMap() {
        return log;
    }

    /**
     * Sets {@code last_op}, {@code commit}, {@code contiguous} and {@code answered} directly, for tools that fill the
     * log map themselves (the recovery benchmark); never while the programs are attached and running.
     */
    void forceNumbers(long lastOp, long commit) {
        changeState(v -> {
            v.putLong(block.state("lastOp").offset(), lastOp);
            v.putLong(block.state("commit").offset(), commit);
            v.putLong(block.state("contiguous").offset(), lastOp);
            v.putLong(block.state("answered").offset(), commit);
        });
    }

    /** The ring buffer map, for a consumer of its own (only before {@link #start}). */
    public BpfMap eventsMap() {
        return eventsMap;
    }

    // ------------------------------------------------------------------ close

    /**
     * Not pinned: stops delivery and the timer, detaches and unloads. <b>Pinned</b>: stops this process's threads and
     * closes its descriptors, and leaves the data plane running in the kernel, attached and pinned (what a process
     * exit does): {@link #adopt} takes it up again; {@link #unload()} removes it.
     */
    @Override
    public void close() {
        stopThreads();
        if (pinned == null) {
            detach();
        } else {
            synchronized (this) {
                links.forEach(BpfLink::close); // descriptors only: the pins keep the links
                links.clear();
            }
        }
        closeHandles();
    }

    /**
     * Stops this process's threads, detaches the links, removes every pin and the pin directory (the kernel then
     * frees the programs and maps: nothing of the data plane is left), and closes the descriptors. Not pinned: the
     * same as {@link #close()}.
     */
    public void unload() {
        if (pinned == null) {
            close();
            return;
        }
        stopThreads();
        RuntimeException failure = null;
        try {
            detach();
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            pinned.unload(); // removes every pin (also links of another process) and the directory
        } catch (RuntimeException e) {
            if (failure == null) {
                failure = e;
            } else {
                failure.addSuppressed(e);
            }
        }
        closeHandles();
        if (failure != null) {
            throw failure;
        }
    }

    private void stopThreads() {
        synchronized (this) {
            running = false;
        }
        for (Thread t : new Thread[] {deliverer, timer, events}) { // the state thread ends with its socket
            if (t != null) {
                LockSupport.unpark(t);
                try {
                    t.join(5_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        for (CompletableFuture<Checkpoint> f; (f = snapshotRequests.poll()) != null; ) {
            f.completeExceptionally(new IllegalStateException("the data plane was closed"));
        }
        if (ring != null) {
            ring.close();
            ring = null;
        }
        readers.shutdownNow();
    }

    private void closeHandles() {
        for (AutoCloseable c : new AutoCloseable[] {ingress, xdp, egress, config, state, log, counters, eventsMap, next,
                owner}) {
            try {
                c.close();
            } catch (Exception e) {
                // closing a descriptor does not fail in a way worth reporting here
            }
        }
    }

    static byte[] key(int k) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array();
    }

    private static InetAddress ipv4(int ip) {
        try {
            return InetAddress.getByAddress(ByteBuffer.allocate(4).putInt(ip).array());
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    public String toString() {
        return "consensus data plane '" + block.name() + "' (" + (pinned != null ? "pinned at " + pinned.pins().dir()
                : owner) + ", " + capacity + " log slots)";
    }
}
