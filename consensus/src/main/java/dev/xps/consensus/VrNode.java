package dev.xps.consensus;

import dev.xps.consensus.wire.VrMessage;
import dev.xps.consensus.wire.Wire;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One member of a consensus group in the host-only baseline: Viewstamped Replication (normal case, retransmission,
 * host failure detection, recovery by state transfer, host-driven view change) on two UDP sockets, {@code P} for
 * clients and {@code P + 1} for replication, exactly as docs/consensus.md specifies.
 *
 * <p>Threads: one I/O thread owns the sockets and every piece of protocol state (a selector loop that also runs
 * the retransmission timer); one service thread executes committed entries in op order and sends the leader's
 * replies from port {@code P} (the spec's "in-process queue"). Methods called from other threads post a task to
 * the I/O thread.
 */
public final class VrNode implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(VrNode.class.getName());
    /** The spec's bound on how far one PREPARE advances {@code contiguous}, and on retransmissions per member. */
    static final int BATCH = 64;
    /** STATE_CHUNKs sent per STATE_REQUEST. */
    static final int CHUNKS_PER_REQUEST = 32;
    /** A state transfer that makes no progress for this many retransmit intervals is asked again. */
    static final int STALL_TICKS = 3;
    /** ... and after this many asks of one member, another member is asked. */
    static final int ASKS_PER_SOURCE = 5;
    /** Recovery gives up after this many intervals (completing its future exceptionally). */
    static final int RECOVERY_TICKS = 3000;

    /** Receives the leader's host-failure verdict (on the I/O thread: return quickly). */
    @FunctionalInterface
    public interface Listener {
        /**
         * The service has not answered its oldest delivered entry for {@code ageNanos}, more than
         * {@code limitNanos} ({@code failure_threshold * rtt}, at least the floor); ordering has stopped.
         */
        void hostFailed(VrNode node, long ageNanos, double rttNanos, long limitNanos);

        /**
         * Replica: nothing has come from the leader of the current view for {@code silentNanos}, more than the
         * leader timeout (heard once per silence; a host-side coordinator may run a {@link ViewChange}).
         */
        default void leaderSilent(VrNode node, long silentNanos) {}
    }

    /** What a member reports when a view change pauses it. */
    public record ViewStatus(int index, int view, long contiguous, long commit) {}

    /** A service snapshot: the state after entries {@code 1 .. op}. */
    public record Snapshot(long op, byte[] state) {}

    private final int me;
    private final VrOptions opt;
    private final UnorderedHandler unordered;
    private final Listener listener;
    private final VrStats stats = new VrStats();
    private final DatagramChannel clientCh;
    private final DatagramChannel replCh;
    private final Selector selector;
    private final Thread loop;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final long intervalNanos;

    // The log: slot op mod capacity; slotOp == 0 means empty.
    private final long[] slotOp;
    private final int[] slotIp;
    private final int[] slotPort;
    private final byte[][] slotReq;
    private final long[] slotSent; // leader: System.nanoTime() of the entry's last PREPARE

    // Protocol state, owned by the I/O thread (volatile where other threads read it).
    private volatile Group group;
    private volatile long contiguous; // leader: last_op
    private volatile long commit;
    private long[] acked;
    private long delivered; // highest op handed to the current service runner
    private boolean backlogHigh;
    private volatile boolean stopped; // ordering stopped: host failure or recovery
    private volatile boolean paused; // view change in progress
    private volatile boolean closed;
    private volatile long failureDetectedNanos; // 0 = no failure detected since the last (re)start
    private long lastHeardFromLeader; // replica: System.nanoTime() of the last PREPARE or COMMIT from the leader
    private volatile boolean leaderSuspected;
    private long nextTickNanos;
    private volatile Runner runner;
    private volatile Recovery recovery; // a service or node recovery in progress
    private final Map<Integer, Served> served = new HashMap<>(); // state transfers this member serves, by requester
    private final AtomicLong lastReplied = new AtomicLong();

    private VrNode(Group group, int me, ReplicatedService service, VrOptions opt, ChannelFactory channels,
            UnorderedHandler unordered, Listener listener, long checkpointOp) throws IOException {
        this.group = Objects.requireNonNull(group, "group");
        if (me < 0 || me >= group.size()) {
            throw new IllegalArgumentException("member index " + me + " outside a group of " + group.size());
        }
        this.me = me;
        this.opt = Objects.requireNonNull(opt, "options");
        this.unordered = unordered;
        this.listener = listener;
        this.intervalNanos = opt.retransmitInterval().toNanos();
        int cap = opt.logCapacity();
        slotOp = new long[cap];
        slotIp = new int[cap];
        slotPort = new int[cap];
        slotReq = new byte[cap][];
        slotSent = new long[cap];
        acked = new long[group.size()];
        contiguous = checkpointOp;
        commit = checkpointOp;
        delivered = checkpointOp;
        lastReplied.set(checkpointOp);
        runner = new Runner(Objects.requireNonNull(service, "service"), checkpointOp);
        InetAddress addr = group.members().get(me).address();
        ChannelFactory f = channels == null ? ChannelFactory.standard() : channels;
        DatagramChannel c = null;
        DatagramChannel r = null;
        Selector s = null;
        try {
            c = f.open(new InetSocketAddress(addr, group.port()));
            r = f.open(new InetSocketAddress(addr, group.replicationPort()));
            c.configureBlocking(false);
            r.configureBlocking(false);
            s = Selector.open();
            c.register(s, SelectionKey.OP_READ, Boolean.TRUE);
            r.register(s, SelectionKey.OP_READ, Boolean.FALSE);
        } catch (IOException | RuntimeException e) {
            for (AutoCloseable a : new AutoCloseable[] {c, r, s}) {
                if (a != null) {
                    try {
                        a.close();
                    } catch (Exception ignored) {
                        // closing what was half opened
                    }
                }
            }
            throw e;
        }
        clientCh = c;
        replCh = r;
        selector = s;
        loop = Thread.ofPlatform().daemon().name("vr-io-" + me + "-" + group.port()).unstarted(this::runLoop);
    }

    /**
     * Starts member {@code me} of {@code group}: binds {@code P} and {@code P + 1} on its address and takes part at
     * once (a fresh group, every log empty).
     */
    public static VrNode start(Group group, int me, ReplicatedService service, VrOptions options,
            ChannelFactory channels, UnorderedHandler unordered, Listener listener) throws IOException {
        VrNode n = new VrNode(group, me, service, options, channels, unordered, listener, 0);
        n.runner.start();
        n.loop.start();
        return n;
    }

    public static VrNode start(Group group, int me, ReplicatedService service, VrOptions options)
            throws IOException {
        return start(group, me, service, options, null, null, null);
    }

    /**
     * Starts a member that lost its log (a restarted replica): its service, restored from its checkpoint at
     * {@code checkpointOp} by the caller, first takes the state of another member (state transfer, the leader
     * first), then acknowledges its new contiguous prefix and catches up through retransmission. The future
     * completes once the service has applied the transferred state.
     */
    public static Recovering startRecovering(Group group, int me, RecoverableService service, long checkpointOp,
            VrOptions options, ChannelFactory channels, UnorderedHandler unordered, Listener listener)
            throws IOException {
        if (group.leader() == me) {
            throw new IllegalArgumentException("member " + me + " leads view " + group.view()
                    + ": a restarted leader rejoins through a view change (ViewChange), as a replica of the next view");
        }
        VrNode n = new VrNode(group, me, service, options, channels, unordered, listener, checkpointOp);
        CompletableFuture<RecoveryReport> done = new CompletableFuture<>();
        n.stopped = true;
        n.recovery = n.new Recovery(done, checkpointOp, true);
        n.runner.start();
        n.loop.start();
        n.post(() -> n.recovery.step());
        return new Recovering(n, done);
    }

    /** A node started by {@link #startRecovering} and the end of its recovery. */
    public record Recovering(VrNode node, CompletableFuture<RecoveryReport> done) {}

    // ------------------------------------------------------------------------------------------ public queries

    public int index() {
        return me;
    }

    public Group group() {
        return group;
    }

    public int view() {
        return group.view();
    }

    public boolean isLeader() {
        return group.leader() == me;
    }

    /** Leader: the last op numbered ({@code last_op}); replica: every entry {@code 1 .. contiguous} is held. */
    public long contiguous() {
        return contiguous;
    }

    public long commit() {
        return commit;
    }

    /** The last op the service has executed (or taken in a snapshot). */
    public long appliedOp() {
        return runner.applied;
    }

    /** True once the leader detected a host failure and stopped ordering, until the service restarts. */
    public boolean orderingStopped() {
        return stopped;
    }

    /** {@link System#nanoTime()} when the host failure was detected; 0 when none is pending. */
    public long failureDetectedNanos() {
        return failureDetectedNanos;
    }

    /** Replica: true while the leader has been silent for longer than the leader timeout. */
    public boolean leaderSuspected() {
        return leaderSuspected;
    }

    /** The host RTT's EWMA in nanoseconds (NaN before the first sample). */
    public double hostRttNanos() {
        return runner.rtt;
    }

    public VrStats stats() {
        return stats;
    }

    public InetSocketAddress clientAddress() {
        return new InetSocketAddress(group.members().get(me).address(), group.port());
    }

    /** The entry {@code op} as this member's log holds it, if it still does. */
    public Optional<LogEntry> entry(long op) {
        return call(() -> Optional.ofNullable(entryAt(op)));
    }

    /** The entries {@code from .. to} this member's log holds (absent ones are skipped), read on the I/O thread. */
    public List<LogEntry> entries(long from, long to) {
        return call(() -> {
            List<LogEntry> out = new ArrayList<>();
            for (long op = Math.max(1, from); op <= to; op++) {
                LogEntry e = entryAt(op);
                if (e != null) {
                    out.add(e);
                }
            }
            return out;
        });
    }

    /** A snapshot of the service, taken on the service thread between two entries. */
    public CompletableFuture<Snapshot> checkpoint() {
        return runner.snapshot();
    }

    // ------------------------------------------------------------------------------------------ recovery API

    /**
     * Restarts the service after a failure: {@code fresh} holds the checkpoint at {@code checkpointOp} (0: an empty
     * service). Ordering stops (if it had not already); the entries the log still holds are executed from it, what
     * it no longer holds comes from another member by state transfer; then ordering resumes. The old service
     * instance is abandoned: whatever it still returns is discarded. The future completes when the new instance has
     * applied everything committed at the time of the restart.
     */
    public CompletableFuture<RecoveryReport> restartService(RecoverableService fresh, long checkpointOp) {
        Objects.requireNonNull(fresh, "service");
        CompletableFuture<RecoveryReport> done = new CompletableFuture<>();
        post(() -> {
            if (recovery != null) {
                done.completeExceptionally(new IllegalStateException("a recovery is already in progress"));
                return;
            }
            if (checkpointOp > commit) {
                done.completeExceptionally(new IllegalArgumentException("checkpoint op " + checkpointOp
                        + " is beyond the commit number " + commit));
                return;
            }
            runner.abandon();
            runner = new Runner(fresh, checkpointOp);
            runner.start();
            delivered = checkpointOp;
            stopped = true;
            recovery = new Recovery(done, checkpointOp, false);
            recovery.step();
        });
        return done;
    }

    // ------------------------------------------------------------------------------------------ view change API

    /** View change step 1: stop taking part (every message and request is dropped) and report the log's extent. */
    public ViewStatus pauseForViewChange() {
        return call(() -> {
            paused = true;
            return new ViewStatus(me, group.view(), contiguous, commit);
        });
    }

    /**
     * View change step 2 ({@code updateReplica}): install {@code newView}, whose leader holds every entry up to
     * {@code leaderContiguous}; entries above it are discarded here; {@code groupCommit} is the largest commit any
     * member reported; {@code contiguousByMember} what each reported (the new leader's {@code acked}). Resumes.
     */
    public void installView(int newView, long leaderContiguous, long groupCommit,
            Map<Integer, Long> contiguousByMember) {
        call(() -> {
            if (newView <= group.view()) {
                throw new IllegalArgumentException("view " + newView + " is not after view " + group.view());
            }
            group = group.withView(newView);
            for (int s = 0; s < slotOp.length; s++) {
                if (slotOp[s] > leaderContiguous) {
                    clearSlot(s); // entries the new leader does not hold were never committed
                }
            }
            if (group.leader() == me) {
                if (contiguous != leaderContiguous) {
                    throw new IllegalStateException("the new leader holds " + contiguous + " entries, not "
                            + leaderContiguous);
                }
                acked = new long[group.size()];
                contiguousByMember.forEach((m, c) -> acked[m] = Math.min(c, leaderContiguous));
                acked[me] = contiguous;
                // The old leader answered what it committed; this leader answers what commits from now on.
                lastReplied.accumulateAndGet(groupCommit, Math::max);
                stopped = recovery != null;
                failureDetectedNanos = 0;
                backlogHigh = false;
            } else {
                contiguous = Math.min(contiguous, leaderContiguous);
            }
            commit = Math.max(commit, Math.min(groupCommit, contiguous));
            if (group.leader() == me) {
                advanceCommit(); // what a majority reported holding commits now, without waiting for a new request
            }
            lastHeardFromLeader = System.nanoTime();
            leaderSuspected = false;
            paused = false;
            deliverUpTo(commit);
            nextTickNanos = System.nanoTime(); // the new leader retransmits at once
            return null;
        });
    }

    // ------------------------------------------------------------------------------------------ lifecycle

    /** Stops the node: closes its sockets and abandons its service thread (the service itself is left as is). */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        selector.wakeup();
        try {
            loop.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        runner.abandon();
        try {
            selector.close();
        } catch (IOException ignored) {
            // closing
        }
        try {
            clientCh.close();
        } catch (IOException ignored) {
            // closing
        }
        try {
            replCh.close();
        } catch (IOException ignored) {
            // closing
        }
        if (recovery != null) {
            recovery.done.completeExceptionally(new IllegalStateException("node closed"));
        }
    }

    @Override
    public String toString() {
        return "VrNode[member " + me + " of " + group.size() + ", view " + group.view() + (isLeader() ? ", leader" : "")
                + ", contiguous " + contiguous + ", commit " + commit + ", applied " + runner.applied + "]";
    }

    // ------------------------------------------------------------------------------------------ I/O thread

    private void post(Runnable task) {
        tasks.add(task);
        selector.wakeup();
    }

    private <T> T call(Callable<T> c) {
        if (Thread.currentThread() == loop) {
            try {
                return c.call();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        if (closed) {
            throw new IllegalStateException("node " + me + " is closed");
        }
        FutureTask<T> f = new FutureTask<>(c);
        post(f);
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("node " + me + "'s I/O thread did not answer in 30 s", e);
        }
    }

    private void runLoop() {
        ByteBuffer buf = ByteBuffer.allocate(65536);
        nextTickNanos = System.nanoTime() + intervalNanos;
        lastHeardFromLeader = System.nanoTime();
        Consumer<SelectionKey> onReady = key -> {
            boolean client = (Boolean) key.attachment();
            DatagramChannel ch = (DatagramChannel) key.channel();
            for (int i = 0; i < 1024; i++) { // bounded: the timer and tasks get their turn
                buf.clear();
                SocketAddress from;
                try {
                    from = ch.receive(buf);
                } catch (IOException e) {
                    return;
                }
                if (from == null) {
                    return;
                }
                buf.flip();
                byte[] data = new byte[buf.remaining()];
                buf.get(data);
                try {
                    if (client) {
                        onClient((InetSocketAddress) from, data);
                    } else {
                        onReplication(data);
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "member " + me + ": datagram handling failed", e);
                }
            }
        };
        while (!closed) {
            try {
                long wait = nextTickNanos - System.nanoTime();
                if (wait > 0 && tasks.isEmpty()) {
                    selector.select(onReady, Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait + 999_999)));
                } else {
                    selector.selectNow(onReady);
                }
                for (int i = 0; i < 10_000; i++) {
                    Runnable t = tasks.poll();
                    if (t == null) {
                        break;
                    }
                    t.run();
                }
                long now = System.nanoTime();
                if (now - nextTickNanos >= 0) {
                    nextTickNanos = now + intervalNanos;
                    tick(now);
                }
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    LOG.log(Level.WARNING, "member " + me + ": I/O loop", e);
                }
            }
        }
    }

    private void onClient(InetSocketAddress from, byte[] data) {
        if (paused || !isLeader()) {
            stats.notLeader.incrementAndGet();
            return;
        }
        if (!opt.order().matches(data)) {
            stats.unordered.incrementAndGet();
            if (unordered != null) {
                byte[] reply = unordered.handle(from, data);
                if (reply != null) {
                    sendClient(reply, from);
                }
            }
            return;
        }
        if (data.length > opt.entrySize()) {
            stats.oversize.incrementAndGet();
            return;
        }
        if (stopped) {
            stats.stopped.incrementAndGet();
            return;
        }
        if (!(from.getAddress() instanceof Inet4Address a4)) {
            stats.bad.incrementAndGet();
            return;
        }
        long op = contiguous + 1;
        long overwritten = op - slotOp.length;
        if (overwritten > commit || overwritten > delivered) {
            stats.logFull.incrementAndGet();
            return;
        }
        int ip = ipv4(a4);
        store(op, ip, from.getPort(), data);
        slotSent[(int) (op % slotOp.length)] = System.nanoTime();
        contiguous = op;
        acked[me] = op;
        stats.ordered.incrementAndGet();
        int n = group.size();
        if (n > 1) {
            byte[] prepare = Wire.encode(new VrMessage.Prepare(group.view(), me, op, commit, ip, from.getPort(), data));
            for (int r = 0; r < n; r++) {
                if (r != me) {
                    sendRepl(prepare, r);
                    stats.prepares.incrementAndGet();
                }
            }
        }
        advanceCommit();
        checkBacklog();
    }

    private void onReplication(byte[] data) {
        Optional<VrMessage> decoded = Wire.decode(data);
        if (decoded.isEmpty()) {
            stats.bad.incrementAndGet();
            return;
        }
        VrMessage m = decoded.get();
        if (m.view() != group.view() || m.sender() >= group.size() || m.sender() == me) {
            stats.bad.incrementAndGet();
            return;
        }
        if (paused) {
            return;
        }
        if (m.sender() == group.leader() && (m instanceof VrMessage.Prepare || m instanceof VrMessage.Commit)) {
            lastHeardFromLeader = System.nanoTime();
            leaderSuspected = false;
        }
        switch (m) {
            case VrMessage.Prepare p -> {
                if (!isLeader()) {
                    onPrepare(p);
                }
            }
            case VrMessage.PrepareOk ok -> {
                if (isLeader()) {
                    onPrepareOk(ok);
                }
            }
            case VrMessage.Commit c -> {
                if (!isLeader() && recovering(true) == null) {
                    applyCommit(c.commit());
                }
            }
            case VrMessage.StateRequest r -> onStateRequest(r);
            case VrMessage.StateChunk c -> {
                if (recovery != null) {
                    recovery.onChunk(c);
                }
            }
            // the data plane's message-based view change (types 6-9): the baseline's runs in-process (ViewChange)
            case VrMessage.DoViewChange d -> stats.bad.incrementAndGet();
            case VrMessage.StartView v -> stats.bad.incrementAndGet();
            case VrMessage.LogRequest r -> stats.bad.incrementAndGet();
            case VrMessage.LogCopy c -> stats.bad.incrementAndGet();
            case VrMessage.Rejoin r -> stats.bad.incrementAndGet(); // the data plane's (a lost log map)
        }
    }

    /** The node recovery in progress (whole node) if {@code nodeOnly}, else any recovery; null when none. */
    private Recovery recovering(boolean nodeOnly) {
        return recovery != null && (!nodeOnly || recovery.node) ? recovery : null;
    }

    private void onPrepare(VrMessage.Prepare p) {
        if (recovering(true) != null) {
            return; // a restarted member takes part once it has the state; retransmission brings the rest
        }
        long op = p.op();
        if (op > contiguous) {
            if (op > delivered + slotOp.length) {
                stats.logFull.incrementAndGet();
                return; // its slot still holds an undelivered entry: retransmission brings it again
            }
            if (op == 0) {
                stats.bad.incrementAndGet();
                return;
            }
            store(op, p.clientIpv4(), p.clientPort(), p.request());
            advanceContiguous();
        }
        sendRepl(Wire.encode(new VrMessage.PrepareOk(group.view(), me, contiguous)), group.leader());
        stats.prepareOksSent.incrementAndGet();
        applyCommit(p.commit());
    }

    private void advanceContiguous() {
        int cap = slotOp.length;
        long c = contiguous;
        for (int i = 0; i < BATCH && slotOp[(int) ((c + 1) % cap)] == c + 1; i++) {
            c++;
        }
        contiguous = c;
    }

    private void applyCommit(long c) {
        long nc = Math.max(commit, Math.min(c, contiguous));
        if (nc > commit) {
            commit = nc;
            deliverUpTo(nc);
        }
    }

    private void onPrepareOk(VrMessage.PrepareOk ok) {
        if (ok.op() > contiguous) {
            stats.bad.incrementAndGet();
            return;
        }
        int r = ok.sender();
        if (ok.op() > acked[r]) {
            acked[r] = ok.op();
            advanceCommit();
            checkBacklog();
        }
    }

    private void advanceCommit() {
        int f = group.quorumOthers();
        long c;
        if (f == 0) {
            c = contiguous;
        } else {
            long[] others = new long[group.size() - 1];
            int k = 0;
            for (int r = 0; r < group.size(); r++) {
                if (r != me) {
                    others[k++] = acked[r];
                }
            }
            Arrays.sort(others);
            c = Math.min(contiguous, others[others.length - f]);
        }
        if (c > commit) {
            commit = c;
            deliverUpTo(c);
        }
    }

    private void checkBacklog() {
        boolean high = contiguous - commit > opt.backlogThreshold();
        if (high && !backlogHigh) {
            stats.backlogRounds.incrementAndGet();
            retransmit(Long.MAX_VALUE);
        }
        backlogHigh = high;
    }

    private void deliverUpTo(long c) {
        if (recovery != null) {
            return; // the recovery delivers once the service has caught up
        }
        boolean reply = isLeader();
        while (delivered < c) {
            long op = delivered + 1;
            LogEntry e = entryAt(op);
            if (e == null) {
                LOG.warning("member " + me + ": committed entry " + op + " is not in the log; recovering the service");
                return;
            }
            delivered = op;
            stats.delivered.incrementAndGet();
            runner.deliver(new Delivery(op, e.clientIpv4(), e.clientPort(), e.requestUnsafe(), reply));
        }
    }

    private void tick(long now) {
        if (paused) {
            return;
        }
        if (recovery != null) {
            recovery.tick();
        }
        if (!isLeader()) {
            long silent = now - lastHeardFromLeader;
            if (!leaderSuspected && silent > opt.leaderTimeout().toNanos()) {
                leaderSuspected = true;
                if (listener != null) {
                    try {
                        listener.leaderSilent(this, silent);
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "leader silence listener", e);
                    }
                }
            }
            return;
        }
        if (group.size() > 1) {
            retransmit(now - intervalNanos);
        }
        // Host failure detection: the oldest unanswered delivered entry against failure_threshold * rtt.
        Runner rn = runner;
        long since = rn.executingSince;
        if (!stopped && since != 0) {
            double rtt = rn.rtt;
            long limit = Math.max(opt.failureFloor().toNanos(),
                    Double.isNaN(rtt) ? 0 : (long) (opt.failureThreshold() * rtt));
            long age = now - since;
            if (age > limit && rn.executingSince == since) {
                stopped = true;
                failureDetectedNanos = now;
                stats.hostFailures.incrementAndGet();
                if (listener != null) {
                    try {
                        listener.hostFailed(this, age, rtt, limit);
                    } catch (RuntimeException e) {
                        LOG.log(Level.WARNING, "host failure listener", e);
                    }
                }
            }
        }
    }

    /**
     * Re-sends PREPARE above each member's {@code acked} (at most {@link #BATCH} per member), skipping entries sent
     * after {@code sentBefore} (the timer passes now minus one interval: an entry is re-sent once it has waited a
     * whole interval; the backlog trigger passes "any time"), and COMMIT.
     */
    private void retransmit(long sentBefore) {
        long now = System.nanoTime();
        int n = group.size();
        byte[] commitMsg = Wire.encode(new VrMessage.Commit(group.view(), me, commit));
        for (int r = 0; r < n; r++) {
            if (r == me) {
                continue;
            }
            long to = Math.min(contiguous, acked[r] + BATCH);
            for (long op = acked[r] + 1; op <= to; op++) {
                LogEntry e = entryAt(op);
                if (e == null) {
                    continue; // older than the log: the member needs state transfer
                }
                int slot = (int) (op % slotOp.length);
                long sent = slotSent[slot]; // 0: never sent from here (a new leader); now: re-sent this round
                if (sent != 0 && sent != now && sent - sentBefore > 0) {
                    continue;
                }
                slotSent[slot] = now;
                sendRepl(Wire.encode(new VrMessage.Prepare(group.view(), me, op, commit, e.clientIpv4(),
                        e.clientPort(), e.requestUnsafe())), r);
                stats.retransmits.incrementAndGet();
            }
            sendRepl(commitMsg, r);
            stats.commitsSent.incrementAndGet();
        }
    }

    // ------------------------------------------------------------------------------------------ state transfer

    private record Served(int nonce, long op, byte[] state) {}

    private void onStateRequest(VrMessage.StateRequest r) {
        int from = r.sender();
        if (isLeader() && acked[from] > r.applied()) {
            acked[from] = r.applied(); // it lost its log: retransmission refills it once it has the state
        }
        if (recovery != null) {
            return; // nothing complete to give
        }
        Served s = served.get(from);
        if (s != null && s.nonce == r.nonce()) {
            if (s.state != null) {
                sendChunks(from, s, r.offset());
            }
            return; // a snapshot is being taken
        }
        if (!(runner.service instanceof RecoverableService)) {
            return;
        }
        int nonce = r.nonce();
        served.put(from, new Served(nonce, -1, null));
        runner.snapshot().thenAccept(snap -> post(() -> {
            Served cur = served.get(from);
            if (cur != null && cur.nonce == nonce && cur.state == null) {
                Served done = new Served(nonce, snap.op(), snap.state());
                served.put(from, done);
                sendChunks(from, done, 0);
            }
        }));
    }

    private void sendChunks(int to, Served s, int offset) {
        int total = s.state.length;
        for (int i = 0; i < CHUNKS_PER_REQUEST; i++) {
            int off = offset + i * Wire.MAX_CHUNK;
            if (off >= total && !(total == 0 && i == 0)) {
                break;
            }
            byte[] data = Arrays.copyOfRange(s.state, Math.min(off, total), Math.min(total, off + Wire.MAX_CHUNK));
            sendRepl(Wire.encode(new VrMessage.StateChunk(group.view(), me, s.op, s.nonce, total, off, data)), to);
            stats.stateChunksSent.incrementAndGet();
        }
    }

    /** A service restart ({@code node == false}) or a restarted member ({@code node == true}) catching up. */
    private final class Recovery {
        final CompletableFuture<RecoveryReport> done;
        final long checkpointOp;
        final boolean node;
        int source = -1;
        int nonce;
        int asks;
        int sourcesTried;
        int stalledTicks;
        int ticks;
        long chunkOp = -1;
        byte[] state;
        BitSet have;
        int chunks;
        boolean waitingForService;

        Recovery(CompletableFuture<RecoveryReport> done, long checkpointOp, boolean node) {
            this.done = done;
            this.checkpointOp = checkpointOp;
            this.node = node;
        }

        /** Uses the local log if it holds every entry still needed, else asks another member for its state. */
        void step() {
            if (!node && allInLog(delivered + 1, commit)) {
                finish(-1, 0);
                return;
            }
            nextSource();
        }

        void nextSource() {
            int n = group.size();
            if (source < 0) {
                source = group.leader() != me ? group.leader() : (me + 1) % n;
            } else {
                source = (source + 1) % n;
                if (source == me) {
                    source = (source + 1) % n;
                }
            }
            sourcesTried++;
            nonce = ThreadLocalRandom.current().nextInt();
            asks = 0;
            chunkOp = -1;
            state = null;
            have = null;
            ask(0);
        }

        void ask(int offset) {
            asks++;
            stalledTicks = 0;
            sendRepl(Wire.encode(new VrMessage.StateRequest(group.view(), me, delivered, nonce, offset)), source);
        }

        void onChunk(VrMessage.StateChunk c) {
            if (c.sender() != source || c.nonce() != nonce || waitingForService) {
                return;
            }
            stats.stateChunksReceived.incrementAndGet();
            if (state == null) {
                chunkOp = c.op();
                state = new byte[c.total()];
                chunks = Math.max(1, (c.total() + Wire.MAX_CHUNK - 1) / Wire.MAX_CHUNK);
                have = new BitSet(chunks);
            }
            if (c.op() != chunkOp || c.total() != state.length || c.offset() % Wire.MAX_CHUNK != 0) {
                return;
            }
            int idx = c.offset() / Wire.MAX_CHUNK;
            if (idx >= chunks || have.get(idx)) {
                return;
            }
            byte[] d = c.data();
            System.arraycopy(d, 0, state, c.offset(), d.length);
            have.set(idx);
            stalledTicks = 0;
            if (have.cardinality() == chunks) {
                installed(chunkOp, state);
            } else if (have.nextClearBit(0) >= (idx / CHUNKS_PER_REQUEST + 1) * CHUNKS_PER_REQUEST
                    && have.nextClearBit(0) < chunks) {
                ask(have.nextClearBit(0) * Wire.MAX_CHUNK); // this batch is complete: the next one
            }
        }

        void installed(long op, byte[] snapshot) {
            if (op < delivered || (!node && !allInLog(op + 1, commit))) {
                // Older than what we have, or the gap to our log is not covered: another member may be further.
                nextSourceLater();
                return;
            }
            waitingForService = true;
            long from = delivered;
            runner.restore(op, snapshot);
            delivered = op;
            if (op > contiguous) {
                // The state covers 1 .. op: acknowledge it as held (entries at or below it are never needed again).
                for (int s = 0; s < slotOp.length; s++) {
                    if (slotOp[s] != 0 && slotOp[s] <= op) {
                        clearSlot(s);
                    }
                }
                contiguous = op;
                advanceContiguous();
            }
            commit = Math.max(commit, Math.min(op, contiguous));
            finish(source, op - from);
        }

        private void nextSourceLater() {
            state = null;
            have = null;
            chunkOp = -1;
            stalledTicks = STALL_TICKS * ASKS_PER_SOURCE; // next tick moves on
            asks = ASKS_PER_SOURCE;
        }

        void tick() {
            if (++ticks > RECOVERY_TICKS) {
                recovery = null;
                done.completeExceptionally(new TimeoutException("member " + me + ": recovery made no progress in "
                        + RECOVERY_TICKS + " retransmit intervals (" + sourcesTried + " sources tried)"));
                return;
            }
            if (source < 0 || waitingForService) {
                return;
            }
            if (++stalledTicks >= STALL_TICKS) {
                if (asks >= ASKS_PER_SOURCE) {
                    nextSource();
                } else {
                    ask(have == null ? 0 : have.nextClearBit(0) * Wire.MAX_CHUNK);
                }
            }
        }

        void finish(int from, long transferred) {
            long target = commit;
            long local = 0;
            boolean reply = isLeader();
            for (long op = delivered + 1; op <= target; op++) {
                LogEntry e = entryAt(op);
                if (e == null) {
                    break; // cannot happen after allInLog; the rest is delivered on the next commit
                }
                runner.deliver(new Delivery(op, e.clientIpv4(), e.clientPort(), e.requestUnsafe(), reply));
                delivered = op;
                local++;
                stats.delivered.incrementAndGet();
            }
            RecoveryReport report = new RecoveryReport(checkpointOp, transferred, from, local, delivered);
            recovery = null;
            failureDetectedNanos = 0;
            stopped = false;
            if (node && !isLeader()) {
                sendRepl(Wire.encode(new VrMessage.PrepareOk(group.view(), me, contiguous)), group.leader());
            }
            deliverUpTo(commit);
            runner.marker(() -> done.complete(report));
        }
    }

    private boolean allInLog(long from, long to) {
        for (long op = from; op <= to; op++) {
            if (entryAt(op) == null) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------------------------------ log and sockets

    private void store(long op, int ip, int port, byte[] req) {
        int s = (int) (op % slotOp.length);
        slotOp[s] = op;
        slotIp[s] = ip;
        slotPort[s] = port;
        slotReq[s] = req;
    }

    private void clearSlot(int s) {
        slotOp[s] = 0;
        slotReq[s] = null;
    }

    private LogEntry entryAt(long op) {
        if (op < 1) {
            return null;
        }
        int s = (int) (op % slotOp.length);
        return slotOp[s] == op ? new LogEntry(op, slotIp[s], slotPort[s], slotReq[s]) : null;
    }

    private void sendRepl(byte[] msg, int member) {
        Member m = group.members().get(member);
        try {
            if (replCh.send(ByteBuffer.wrap(msg), new InetSocketAddress(m.address(), group.replicationPort())) == 0) {
                stats.sendFailures.incrementAndGet();
            }
        } catch (IOException e) {
            stats.sendFailures.incrementAndGet();
        }
    }

    private void sendClient(byte[] reply, InetSocketAddress to) {
        try {
            if (clientCh.send(ByteBuffer.wrap(reply), to) == 0) {
                stats.sendFailures.incrementAndGet();
            }
        } catch (IOException e) {
            stats.sendFailures.incrementAndGet();
        }
    }

    static int ipv4(Inet4Address a) {
        byte[] b = a.getAddress();
        return ((b[0] & 0xff) << 24) | ((b[1] & 0xff) << 16) | ((b[2] & 0xff) << 8) | (b[3] & 0xff);
    }

    static InetAddress ipv4(int ip) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8),
                    (byte) ip});
        } catch (UnknownHostException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------------------------------ service thread

    private record Delivery(long op, int ip, int port, byte[] request, boolean reply) {}

    /** Executes committed entries in op order on its own thread; the leader's replies leave from here. */
    private final class Runner {
        final ReplicatedService service;
        final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        final Thread thread;
        volatile boolean abandoned;
        volatile long applied;
        volatile long executingSince; // System.nanoTime() when the current execute() began; 0 when idle
        volatile double rtt = Double.NaN;

        Runner(ReplicatedService service, long applied) {
            this.service = service;
            this.applied = applied;
            this.thread = Thread.ofPlatform().daemon().name("vr-service-" + me + "-" + group.port())
                    .unstarted(this::run);
        }

        void start() {
            thread.start();
        }

        void deliver(Delivery d) {
            queue.add(d);
        }

        void marker(Runnable r) {
            queue.add(r);
        }

        void restore(long op, byte[] state) {
            queue.add(new Snapshot(op, state));
        }

        CompletableFuture<Snapshot> snapshot() {
            CompletableFuture<Snapshot> f = new CompletableFuture<>();
            if (!(service instanceof RecoverableService)) {
                f.completeExceptionally(new UnsupportedOperationException("the service cannot take snapshots"));
            } else {
                queue.add(f);
            }
            return f;
        }

        void abandon() {
            abandoned = true;
            queue.add(Boolean.FALSE); // wakes it; never interrupt: an interrupt would close the client socket
        }

        @SuppressWarnings("unchecked")
        private void run() {
            while (!abandoned) {
                Object task;
                try {
                    task = queue.take();
                } catch (InterruptedException e) {
                    return;
                }
                if (abandoned) {
                    return;
                }
                try {
                    switch (task) {
                        case Delivery d -> execute(d);
                        case Snapshot s -> {
                            ((RecoverableService) service).restore(s.state());
                            applied = s.op();
                        }
                        case CompletableFuture<?> f -> ((CompletableFuture<Snapshot>) f)
                                .complete(new Snapshot(applied, ((RecoverableService) service).snapshot()));
                        case Runnable r -> r.run();
                        default -> { }
                    }
                } catch (RuntimeException e) {
                    LOG.log(Level.WARNING, "member " + me + ": service failed", e);
                    if (task instanceof CompletableFuture<?> f) {
                        f.completeExceptionally(e);
                    }
                }
            }
        }

        private void execute(Delivery d) {
            InetSocketAddress client = new InetSocketAddress(ipv4(d.ip()), d.port());
            long start = System.nanoTime();
            executingSince = start;
            byte[] reply;
            try {
                reply = service.execute(d.op(), client, d.request());
            } finally {
                long sample = System.nanoTime() - start;
                executingSince = 0;
                double r = rtt;
                rtt = Double.isNaN(r) ? sample : 0.8 * r + 0.2 * sample;
            }
            if (abandoned) {
                return; // a restarted instance replaced this one: its reply must not leave
            }
            applied = d.op();
            if (d.reply() && reply != null && lastReplied.get() < d.op()) {
                lastReplied.set(d.op());
                stats.replies.incrementAndGet(); // before the send: a client that has its reply sees it counted
                sendClient(reply, client);
            }
        }
    }
}
