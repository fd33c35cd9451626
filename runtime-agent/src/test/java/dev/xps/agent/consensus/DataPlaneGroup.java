package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.agent.bpf.NetNs;
import dev.xps.agent.bpf.XdpMode;
import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.consensus.ChannelFactory;
import dev.xps.consensus.Group;
import dev.xps.consensus.LogEntry;
import dev.xps.consensus.client.LoadGenerator;
import dev.xps.consensus.client.VrClient;
import dev.xps.consensus.service.TimestampService;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A data-plane group of any size for the timestamp sample: {@code n} members in a {@link VrNet}, each with
 * {@link ConsensusDataPlane} attached to its veth (XDP native, tcx) and a {@link ConsensusEndToEndTest.Timestamps}
 * service, and the baseline's closed-loop {@link VrClient}s in the client namespace (a client resends a request
 * with the same id after its timeout and keeps the first reply per id). {@link #close()} removes everything.
 */
final class DataPlaneGroup implements AutoCloseable {
    /** The sample compiled for {@code replicas n;}, once per JVM and size. */
    private static final Map<Integer, Path> MANIFESTS = new ConcurrentHashMap<>();

    final VrNet net;
    final Group group;
    /** Null, or where member {@code i}'s data plane is pinned: {@code pinRoot/m<i>} (removed by {@link #close()}). */
    final Path pinRoot;
    private final Path manifest;
    private final ConsensusDataPlane.Options options;
    /** Members whose host library was closed leaving the pinned data plane running ({@link #leaveRunning}). */
    final Set<Integer> hostless = ConcurrentHashMap.newKeySet();
    final List<ConsensusDataPlane> planes = new ArrayList<>();
    final List<ConsensusEndToEndTest.Timestamps> services = new ArrayList<>();
    private final List<AutoCloseable> owned = new ArrayList<>();
    /** Each member's two sockets (closed by {@link #kill}). */
    private final List<List<AutoCloseable>> memberSockets = new ArrayList<>();
    /** Members {@link #kill killed}: left out of the checks. */
    final Set<Integer> dead = ConcurrentHashMap.newKeySet();

    DataPlaneGroup(int n, ConsensusDataPlane.Options options) throws IOException {
        this(n, options, i -> new ConsensusEndToEndTest.Timestamps());
    }

    /**
     * A group whose member {@code i} runs {@code service.apply(i)}; every member's second socket is bound to P + 1,
     * where state transfer (types 4 and 5, which the XDP program passes to the stack) arrives.
     */
    DataPlaneGroup(int n, ConsensusDataPlane.Options options,
                   java.util.function.IntFunction<? extends ConsensusEndToEndTest.Timestamps> serviceOf)
            throws IOException {
        this(n, options, serviceOf, null);
    }

    /**
     * As above; with a {@code pinRoot} every member's data plane is pinned under {@code pinRoot/m<i>}
     * ({@link ConsensusDataPlane.Options#pinDir()}), and {@link #close()} unloads them and removes the root.
     */
    DataPlaneGroup(int n, ConsensusDataPlane.Options options,
                   java.util.function.IntFunction<? extends ConsensusEndToEndTest.Timestamps> serviceOf, Path pinRoot)
            throws IOException {
        this.manifest = manifest(n);
        this.options = options;
        this.pinRoot = pinRoot;
        this.net = new VrNet(n);
        boolean ok = false;
        try {
            this.group = net.group(0, ConsensusEndToEndTest.PORT);
            for (int i = 0; i < n; i++) {
                ConsensusDataPlane plane = ConsensusDataPlane.load(manifest, null, options(i));
                planes.add(plane);
                plane.updateReplica(group, i);
                plane.attach(net.memberNs.get(i), net.memberIf(i));
                List<DatagramChannel> s = openSockets(i);
                memberSockets.add(List.copyOf(s));
                ConsensusEndToEndTest.Timestamps service = serviceOf.apply(i);
                services.add(service);
                plane.start(service, s.get(0), s.get(1));
            }
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    /** Member {@code i}'s options: the group's, pinned under {@code pinRoot/m<i>} when the group is pinned. */
    ConsensusDataPlane.Options options(int i) {
        return pinRoot == null ? options : options.withPinDir(pinDir(i));
    }

    Path pinDir(int i) {
        return pinRoot.resolve("m" + i);
    }

    Path manifest() {
        return manifest;
    }

    /** Member {@code i}'s reply socket (port P) and replication socket (P + 1), in its namespace. */
    private List<DatagramChannel> openSockets(int i) throws IOException {
        ChannelFactory sockets = channels(net.memberNs.get(i));
        DatagramChannel onPortP = sockets.open(new InetSocketAddress(net.ip(i), group.port()));
        owned.add(onPortP);
        DatagramChannel forRetransmission = sockets.open(new InetSocketAddress(net.ip(i), group.replicationPort()));
        owned.add(forRetransmission);
        return List.of(onPortP, forRetransmission);
    }

    /**
     * Member {@code i}'s host process "exits": its host library is closed leaving the pinned data plane running
     * ({@link ConsensusDataPlane#close()} of a pinned plane) and its sockets are closed. Its programs stay attached.
     */
    void leaveRunning(int i) {
        ConsensusDataPlane p = planes.get(i);
        if (!p.pinned()) {
            throw new IllegalStateException("member " + i + " is not pinned");
        }
        hostless.add(i);
        p.close();
        for (AutoCloseable c : memberSockets.get(i)) {
            try {
                c.close();
            } catch (Exception e) {
                // closing
            }
        }
    }

    /**
     * A new host process for member {@code i}: re-adopts its pins ({@link ConsensusDataPlane#adopt}), opens new
     * sockets and {@link ConsensusDataPlane#resume resumes} with {@code fresh} (an empty service).
     */
    dev.xps.consensus.RecoveryReport readopt(int i, ConsensusEndToEndTest.Timestamps fresh, Duration limit)
            throws IOException {
        ConsensusDataPlane p = ConsensusDataPlane.adopt(manifest, null, options(i));
        planes.set(i, p);
        services.set(i, fresh);
        hostless.remove(i);
        List<DatagramChannel> s = openSockets(i);
        memberSockets.set(i, List.copyOf(s));
        return p.resume((dev.xps.consensus.RecoverableService) fresh, 0, s.get(0), s.get(1), limit);
    }

    /**
     * Member {@code i}, {@link #kill killed}, comes back as a machine that lost its data plane: its link up again, a
     * new (empty, unpinned) data plane in the live members' view, new sockets, and
     * {@link ConsensusDataPlane#rejoin} with {@code fresh}.
     */
    dev.xps.consensus.RecoveryReport restartFresh(int i, RecoverableTimestamps fresh, Duration limit)
            throws IOException {
        Group live = leader().group(); // the view the others are in
        dev.xps.agent.testsupport.Sh.check("ip", "-n", net.memberNs.get(i), "link", "set", net.memberIf(i), "up");
        ConsensusDataPlane p = ConsensusDataPlane.load(manifest, null, options(i));
        p.updateReplica(live, i);
        planes.set(i, p);
        services.set(i, fresh);
        dead.remove(i);
        p.attach(net.memberNs.get(i), net.memberIf(i));
        List<DatagramChannel> s = openSockets(i);
        memberSockets.set(i, List.copyOf(s));
        return p.rejoin(fresh, s.get(0), s.get(1), limit);
    }

    /** A socket in member {@code i}'s namespace, for sending as that member (the header names the sender). */
    DatagramChannel socketOf(int i) throws IOException {
        DatagramChannel c = channels(net.memberNs.get(i)).open(new InetSocketAddress(net.ip(i), 0));
        owned.add(c);
        return c;
    }

    /** The timestamp sample's manifest with {@code replicas n;} (the sample itself declares 3). */
    static Path manifest(int n) {
        return MANIFESTS.computeIfAbsent(n, k -> {
            try {
                Path dir = k == 3 ? Artifacts.sample("timestamp-server")
                        : Artifacts.variant("timestamp-server", "replicas 3;", "replicas " + k + ";");
                return dir.resolve("timestamp-server.manifest.json");
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The options of these tests: a 4096-slot log, XDP native, no false host-failure alarms. */
    static ConsensusDataPlane.Options options() {
        return ConsensusDataPlane.Options.defaults().withLogSlots(4096).withXdpMode(XdpMode.NATIVE)
                .withFailureFloor(Duration.ofSeconds(5));
    }

    /** Sockets opened in namespace {@code ns} (they stay there whichever thread uses them). */
    private static ChannelFactory channels(String ns) {
        return bind -> NetNs.call(ns, () -> ChannelFactory.standard().open(bind));
    }

    /** The leader of the view the live members are in (the first live member's view). */
    ConsensusDataPlane leader() {
        for (int i = 0; i < planes.size(); i++) {
            if (!dead.contains(i)) {
                return planes.get(planes.get(i).group().leader());
            }
        }
        throw new IllegalStateException("every member is dead");
    }

    /**
     * Kills member {@code i} as a crashed host would be: its data plane is closed (programs detached, agent threads
     * stopped), its sockets closed and its link set down (nothing it was sent arrives; its neighbours' ARP entries
     * for it fail).
     */
    void kill(int i) {
        dead.add(i);
        planes.get(i).close();
        for (AutoCloseable c : memberSockets.get(i)) {
            try {
                c.close();
            } catch (Exception e) {
                // closing
            }
        }
        dev.xps.agent.testsupport.Sh.check("ip", "-n", net.memberNs.get(i), "link", "set", net.memberIf(i), "down");
    }

    /**
     * {@code count} clients that know every member: they start with member 0 and move to the next member after
     * {@code attemptsPerServer} timeouts in a row (the baseline's client), so they find a new leader after a view
     * change.
     */
    List<VrClient> clientsOfAll(int count, Duration timeout, int attemptsPerServer, int maxAttempts)
            throws IOException {
        List<InetSocketAddress> all = new ArrayList<>();
        for (int i = 0; i < planes.size(); i++) {
            all.add(new InetSocketAddress(net.ip(i), group.port()));
        }
        List<VrClient> out = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            VrClient client = new VrClient(channels(net.clientNs), new InetSocketAddress(net.clientIp(), 0), all,
                    timeout, attemptsPerServer, maxAttempts);
            owned.add(client);
            out.add(client);
        }
        return out;
    }

    /**
     * {@code count} clients in the client namespace, each sending to the leader, resending after {@code timeout}
     * at most {@code maxAttempts - 1} times per request.
     */
    List<VrClient> clients(int count, Duration timeout, int maxAttempts) throws IOException {
        List<InetSocketAddress> leaderOnly = List.of(new InetSocketAddress(net.ip(group.leader()), group.port()));
        List<VrClient> out = new ArrayList<>();
        for (int c = 0; c < count; c++) {
            VrClient client = new VrClient(channels(net.clientNs), new InetSocketAddress(net.clientIp(), 0),
                    leaderOnly, timeout, maxAttempts, maxAttempts);
            owned.add(client);
            out.add(client);
        }
        return out;
    }

    /**
     * Runs {@code requests} NEXT requests on every client (closed loop, one thread per client), failing after
     * {@code limit}: then the clients are closed, which ends their threads (a group that stopped committing would
     * otherwise keep every request resending up to its attempt limit).
     */
    LoadGenerator.Result run(List<VrClient> clients, int requests, Duration limit) {
        CompletableFuture<LoadGenerator.Result> result = new CompletableFuture<>();
        Thread load = Thread.ofPlatform().name("vr-load").start(() -> {
            try {
                result.complete(LoadGenerator.run(clients, requests, TimestampService::next));
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        try {
            return result.get(limit.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            for (VrClient c : clients) {
                try {
                    c.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
            try {
                load.join(5_000);
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
            }
            return fail(clients.size() + " clients did not get " + requests + " answers each in " + limit
                    + describe());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return fail("interrupted");
        } catch (ExecutionException e) {
            throw new AssertionError("the load failed", e.getCause());
        }
    }

    /**
     * Waits (bounded) until the leader has committed everything it numbered and every member holds, has
     * acknowledged and has delivered all of it; returns that last op.
     */
    long awaitConverged(Duration limit) {
        boolean converged = Kernel.eventually(limit, () -> {
            ConsensusDataPlane.Status l = leader().status();
            if (l.commit() != l.lastOp()) {
                return false;
            }
            for (int i = 0; i < planes.size(); i++) {
                if (dead.contains(i)) {
                    continue;
                }
                ConsensusDataPlane p = planes.get(i);
                if (p.applied() != l.lastOp() || (p != leader() && (p.status().contiguous() != l.lastOp()
                        || l.acked()[i] != l.lastOp()))) {
                    return false;
                }
            }
            return true;
        });
        assertTrue(converged, "the members did not converge in " + limit + describe());
        return leader().status().lastOp();
    }

    /**
     * Every member's log holds entries {@code 1 .. last}, identical entry by entry to the leader's, and every
     * member's service executed exactly those entries in op order, each once; returns the leader's log.
     */
    List<LogEntry> assertLogsAgree(long last) {
        List<LogEntry> reference = leader().getNicLog(1, last);
        assertEquals(last, reference.size(), "the leader's log holds 1 .. " + last);
        for (int i = 0; i < planes.size(); i++) {
            if (dead.contains(i)) {
                continue;
            }
            List<LogEntry> mine = planes.get(i).getNicLog(1, last);
            assertEquals(last, mine.size(), "member " + i + "'s log holds 1 .. " + last);
            for (int k = 0; k < mine.size(); k++) {
                assertEquals(reference.get(k), mine.get(k), "entry " + (k + 1) + " on member " + i);
            }
            assertEquals(reference, services.get(i).executed, "member " + i + " executed the log in op order, once");
        }
        return reference;
    }

    /**
     * Checks the clients' answers to one run: every request answered exactly once (the first reply per id), a
     * NEXT reply whose timestamp is an op of the leader's log holding that very request (its id, from one client
     * address per client), strictly increasing per client (its requests are sequential) and never issued
     * before ({@code issued}: across the whole test; added to here).
     */
    static void assertAnswers(LoadGenerator.Result r, int requestsPerClient, List<LogEntry> log, Set<Long> issued) {
        assertEquals(0, r.unanswered(), "unanswered requests");
        Map<Integer, Integer> clientPorts = new HashMap<>();
        for (int c = 0; c < r.answers().size(); c++) {
            List<VrClient.Answer> mine = r.answers().get(c);
            assertEquals(requestsPerClient, mine.size(), "client " + c + "'s answers");
            Set<Integer> ids = new HashSet<>();
            long previous = 0;
            for (VrClient.Answer a : mine) {
                assertTrue(ids.add(a.requestId()), "client " + c + ": request " + a.requestId() + " answered twice");
                assertEquals(13, a.reply().length, "a NEXT reply");
                assertEquals(0x81, a.reply()[0] & 0xff, "a NEXT reply");
                long op = TimestampService.timestamp(a.reply());
                assertTrue(op > previous, "client " + c + ": timestamp " + op + " after " + previous);
                assertTrue(issued.add(op), "timestamp " + op + " issued twice");
                previous = op;
                assertTrue(op >= 1 && op <= log.size(), "timestamp " + op + " is an op of the log");
                LogEntry e = log.get((int) op - 1);
                assertEquals(a.requestId(), ByteBuffer.wrap(e.request()).getInt(1), "entry " + op + "'s request id");
                int port = clientPorts.computeIfAbsent(c, k -> e.clientPort());
                assertEquals(port, e.clientPort(), "entry " + op + " came from client " + c);
            }
        }
        assertEquals(r.answers().size(), new HashSet<>(clientPorts.values()).size(), "one address per client");
    }

    /** Waits for replies still in flight and counts them as the clients' duplicates. */
    static void drain(List<VrClient> clients, Duration wait) throws IOException {
        for (VrClient c : clients) {
            c.drain(wait);
        }
    }

    String describe() {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < planes.size(); i++) {
            if (dead.contains(i) || hostless.contains(i)) {
                s.append("\n  member ").append(i).append(dead.contains(i) ? ": dead" : ": no host (pinned)");
                continue;
            }
            s.append("\n  member ").append(i).append(": view ").append(planes.get(i).group().view())
                    .append(" pending ").append(planes.get(i).pendingView()).append(", applied ").append(planes.get(i).applied()).append(' ')
                    .append(planes.get(i).status()).append(' ').append(planes.get(i).counters());
        }
        return s.append("\n  leader retransmitted ").append(leader().retransmitted()).toString();
    }

    @Override
    public void close() {
        for (ConsensusEndToEndTest.Timestamps t : services) {
            java.util.concurrent.CountDownLatch h = t.hang;
            if (h != null) {
                h.countDown(); // a hung service returns (its result is dropped)
            }
        }
        for (int i = 0; i < planes.size(); i++) {
            if (dead.contains(i)) {
                continue;
            }
            try {
                if (hostless.contains(i)) {
                    ConsensusDataPlane.unload(pinDir(i), manifest, null);
                } else {
                    planes.get(i).unload(); // stops delivery first: nothing sends on the sockets closed next
                }
            } catch (RuntimeException e) {
                System.err.println("WARNING: member " + i + ": " + e);
            }
        }
        for (AutoCloseable c : owned) {
            try {
                c.close();
            } catch (Exception e) {
                // closing
            }
        }
        net.close();
        if (pinRoot != null) {
            Kernel.deleteTree(pinRoot); // whatever a failed unload left (a dead member's pins, a test's own)
        }
    }
}
