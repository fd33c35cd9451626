package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.consensus.client.VrClient;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/** A group of {@link VrNode}s in a {@link NetLab}, one namespace per member, all in this JVM. */
final class Cluster<S extends RecoverableService> implements AutoCloseable {
    final NetLab lab;
    final Group group;
    final VrOptions options;
    final List<VrNode> nodes = new ArrayList<>();
    final List<S> services = new ArrayList<>();
    private final List<VrClient> clients = new ArrayList<>();
    private final Function<S, UnorderedHandler> unordered;
    private final VrNode.Listener listener;

    Cluster(int n, int port, VrOptions options, Function<Integer, S> services, Function<S, UnorderedHandler> unordered,
            VrNode.Listener listener) throws IOException {
        this.lab = new NetLab(n);
        boolean ok = false;
        try {
            this.group = lab.group(port);
            this.options = options;
            this.unordered = unordered;
            this.listener = listener;
            for (int i = 0; i < n; i++) {
                S s = services.apply(i);
                this.services.add(s);
                nodes.add(VrNode.start(group, i, s, options, NetNsThreads.channels(lab.memberNs(i)),
                        unordered == null ? null : unordered.apply(s), listener));
            }
            ok = true;
        } finally {
            if (!ok) {
                close();
            }
        }
    }

    VrNode leader() {
        for (VrNode n : nodes) {
            if (n != null && n.isLeader()) {
                return n;
            }
        }
        throw new IllegalStateException("no live leader");
    }

    List<InetSocketAddress> serverAddresses() {
        List<InetSocketAddress> out = new ArrayList<>();
        for (int i = 0; i < group.size(); i++) {
            out.add(new InetSocketAddress(group.members().get(i).address(), group.port()));
        }
        return out;
    }

    /** A client in the lab's client namespace that starts at the current leader. */
    VrClient client(Duration timeout, int attemptsPerServer, int maxAttempts) throws IOException {
        VrClient c = new VrClient(NetNsThreads.channels(lab.clientNs()),
                new InetSocketAddress(NetLab.addr(NetLab.clientIp()), 0), serverAddresses(), timeout,
                attemptsPerServer, maxAttempts);
        c.useServer(leader().index());
        clients.add(c);
        return c;
    }

    List<VrClient> clients(int count, Duration timeout, int attemptsPerServer, int maxAttempts) throws IOException {
        List<VrClient> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(client(timeout, attemptsPerServer, maxAttempts));
        }
        return out;
    }

    /** Stops member {@code i}'s node (its sockets close; the service object stays for inspection). */
    void stop(int i) {
        nodes.get(i).close();
        nodes.set(i, null);
    }

    /** Restarts member {@code i} with an empty log and {@code fresh} service; waits for its recovery. */
    RecoveryReport restart(int i, S fresh, Group current) throws Exception {
        VrNode.Recovering r = VrNode.startRecovering(current, i, fresh, 0, options,
                NetNsThreads.channels(lab.memberNs(i)), unordered == null ? null : unordered.apply(fresh), listener);
        nodes.set(i, r.node());
        services.set(i, fresh);
        return r.done().get(30, java.util.concurrent.TimeUnit.SECONDS);
    }

    /** Waits (bounded) until every live member holds, has committed and has applied the leader's last op. */
    void awaitQuiet() {
        awaitTrue(() -> {
            long last = leader().contiguous();
            for (VrNode n : nodes) {
                if (n != null && (n.contiguous() != last || n.commit() != last || n.appliedOp() != last)) {
                    return false;
                }
            }
            return true;
        }, Duration.ofSeconds(30), () -> "members did not converge: " + nodes);
    }

    /** Every live member holds the same entries {@code from .. to} (each member's log must hold all of them). */
    void assertLogsAgree(long from, long to) {
        List<LogEntry> reference = null;
        int refIndex = -1;
        for (VrNode n : nodes) {
            if (n == null) {
                continue;
            }
            List<LogEntry> mine = n.entries(from, to);
            assertEquals(to - from + 1, mine.size(), "member " + n.index() + " holds entries " + from + ".." + to);
            if (reference == null) {
                reference = mine;
                refIndex = n.index();
            } else {
                for (int k = 0; k < mine.size(); k++) {
                    assertEquals(reference.get(k), mine.get(k), "entry " + (from + k) + " on member " + n.index()
                            + " vs member " + refIndex);
                }
            }
        }
    }

    static void awaitTrue(BooleanSupplier cond, Duration limit, java.util.function.Supplier<String> message) {
        long deadline = System.nanoTime() + limit.toNanos();
        for (int i = 0; i < 1_000_000; i++) {
            if (cond.getAsBoolean()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                break;
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
        }
        assertTrue(cond.getAsBoolean(), message);
    }

    @Override
    public void close() {
        for (VrClient c : clients) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing
            }
        }
        for (VrNode n : nodes) {
            if (n != null) {
                n.close();
            }
        }
        lab.close();
    }
}
