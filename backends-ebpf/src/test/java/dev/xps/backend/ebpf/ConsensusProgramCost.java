package dev.xps.backend.ebpf;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.xps.consensus.wire.VrMessage;
import dev.xps.testing.SampleFiles;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The kernel time of the consensus data plane's programs per run, with BPF_PROG_TEST_RUN (issue 6): not a test,
 * a measurement. Loads the timestamp-server's consensus object (log of 4096 slots, as {@link ConsensusDataPlaneTest})
 * and runs, per scenario, {@code --rounds} rounds of {@code --runs} runs; prints the median over the rounds of the
 * mean ns per run (the kernel's own {@code duration} of each BPF_PROG_TEST_RUN), with the rounds' min and max.
 *
 * <p>Not {@code repeat}: the programs rewrite the frame in place (PREPARE into PREPAREOK, a client request into
 * PREPARE to another port) and keep state (a PREPARE seen twice is a retransmission), so from its second repetition
 * on a repeated run measures another path. Every scenario is therefore a <b>loop of single runs</b> ({@code repeat
 * 1}, one {@code bpf(BPF_PROG_TEST_RUN)} call each through {@code java.lang.foreign}, no process per run), each on
 * a fresh frame with the next op, and the kernel's durations are summed. Ops continue across rounds. Scenarios:
 * <ul>
 *   <li>{@code replica-prepare}: the replica's XDP on PREPARE(op, commit op - 1), op = 1, 2, ...: stored, the
 *       contiguous prefix advances by one, the piggy-backed commit rises by one, PREPAREOK (XDP_TX). Measured with
 *       a host <b>waiting</b> on the ring buffer (a thread in epoll_wait that drains it at once, as the agent's event
 *       thread does: this is what the benchmark's replicas run) and with <b>no</b> host waiting.</li>
 *   <li>{@code replica-duplicate}: one PREPARE sent again and again: the retransmission path.</li>
 *   <li>{@code leader-ingress}: the leader's TC ingress on client requests: number, log, PREPARE to the two other
 *       members by {@code bpf_clone_redirect} to {@code --ifindex} (the script gives it a veth whose peer is down, in
 *       a private network namespace, so each copy is really cloned and transmitted, and dropped by veth; with the
 *       default ifindex 0 the clones fail before cloning). {@code leader-ingress (no clone)}: ifindex 0, the
 *       program's own work without the two clones.</li>
 *   <li>{@code leader-prepareok-commit}: the leader's XDP on PREPAREOK(op) from member 1 for the ops the ingress
 *       numbered: each commits one entry (stamp, "commit is now C" event), host waiting.
 *       {@code leader-prepareok-late}: the same ops from member 2 afterwards: acked rises, the commit does not.</li>
 * </ul>
 * Run it with {@code bench/consensus-prog-cost} (root: loads BPF programs); results in docs/benchmarks.md, consensus-vr.
 */
final class ConsensusProgramCost {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MemoryLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle SYSCALL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), Linker.Option.captureCallState("errno"));
    private static final MethodHandle MMAP = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle EPOLL_CREATE1 = LINKER.downcallHandle(
            LINKER.defaultLookup().find("epoll_create1").orElseThrow(), FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle EPOLL_CTL = LINKER.downcallHandle(
            LINKER.defaultLookup().find("epoll_ctl").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle EPOLL_WAIT = LINKER.downcallHandle(
            LINKER.defaultLookup().find("epoll_wait").orElseThrow(),
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final VarHandle LONG_AT = JAVA_LONG.varHandle();

    private static final long SYS_BPF = switch (System.getProperty("os.arch")) {
        case "amd64", "x86_64" -> 321;
        case "aarch64" -> 280;
        default -> throw new IllegalStateException("bpf syscall number unknown for " + System.getProperty("os.arch"));
    };
    private static final int BPF_OBJ_GET = 7;
    private static final int BPF_PROG_TEST_RUN = 10;
    private static final int ATTR_BYTES = 128;
    private static final int PAGE = 4096;

    private final Arena arena = Arena.ofShared();
    private final MemorySegment attr = arena.allocate(ATTR_BYTES, 8);
    private final MemorySegment capture = arena.allocate(CAPTURE);
    private final MemorySegment in = arena.allocate(2048, 8);
    private final MemorySegment out = arena.allocate(2048, 8);
    private final int xdp;
    private final int ingress;
    private final MemorySegment consumerPos;
    private final MemorySegment producerPos;
    private final int ringFd;
    private int lastRetval;

    private ConsensusProgramCost(Bpftool.Pins pins) throws Throwable {
        xdp = objGet(pins.program("vr_timestamps_xdp"));
        ingress = objGet(pins.program("vr_timestamps_ingress"));
        ringFd = objGet(pins.map("vr_timestamps_events"));
        consumerPos = mmap(ringFd, PAGE, 0x1 | 0x2, 0);
        producerPos = mmap(ringFd, PAGE, 0x1, PAGE);
    }

    public static void main(String[] args) throws Throwable {
        int rounds = 7;
        int runs = 2000;
        int ifindex = 0;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--ifindex" -> ifindex = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("usage: [--rounds R] [--runs K<=4000] [--ifindex N]");
            }
        }
        if (runs > 4000) {
            throw new IllegalArgumentException("--runs at most 4000 (the test log has 4096 slots)");
        }
        ConsensusDataPlaneTest.dir = Files.createTempDirectory("xps-vr-cost-");
        ConsensusDataPlaneTest.pins = ConsensusDataPlaneTest.build(SampleFiles.dir().resolve("timestamp-server.xps"),
                "cost");
        try {
            new ConsensusProgramCost(ConsensusDataPlaneTest.pins).measure(rounds, runs, ifindex);
        } finally {
            ConsensusDataPlaneTest.pins.close();
            Clang.deleteTree(ConsensusDataPlaneTest.dir);
        }
    }

    private void measure(int rounds, int runs, int ifindex) throws Throwable {
        System.out.printf(Locale.ROOT, "consensus data plane, BPF_PROG_TEST_RUN: %d rounds x %d runs, kernel %s, "
                + "clones to ifindex %d%s%n", rounds, runs, System.getProperty("os.version"), ifindex,
                ifindex == 0 ? " (none: clones fail before cloning)" : "");
        System.out.printf(Locale.ROOT, "%-28s %10s %10s %10s  %s%n", "scenario", "median ns", "min", "max", "check");
        report("replica-prepare (host waits)", rounds, () -> replicaPrepares(runs, true));
        report("replica-prepare (no host)", rounds, () -> replicaPrepares(runs, false));
        report("replica-duplicate", rounds, () -> replicaDuplicates(runs));
        report("leader-ingress", rounds, () -> leaderIngress(runs, ifindex, null));
        if (ifindex != 0) {
            report("leader-ingress (no clone)", rounds, () -> leaderIngress(runs, 0, null));
        }
        double[] late = new double[rounds]; // measured in the same rounds, after the committing ones
        int[] round = {0};
        report("leader-prepareok-commit", rounds, () -> {
            double[] r = new double[2];
            leaderIngress(runs, ifindex, r);
            late[round[0]++] = r[1];
            return new Result(r[0], lastCheck);
        });
        print("leader-prepareok-late", late, lastCheck);
    }

    private String lastCheck = "";

    record Result(double nsPerRun, String check) {}

    interface Round {
        Result run() throws Throwable;
    }

    private void report(String name, int rounds, Round r) throws Throwable {
        double[] ns = new double[rounds];
        String check = "";
        for (int i = 0; i < rounds; i++) {
            Result x = r.run();
            ns[i] = x.nsPerRun();
            check = x.check();
        }
        print(name, ns, check);
    }

    private static void print(String name, double[] ns, String check) {
        double[] s = ns.clone();
        Arrays.sort(s);
        System.out.printf(Locale.ROOT, "%-28s %10.0f %10.0f %10.0f  %s%n", name, s[s.length / 2], s[0],
                s[s.length - 1], check);
    }

    // ------------------------------------------------------------------ scenarios

    private Result replicaPrepares(int runs, boolean hostWaits) throws Throwable {
        ConsensusDataPlaneTest.configure(1);
        setState();
        drain();
        long before = ConsensusDataPlaneTest.counter("duplicates");
        Consumer consumer = hostWaits ? new Consumer() : null;
        long total = 0;
        int wrong = 0;
        try {
            for (long op = base + 1; op <= base + runs; op++) {
                total += testRun(xdp, prepareFrame(op, op - 1), 1);
                if (lastRetval != ConsensusDataPlaneTest.XDP_TX) {
                    wrong++;
                }
            }
        } finally {
            if (consumer != null) {
                consumer.close();
            }
        }
        drain();
        ByteBuffer st = ConsensusDataPlaneTest.state();
        base += runs;
        String check = "contiguous +" + (st.getLong(16) - base + runs) + ", commit +" + (st.getLong(8) - base + runs)
                + ", duplicates "
                + (ConsensusDataPlaneTest.counter("duplicates") - before) + ", not XDP_TX " + wrong
                + (consumer != null ? ", host woken " + consumer.wakeups + "x" : "");
        return new Result((double) total / runs, check);
    }

    private Result replicaDuplicates(int runs) throws Throwable {
        ConsensusDataPlaneTest.configure(1);
        setState();
        byte[] first = prepareFrame(base + 1, base);
        testRun(xdp, first, 1);
        long before = ConsensusDataPlaneTest.counter("duplicates");
        long total = 0;
        for (int i = 0; i < runs; i++) {
            total += testRun(xdp, first, 1);
        }
        drain();
        String check = "duplicates " + (ConsensusDataPlaneTest.counter("duplicates") - before) + ", retval "
                + lastRetval;
        base += 1;
        return new Result((double) total / runs, check);
    }

    /** Numbers {@code runs} requests; with {@code prepareOks} non-null, then acknowledges them (leader XDP). */
    private Result leaderIngress(int runs, int ifindex, double[] prepareOks) throws Throwable {
        ConsensusDataPlaneTest.configure(0);
        ByteBuffer c = ByteBuffer.wrap(Bpftool.lookup(ConsensusDataPlaneTest.pins.map("vr_timestamps_config"),
                ConsensusDataPlaneTest.key()).orElseThrow()).order(ByteOrder.LITTLE_ENDIAN);
        c.putInt(20, ifindex);
        Bpftool.update(ConsensusDataPlaneTest.pins.map("vr_timestamps_config"), ConsensusDataPlaneTest.key(), c.array());
        setState();
        drain();
        long sent = ConsensusDataPlaneTest.counter("prepares_sent");
        long failed = ConsensusDataPlaneTest.counter("send_failed");
        long total = 0;
        int wrong = 0;
        for (int i = 1; i <= runs; i++) {
            byte[] frame = ConsensusDataPlaneTest.frame(ConsensusDataPlaneTest.MAC1, ConsensusDataPlaneTest.LEADER_MAC,
                    ConsensusDataPlaneTest.CLIENT_IP, ConsensusDataPlaneTest.LEADER_IP, ConsensusDataPlaneTest.CLIENT_PORT,
                    ConsensusDataPlaneTest.PORT, new byte[] {1, 0, 0, (byte) (i >> 8), (byte) i});
            total += testRun(ingress, frame, 1);
            if (lastRetval != ConsensusDataPlaneTest.TC_ACT_SHOT) {
                wrong++;
            }
        }
        String check = "last_op +" + (ConsensusDataPlaneTest.state().getLong(0) - base) + ", sent "
                + (ConsensusDataPlaneTest.counter("prepares_sent") - sent) + ", send_failed "
                + (ConsensusDataPlaneTest.counter("send_failed") - failed) + ", not SHOT " + wrong;
        if (prepareOks == null) {
            base += runs;
            return new Result((double) total / runs, check);
        }
        long commits = ConsensusDataPlaneTest.counter("commits");
        Consumer consumer = new Consumer();
        long commitNs = 0;
        long lateNs = 0;
        try {
            commitNs = prepareOks(runs, 1, ConsensusDataPlaneTest.MAC1, ConsensusDataPlaneTest.IP1);
            lateNs = prepareOks(runs, 2, ConsensusDataPlaneTest.MAC2, ConsensusDataPlaneTest.IP2);
        } finally {
            consumer.close();
        }
        drain();
        prepareOks[0] = (double) commitNs / runs;
        prepareOks[1] = (double) lateNs / runs;
        lastCheck = "commit +" + (ConsensusDataPlaneTest.state().getLong(8) - base) + ", commits announced "
                + (ConsensusDataPlaneTest.counter("commits") - commits) + ", host woken " + consumer.wakeups + "x";
        base += runs;
        return new Result(prepareOks[0], lastCheck);
    }

    private long prepareOks(int runs, int member, byte[] mac, int ip) throws Throwable {
        long total = 0;
        for (long op = base + 1; op <= base + runs; op++) {
            byte[] frame = ConsensusDataPlaneTest.frame(mac, ConsensusDataPlaneTest.LEADER_MAC, ip,
                    ConsensusDataPlaneTest.LEADER_IP, ConsensusDataPlaneTest.PORT + 1,
                    dev.xps.consensus.wire.Wire.encode(new VrMessage.PrepareOk(0, member, op)));
            total += testRun(xdp, frame, 1);
        }
        return total;
    }

    /**
     * Ops continue across rounds (a log slot still holding op x from an earlier round must not be taken for the
     * current op x): every round starts from state last_op = commit = contiguous = answered = acked[*] = base.
     */
    private long base;

    private void setState() throws Throwable {
        ByteBuffer st = ByteBuffer.allocate(ConsensusDataPlaneTest.stateSize()).order(ByteOrder.LITTLE_ENDIAN);
        st.putLong(0, base).putLong(8, base).putLong(16, base).putLong(24, base);
        for (int r = 0; r < 3; r++) {
            st.putLong(48 + 8 * r, base);
        }
        Bpftool.update(ConsensusDataPlaneTest.pins.map("vr_timestamps_state"), ConsensusDataPlaneTest.key(), st.array());
    }

    private static byte[] prepareFrame(long op, long commit) {
        return ConsensusDataPlaneTest.frame(ConsensusDataPlaneTest.LEADER_MAC, ConsensusDataPlaneTest.MAC1,
                ConsensusDataPlaneTest.LEADER_IP, ConsensusDataPlaneTest.IP1, ConsensusDataPlaneTest.PORT + 1,
                dev.xps.consensus.wire.Wire.encode(ConsensusDataPlaneTest.prepare(op, commit)));
    }

    // ------------------------------------------------------------------ the ring buffer's consumer

    /** Discards every event (consumer position = producer position). */
    private void drain() {
        LONG_AT.setVolatile(consumerPos, 0L, (long) LONG_AT.getVolatile(producerPos, 0L));
    }

    /** A host waiting for events: a thread in epoll_wait on the ring buffer that drains it when woken. */
    private final class Consumer implements AutoCloseable {
        volatile boolean running = true;
        volatile long wakeups;
        final Thread thread;

        Consumer() throws Throwable {
            int ep = (int) EPOLL_CREATE1.invokeExact(0);
            MemorySegment ev = arena.allocate(16, 8);
            ev.set(JAVA_INT, 0, 0x1); // EPOLLIN; data unused
            if ((int) EPOLL_CTL.invokeExact(ep, 1, ringFd, ev) != 0) {
                throw new IllegalStateException("epoll_ctl failed");
            }
            drain();
            thread = Thread.ofPlatform().daemon().name("ring-consumer").start(() -> {
                MemorySegment events = arena.allocate(16 * 4, 8);
                try {
                    while (running) {
                        int n = (int) EPOLL_WAIT.invokeExact(ep, events, 4, 50);
                        if (n > 0) {
                            wakeups++;
                        }
                        drain();
                    }
                } catch (Throwable t) {
                    throw new IllegalStateException(t);
                }
            });
            Thread.sleep(20); // in epoll_wait before the first run
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join();
        }
    }

    // ------------------------------------------------------------------ bpf(2)

    /** One BPF_PROG_TEST_RUN; returns the kernel's duration (mean ns per repetition). */
    private long testRun(int progFd, byte[] packet, int repeat) throws Throwable {
        attr.fill((byte) 0);
        MemorySegment.copy(packet, 0, in, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, packet.length);
        attr.set(JAVA_INT, 0, progFd);
        attr.set(JAVA_INT, 8, packet.length);
        attr.set(JAVA_INT, 12, (int) out.byteSize());
        attr.set(JAVA_LONG, 16, in.address());
        attr.set(JAVA_LONG, 24, out.address());
        attr.set(JAVA_INT, 32, repeat);
        bpf(BPF_PROG_TEST_RUN, "BPF_PROG_TEST_RUN");
        lastRetval = attr.get(JAVA_INT, 4);
        return Integer.toUnsignedLong(attr.get(JAVA_INT, 36));
    }

    private int objGet(Path pinned) throws Throwable {
        MemorySegment path = arena.allocateFrom(pinned.toString());
        attr.fill((byte) 0);
        attr.set(JAVA_LONG, 0, path.address());
        return (int) bpf(BPF_OBJ_GET, "BPF_OBJ_GET " + pinned);
    }

    private long bpf(int cmd, String what) throws Throwable {
        long r = (long) SYSCALL.invokeExact(capture, SYS_BPF, (long) cmd, attr, (long) ATTR_BYTES);
        if (r < 0) {
            throw new IllegalStateException(what + " failed: errno " + (int) ERRNO.get(capture, 0L));
        }
        return r;
    }

    private MemorySegment mmap(int fd, long size, int prot, long offset) throws Throwable {
        MemorySegment p = (MemorySegment) MMAP.invokeExact(MemorySegment.NULL, size, prot, 0x01 /* MAP_SHARED */, fd,
                offset);
        if (p.address() == -1L) {
            throw new IllegalStateException("mmap of the ring buffer failed");
        }
        return p.reinterpret(size);
    }
}
