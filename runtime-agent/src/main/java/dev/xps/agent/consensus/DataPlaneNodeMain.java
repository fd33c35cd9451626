package dev.xps.agent.consensus;

import dev.xps.agent.bpf.BpfException;
import dev.xps.agent.bpf.Preflight;
import dev.xps.agent.bpf.PreflightException;
import dev.xps.agent.bpf.XdpMode;
import dev.xps.consensus.Group;
import dev.xps.consensus.Member;
import dev.xps.consensus.UnorderedHandler;
import dev.xps.consensus.service.TimestampService;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code xps consensus-node}: one member of a VR group whose normal case runs in the eBPF data plane
 * (docs/consensus.md), as a process: loads the block's consensus object with {@link ConsensusDataPlane}, attaches
 * it to an interface of the current network namespace, installs the group ({@code updateReplica}), runs the
 * replicated timestamp service ({@link TimestampService}) behind it and runs until killed; on SIGTERM it prints
 * its numbers, detaches and unloads (a shutdown hook).
 *
 * <pre>
 * xps consensus-node ARTIFACT_DIR --members IP,IP,IP --macs MAC,MAC,MAC --index I --interface IF
 *                    [--block NAME] [--view V] [--log-capacity N] [--xdp-mode native|generic|auto]
 *                    [--retransmit-ms 10] [--failure-floor-ms 50] [--stats-every-ms 0]
 *                    [--on-failure stop|resume] [--leader-timeout-ms 0] [--pin DIR]
 *                    [--supervise [--checkpoint-ms 1000] [--stall-ms 0]] [--rejoin]
 * xps consensus-node ARTIFACT_DIR --pin DIR --unload
 * </pre>
 *
 * With {@code --rejoin} a replica whose data plane was lost (its machine restarted; it was not pinned) comes back
 * into a running group: a new data plane, the service's state by state transfer, REJOIN to the leader
 * ({@link ConsensusDataPlane#rejoin}); give {@code --view} the group's current view. (With {@code --pin} over a
 * data plane that survived, re-adoption is used instead.)
 *
 * With {@code --supervise} a {@link ServiceSupervisor} keeps a checkpoint of the service every
 * {@code --checkpoint-ms} and restarts it from there (then the data-plane log, then state transfer) when the leader's
 * data plane reports a host failure, when delivery falls behind what the log holds, or — with {@code --stall-ms N}
 * (N &gt; 0) — when delivery makes no progress for N ms while committed entries wait (a replica's hung service).
 * Each recovery is printed ({@code consensus-node: recovered the service: ...}).
 *
 * With {@code --pin DIR} (a directory on a BPF filesystem, e.g. {@code /sys/fs/bpf/xps/vr-m0}) the data plane is
 * pinned there (docs/consensus.md, "Pinned data planes"): on SIGTERM the process exits and leaves it running (replicas
 * keep acknowledging; a leader keeps ordering until its host-failure detector stops it); started again with the same
 * {@code --pin}, it re-adopts the pins (checked against the manifest), keeps the pinned view, and brings a fresh
 * service up to date from the pinned log (then by state transfer) before serving. {@code --pin DIR --unload} detaches
 * and removes that data plane and exits.
 *
 * With {@code --leader-timeout-ms T} (T &gt; 0) the member takes part in the host-side view change
 * (docs/consensus.md, "View change on the data plane"): a replica that hears nothing from its leader for T ms starts
 * one; the new view is printed ({@code consensus-node: view V, leader L}).
 *
 * A host failure the leader's data plane detects is printed ({@code consensus-node: host failure N: op ...});
 * with {@code --on-failure stop} (the default) ordering stays stopped, with {@code resume} the flag is cleared at
 * once (the false-positive measurement, bench/scenarios/consensus-fd.sh: a healthy service keeps serving and every
 * detection is counted).
 *
 * ARTIFACT_DIR is {@code xpsc compile X.xps --target ebpf -o DIR}'s DIR, its {@code ebpf/<base>} directory, or the
 * {@code <base>.manifest.json} itself. The member's reply socket is bound to its address and the block's port P
 * (the leader answers clients from it; PROBEs, which the data plane does not order, are answered there too); the
 * agent's retransmissions leave from a second socket on the same address. Exit codes: 1 the kernel or the
 * artifact refused, 2 usage (no stack traces). It is the benchmark's data-plane member (bench/scenarios/consensus-vr.sh).
 */
public final class DataPlaneNodeMain {
    static final String USAGE = """
            usage: xps consensus-node ARTIFACT_DIR --members IP,IP,IP --macs MAC,MAC,MAC --index I --interface IF
                                      [--block NAME] [--view V] [--log-capacity N] [--xdp-mode native|generic|auto]
                                      [--retransmit-ms 10] [--failure-floor-ms 50] [--stats-every-ms 0]
                                      [--on-failure stop|resume] [--leader-timeout-ms 0] [--pin DIR]
                                      [--supervise [--checkpoint-ms 1000] [--stall-ms 0]] [--rejoin]
                   xps consensus-node ARTIFACT_DIR --pin DIR --unload
              runs member I of a consensus group on the eBPF data plane of ARTIFACT_DIR (xpsc --target ebpf -o DIR)
              attached to interface IF of the current network namespace, with the replicated timestamp service,
              until killed (SIGTERM detaches and unloads; with --pin DIR the data plane is pinned under DIR, SIGTERM
              leaves it running and a later run with the same --pin re-adopts it and catches up; --unload removes it);
              --supervise restarts a failed or stalled service from its last checkpoint; --rejoin brings a replica that
              lost its data plane back into a running group by state transfer (docs/consensus.md)
            """;

    /** A usage error: exit 2 with the message and the usage text. */
    static final class Usage extends RuntimeException {
        Usage(String m) {
            super(m);
        }
    }

    /** The parsed command line. */
    record Args(Path manifest, String block, List<Inet4Address> members, List<byte[]> macs, int index,
                String iface, int view, long logCapacity, XdpMode xdpMode, Duration retransmit,
                Duration failureFloor, long statsEveryMs, boolean resumeAfterFailure, Duration leaderTimeout,
                Path pin, boolean unload, Duration checkpointEvery, Duration stallLimit, boolean rejoin) {
        /** Whether a {@link ServiceSupervisor} runs ({@code --supervise}). */
        boolean supervised() {
            return !checkpointEvery.isZero();
        }

        Group group(int port) {
            List<Member> ms = new ArrayList<>();
            for (int i = 0; i < members.size(); i++) {
                ms.add(new Member(i, members.get(i), macs.get(i)));
            }
            return new Group(view, ms, port);
        }
    }

    private DataPlaneNodeMain() {}

    public static void main(String[] argv) {
        System.exit(run(List.of(argv), System.out, System.err));
    }

    /** Runs the command; returns when the process is being stopped (or at once with 1 or 2 on an error). */
    public static int run(List<String> argv, PrintStream out, PrintStream err) {
        Args a;
        try {
            a = parse(argv);
        } catch (Usage e) {
            err.println("xps: consensus-node: " + e.getMessage());
            err.print(USAGE);
            return 2;
        }
        if (a == null) {
            out.print(USAGE);
            return 0;
        }
        try {
            return serve(a, out, err);
        } catch (IllegalArgumentException | IllegalStateException | PreflightException | BpfException
                 | UncheckedIOException | IOException e) {
            err.println("xps: consensus-node: " + e.getMessage());
            return 1;
        }
    }

    /** Parses the arguments; null for --help. */
    static Args parse(List<String> argv) {
        List<String> args = new ArrayList<>(argv);
        Path artifact = null;
        String block = null;
        String members = null;
        String macs = null;
        Integer index = null;
        String iface = null;
        int view = 0;
        long logCapacity = 0;
        XdpMode mode = XdpMode.AUTO;
        long retransmitMs = 10;
        long floorMs = 50;
        long statsEveryMs = 0;
        boolean resume = false;
        long leaderTimeoutMs = 0;
        Path pin = null;
        boolean unload = false;
        boolean supervise = false;
        boolean rejoin = false;
        Long checkpointMs = null;
        Long stallMs = null;
        while (!args.isEmpty()) {
            String o = args.removeFirst();
            if (o.equals("--help") || o.equals("-h")) {
                return null;
            }
            if (o.equals("--unload")) {
                unload = true;
                continue;
            }
            if (o.equals("--supervise")) {
                supervise = true;
                continue;
            }
            if (o.equals("--rejoin")) {
                rejoin = true;
                continue;
            }
            if (!o.startsWith("--")) {
                if (artifact != null) {
                    throw new Usage("one ARTIFACT_DIR only, got '" + artifact + "' and '" + o + "'");
                }
                artifact = Path.of(o);
                continue;
            }
            if (args.isEmpty()) {
                throw new Usage("missing value for " + o);
            }
            String v = args.removeFirst();
            switch (o) {
                case "--members" -> members = v;
                case "--macs" -> macs = v;
                case "--index" -> index = integer(o, v, 0, 255);
                case "--interface" -> iface = v;
                case "--block" -> block = v;
                case "--view" -> view = integer(o, v, 0, Integer.MAX_VALUE);
                case "--log-capacity" -> logCapacity = number(o, v, 0, Integer.MAX_VALUE);
                case "--xdp-mode" -> mode = switch (v.toLowerCase(Locale.ROOT)) {
                    case "native" -> XdpMode.NATIVE;
                    case "generic" -> XdpMode.GENERIC;
                    case "auto" -> XdpMode.AUTO;
                    default -> throw new Usage("--xdp-mode must be native, generic or auto, got '" + v + "'");
                };
                case "--retransmit-ms" -> retransmitMs = number(o, v, 1, 60_000);
                case "--failure-floor-ms" -> floorMs = number(o, v, 0, 3_600_000);
                case "--stats-every-ms" -> statsEveryMs = number(o, v, 0, 3_600_000);
                case "--leader-timeout-ms" -> leaderTimeoutMs = number(o, v, 0, 3_600_000);
                case "--pin" -> pin = Path.of(v);
                case "--checkpoint-ms" -> checkpointMs = number(o, v, 1, 3_600_000);
                case "--stall-ms" -> stallMs = number(o, v, 0, 3_600_000);
                case "--on-failure" -> resume = switch (v) {
                    case "stop" -> false;
                    case "resume" -> true;
                    default -> throw new Usage("--on-failure must be stop or resume, got '" + v + "'");
                };
                default -> throw new Usage("unknown option " + o);
            }
        }
        if (artifact == null) {
            throw new Usage("missing ARTIFACT_DIR");
        }
        if (!supervise && (checkpointMs != null || stallMs != null)) {
            throw new Usage((checkpointMs != null ? "--checkpoint-ms" : "--stall-ms") + " needs --supervise");
        }
        if (supervise && resume) {
            throw new Usage("--supervise and --on-failure resume exclude each other (the supervisor restarts the"
                    + " service on a failure; resume ignores it)");
        }
        Duration checkpointEvery = supervise ? Duration.ofMillis(checkpointMs != null ? checkpointMs : 1000)
                : Duration.ZERO;
        Duration stallLimit = Duration.ofMillis(stallMs != null ? stallMs : 0);
        if (unload) {
            if (rejoin) {
                throw new Usage("--rejoin and --unload exclude each other");
            }
            if (pin == null) {
                throw new Usage("--unload needs --pin DIR (the pinned data plane to remove)");
            }
            if (members != null || macs != null || index != null || iface != null) {
                throw new Usage("--unload takes only ARTIFACT_DIR, --pin DIR and --block NAME");
            }
            return new Args(artifact, block, List.of(), List.of(), 0, null, view, logCapacity, mode,
                    Duration.ofMillis(retransmitMs), Duration.ofMillis(floorMs), statsEveryMs, resume,
                    Duration.ofMillis(leaderTimeoutMs), pin, true, checkpointEvery, stallLimit, false);
        }
        if (members == null) {
            throw new Usage("--members is required");
        }
        if (macs == null) {
            throw new Usage("--macs is required (the data plane writes frames to the members' MAC addresses)");
        }
        if (index == null) {
            throw new Usage("--index is required");
        }
        if (iface == null) {
            throw new Usage("--interface is required");
        }
        List<Inet4Address> ips = new ArrayList<>();
        for (String m : members.split(",")) {
            ips.add(ipv4(m.trim()));
        }
        List<byte[]> macList = new ArrayList<>();
        for (String m : macs.split(",")) {
            macList.add(mac(m.trim()));
        }
        if (macList.size() != ips.size()) {
            throw new Usage("--macs lists " + macList.size() + " addresses, --members " + ips.size());
        }
        if (ips.size() < 1) {
            throw new Usage("--members lists no member");
        }
        if (index >= ips.size()) {
            throw new Usage("--index must be 0.." + (ips.size() - 1) + ", got " + index);
        }
        return new Args(artifact, block, ips, macList, index, iface, view, logCapacity, mode,
                Duration.ofMillis(retransmitMs), Duration.ofMillis(floorMs), statsEveryMs, resume,
                Duration.ofMillis(leaderTimeoutMs), pin, false, checkpointEvery, stallLimit, rejoin);
    }

    private static int integer(String o, String v, int min, int max) {
        return (int) number(o, v, min, max);
    }

    private static long number(String o, String v, long min, long max) {
        long n;
        try {
            n = Long.parseLong(v.replace("_", ""));
        } catch (NumberFormatException e) {
            throw new Usage(o + " needs a number, got '" + v + "'");
        }
        if (n < min || n > max) {
            throw new Usage(o + " must be " + min + ".." + max + ", got " + n);
        }
        return n;
    }

    private static Inet4Address ipv4(String s) {
        if (!s.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}")) {
            throw new Usage("not an IPv4 address: '" + s + "'");
        }
        try {
            if (InetAddress.getByName(s) instanceof Inet4Address a) {
                return a;
            }
        } catch (UnknownHostException e) {
            // below
        }
        throw new Usage("not an IPv4 address: '" + s + "'");
    }

    private static byte[] mac(String s) {
        if (!s.matches("[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}")) {
            throw new Usage("not a MAC address (aa:bb:cc:dd:ee:ff): '" + s + "'");
        }
        return HexFormat.ofDelimiter(":").parseHex(s);
    }

    /**
     * The manifest for ARTIFACT_DIR: the file itself, the only {@code *.manifest.json} in the directory, or the
     * only one in its {@code ebpf/*} directories.
     */
    static Path manifest(Path artifact) throws IOException {
        if (Files.isRegularFile(artifact)) {
            return artifact;
        }
        if (!Files.isDirectory(artifact)) {
            throw new IllegalArgumentException("no such artifact directory: " + artifact);
        }
        List<Path> found = manifests(artifact);
        Path ebpf = artifact.resolve("ebpf");
        if (found.isEmpty() && Files.isDirectory(ebpf)) {
            try (Stream<Path> dirs = Files.list(ebpf)) {
                for (Path d : dirs.filter(Files::isDirectory).sorted().toList()) {
                    found.addAll(manifests(d));
                }
            }
        }
        if (found.size() != 1) {
            throw new IllegalArgumentException((found.isEmpty() ? "no" : found.size()) + " *.manifest.json under "
                    + artifact + (found.isEmpty() ? " (compile with xpsc compile X.xps --target ebpf -o DIR)"
                    : ": name one " + found));
        }
        return found.getFirst();
    }

    private static List<Path> manifests(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.filter(p -> p.getFileName().toString().endsWith(".manifest.json")).sorted()
                    .toList());
        }
    }

    private static int serve(Args a, PrintStream out, PrintStream err) throws IOException {
        Path manifest = manifest(a.manifest());
        if (a.unload()) {
            boolean was = ConsensusDataPlane.unload(a.pin(), manifest, a.block());
            out.println("consensus-node: " + (was ? "unloaded the data plane pinned at " : "nothing pinned at ")
                    + a.pin());
            return 0;
        }
        int ifindex = Preflight.ifindex(a.iface());
        ConsensusDataPlane.Options options = ConsensusDataPlane.Options.defaults().withLogSlots(a.logCapacity())
                .withXdpMode(a.xdpMode()).withRetransmitInterval(a.retransmit()).withFailureFloor(a.failureFloor())
                .withLeaderTimeout(a.leaderTimeout()).withPinDir(a.pin());
        ConsensusDataPlane dp = ConsensusDataPlane.loadOrAdopt(manifest, a.block(), options);
        DatagramChannel replies = null;
        DatagramChannel replication = null;
        try {
            Group group = a.group(dp.block().port());
            if (dp.adopted()) {
                Group pinnedGroup = dp.group();
                if (dp.ifindex() != 0 && dp.ifindex() != ifindex) {
                    throw new IllegalStateException("the data plane pinned at " + a.pin() + " is attached to ifindex "
                            + dp.ifindex() + ", not " + a.iface() + " (" + ifindex + ")");
                }
                if (pinnedGroup != null && (!sameMembers(pinnedGroup, group) || dp.myIndex() != a.index())) {
                    throw new IllegalStateException("the data plane pinned at " + a.pin() + " is member "
                            + dp.myIndex() + " of another group or index: " + pinnedGroup.members());
                }
                group = pinnedGroup != null ? pinnedGroup : group; // its view may have moved on since --view
                if (pinnedGroup == null) {
                    dp.updateReplica(group, a.index());
                }
                out.println("consensus-node: re-adopted the data plane pinned at " + a.pin() + ": view "
                        + group.view() + ", " + dp.status());
            } else {
                dp.updateReplica(group, a.index());
            }
            InetAddress me = a.members().get(a.index());
            replies = DatagramChannel.open().bind(new InetSocketAddress(me, dp.block().port()));
            // on P + 1: retransmissions leave from it and state transfer (types 4, 5) arrives on it
            replication = DatagramChannel.open().bind(new InetSocketAddress(me, dp.block().replicationPort()));
            java.util.concurrent.atomic.AtomicReference<TimestampService> service =
                    new java.util.concurrent.atomic.AtomicReference<>(new TimestampService());
            java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();
            dp.onHostFailure(f -> {
                long k = failures.incrementAndGet();
                if (a.resumeAfterFailure()) {
                    dp.clearStopped();
                }
                out.printf(Locale.ROOT, "consensus-node: host failure %d: op %d, age %.3f ms > limit %.3f ms"
                                + " (threshold %d x rtt %.3f ms, floor %d ms)%s%n", k, f.op(), f.ageNanos() / 1e6,
                        f.limitNanos() / 1e6, dp.block().failureThreshold(), f.rttNanos() / 1e6,
                        a.failureFloor().toMillis(), a.resumeAfterFailure() ? "; resumed"
                                : a.supervised() ? "; ordering stopped until the supervisor recovers the service"
                                : "; ordering stopped");
                out.flush();
            });
            dp.onViewChange(g -> {
                out.printf(Locale.ROOT, "consensus-node: view %d, leader %d%s%n", g.view(), g.leader(),
                        g.leader() == a.index() ? " (me)" : "");
                out.flush();
            });
            if (dp.ifindex() == 0) {
                dp.attach(ifindex);
            }
            if (dp.adopted()) {
                var report = dp.resume(service.get(), 0, replies, replication, Duration.ofSeconds(60));
                out.println("consensus-node: caught up: " + report);
            } else if (a.rejoin()) {
                var report = dp.rejoin(service.get(), replies, replication, Duration.ofSeconds(60));
                out.println("consensus-node: rejoined: " + report);
            } else {
                dp.start(service.get(), replies, replication);
            }
            ServiceSupervisor supervisor = null;
            if (a.supervised()) {
                supervisor = new ServiceSupervisor(dp, TimestampService::new, a.checkpointEvery(),
                        Duration.ofSeconds(60), a.stallLimit());
                supervisor.onRecovery((fresh, report) -> {
                    service.set((TimestampService) fresh);
                    out.println("consensus-node: recovered the service: " + report);
                    out.flush();
                });
            }
            ServiceSupervisor sup = supervisor;
            DatagramChannel probeSocket = replies;
            Thread probes = Thread.ofPlatform().daemon().name("xps-vr-probes")
                    .start(() -> answerUnordered(dp, probeSocket, TimestampService.probes()));
            out.printf(Locale.ROOT, "consensus-node: member %d of %d (block '%s', port %d, replication %d) on %s"
                            + " (ifindex %d), view %d%s, %d log slots; pid %d; program ids %d,%d,%d%n", a.index(),
                    group.size(), dp.block().name(), dp.block().port(), dp.block().replicationPort(), a.iface(),
                    ifindex, group.view(), dp.isLeader() ? ", leader" : "", dp.capacity(),
                    ProcessHandle.current().pid(), dp.ingressProgram().id(), dp.xdpProgram().id(),
                    dp.egressProgram().id());
            out.flush();
            CountDownLatch stopped = new CountDownLatch(1);
            DatagramChannel r1 = replies;
            DatagramChannel r2 = replication;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    out.println("consensus-node: stopping: applied " + dp.applied() + ", executed "
                            + service.get().executed() + ", out of order " + service.get().outOfOrder()
                            + ", retransmitted "
                            + dp.retransmitted() + "; " + dp.status() + " " + dp.counters());
                } catch (RuntimeException e) {
                    out.println("consensus-node: stopping (" + e.getMessage() + ")");
                }
                if (sup != null) {
                    sup.close();
                }
                dp.close(); // stops the threads, detaches XDP and tcx, unloads; pinned: leaves it running
                close(r1);
                close(r2);
                probes.interrupt();
                out.println(dp.pinned() ? "consensus-node: left the data plane running, pinned at " + dp.pinDir()
                        : "consensus-node: detached from " + a.iface());
                out.flush();
                stopped.countDown();
            }, "xps-vr-shutdown"));
            for (;;) { // until killed: the shutdown hook ends the process
                try {
                    if (stopped.await(a.statsEveryMs() > 0 ? a.statsEveryMs() : 3_600_000L, TimeUnit.MILLISECONDS)) {
                        return 0;
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return 1;
                }
                if (a.statsEveryMs() > 0) {
                    out.println("consensus-node: applied " + dp.applied() + "; " + dp.status() + " " + dp.counters());
                    out.flush();
                }
            }
        } catch (RuntimeException | IOException e) {
            if (dp.pinned() && !dp.adopted()) {
                dp.unload(); // this run pinned it: a start that failed leaves nothing behind
            } else {
                dp.close(); // an adopted data plane keeps running as it was
            }
            close(replies);
            close(replication);
            throw e;
        }
    }

    /** The same members (addresses and MACs, in order). */
    static boolean sameMembers(Group a, Group b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            Member x = a.members().get(i);
            Member y = b.members().get(i);
            if (!x.address().equals(y.address()) || !java.util.Arrays.equals(x.mac(), y.mac())) {
                return false;
            }
        }
        return true;
    }

    /** Answers the requests the data plane did not order (PROBE) while this member leads; drops the rest. */
    private static void answerUnordered(ConsensusDataPlane dp, DatagramChannel socket, UnorderedHandler handler) {
        ByteBuffer buf = ByteBuffer.allocate(2048);
        while (socket.isOpen()) {
            try {
                buf.clear();
                SocketAddress from = socket.receive(buf);
                if (from == null || !dp.isLeader()) {
                    continue;
                }
                buf.flip();
                byte[] req = new byte[buf.remaining()];
                buf.get(req);
                byte[] reply = handler.handle((InetSocketAddress) from, req);
                if (reply != null) {
                    socket.send(ByteBuffer.wrap(reply), from);
                }
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!socket.isOpen()) {
                    return;
                }
            }
        }
    }

    private static void close(DatagramChannel c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException e) {
                // closing
            }
        }
    }
}
