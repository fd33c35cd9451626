package dev.xps.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.consensus.service.TimestampService;
import dev.xps.consensus.wire.VrMessage;
import dev.xps.consensus.wire.Wire;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A replica's answers, byte for byte, to PREPAREs sent by a test socket standing in for the leader (member 0):
 * gaps, retransmissions, cumulative PREPAREOK, piggy-backed and explicit commits, bad messages. The eBPF data plane
 * answers the same messages the same way.
 */
class ReplicaWireTest {
    @Test
    void cumulativeAcksAcrossAGap() throws Exception {
        try (NetLab lab = new NetLab(3)) {
            Group g = lab.group(9400);
            TimestampService svc = new TimestampService();
            VrNode replica = VrNode.start(g, 1, svc, VrOptions.defaults().withLogCapacity(8),
                    NetNsThreads.channels(lab.memberNs(1)), null, null);
            try (DatagramChannel leader = NetNsThreads.channels(lab.memberNs(0))
                    .open(new InetSocketAddress(g.members().get(0).address(), g.replicationPort()))) {
                leader.configureBlocking(true);
                leader.socket().setSoTimeout(0);
                InetSocketAddress to = new InetSocketAddress(g.members().get(1).address(), g.replicationPort());
                int client = VrNode.ipv4(NetLab.addr(NetLab.clientIp()));

                // op 2 before op 1: stored, but the contiguous prefix is still empty.
                send(leader, to, new VrMessage.Prepare(0, 0, 2, 0, client, 5000, TimestampService.next(2)));
                assertEquals(0, ack(leader));
                // op 1 fills the gap: the ack covers both.
                send(leader, to, new VrMessage.Prepare(0, 0, 1, 0, client, 5000, TimestampService.next(1)));
                assertEquals(2, ack(leader));
                // A retransmission of op 1 gets the cumulative ack again.
                send(leader, to, new VrMessage.Prepare(0, 0, 1, 0, client, 5000, TimestampService.next(1)));
                assertEquals(2, ack(leader));
                assertEquals(0, replica.commit(), "nothing committed yet");
                // op 3 piggy-backs commit 2: entries 1 and 2 are delivered to the service, in order.
                send(leader, to, new VrMessage.Prepare(0, 0, 3, 2, client, 5000, TimestampService.next(3)));
                assertEquals(3, ack(leader));
                Cluster.awaitTrue(() -> svc.last() == 2, Duration.ofSeconds(10), () -> "applied " + svc.last());
                // COMMIT beyond what the replica holds is capped at its contiguous prefix.
                send(leader, to, new VrMessage.Commit(0, 0, 99));
                Cluster.awaitTrue(() -> replica.commit() == 3, Duration.ofSeconds(10),
                        () -> "commit " + replica.commit());
                Cluster.awaitTrue(() -> svc.last() == 3, Duration.ofSeconds(10), () -> "applied " + svc.last());
                assertEquals(0, svc.outOfOrder());
                // A message of another view, and garbage, are dropped and counted as bad.
                long bad = replica.stats().bad.get();
                send(leader, to, new VrMessage.Prepare(7, 0, 4, 3, client, 5000, TimestampService.next(4)));
                leader.send(ByteBuffer.wrap(new byte[] {0x58, 0x56, 1}), to);
                Cluster.awaitTrue(() -> replica.stats().bad.get() == bad + 2, Duration.ofSeconds(10),
                        () -> "bad " + replica.stats().bad.get());
                assertEquals(3, replica.contiguous());
                assertEquals(0, replica.stats().replies.get(), "a replica never answers clients");
                // The replica's log holds exactly what was sent.
                LogEntry e = replica.entry(2).orElseThrow();
                assertEquals(client, e.clientIpv4());
                assertEquals(5000, e.clientPort());
                assertEquals(TimestampService.next(2).length, e.request().length);
            } finally {
                replica.close();
            }
        }
    }

    private static void send(DatagramChannel ch, InetSocketAddress to, VrMessage m) throws Exception {
        ch.send(ByteBuffer.wrap(Wire.encode(m)), to);
    }

    /** The next PREPAREOK's op (bounded wait: the socket is blocking, so read on a helper thread). */
    private static long ack(DatagramChannel ch) throws Exception {
        var f = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                ByteBuffer b = ByteBuffer.allocate(2048);
                for (int i = 0; i < 100; i++) {
                    b.clear();
                    ch.receive(b);
                    b.flip();
                    byte[] d = new byte[b.remaining()];
                    b.get(d);
                    Optional<VrMessage> m = Wire.decode(d);
                    if (m.isPresent() && m.get() instanceof VrMessage.PrepareOk ok) {
                        return ok;
                    }
                }
                return null;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        VrMessage.PrepareOk ok = f.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertNotNull(ok);
        assertTrue(ok.sender() == 1 && ok.view() == 0, ok.toString());
        return ok.op();
    }
    /**
     * Entries a majority holds but nobody knew to be committed (the old leader died before saying so) commit as soon
     * as the view change installs the new leader, and their clients get the replies from it.
     */
    @Test
    void aNewLeaderCommitsWhatAMajorityHolds() throws Exception {
        try (NetLab lab = new NetLab(3)) {
            Group g = lab.group(9410);
            TimestampService s1 = new TimestampService();
            TimestampService s2 = new TimestampService();
            VrNode n1 = VrNode.start(g, 1, s1, VrOptions.defaults(), NetNsThreads.channels(lab.memberNs(1)), null,
                    null);
            VrNode n2 = VrNode.start(g, 2, s2, VrOptions.defaults(), NetNsThreads.channels(lab.memberNs(2)), null,
                    null);
            try (DatagramChannel oldLeader = NetNsThreads.channels(lab.memberNs(0))
                    .open(new InetSocketAddress(g.members().get(0).address(), g.replicationPort()));
                    DatagramChannel client = NetNsThreads.channels(lab.clientNs())
                            .open(new InetSocketAddress(NetLab.addr(NetLab.clientIp()), 0))) {
                int clientIp = VrNode.ipv4(NetLab.addr(NetLab.clientIp()));
                int clientPort = ((InetSocketAddress) client.getLocalAddress()).getPort();
                for (int op = 1; op <= 5; op++) {
                    for (int r = 1; r <= 2; r++) {
                        send(oldLeader, new InetSocketAddress(g.members().get(r).address(), g.replicationPort()),
                                new VrMessage.Prepare(0, 0, op, 0, clientIp, clientPort, TimestampService.next(op)));
                    }
                }
                Cluster.awaitTrue(() -> n1.contiguous() == 5 && n2.contiguous() == 5, Duration.ofSeconds(10),
                        () -> n1 + " " + n2);
                assertEquals(0, n1.commit());
                ViewChange.Result r = ViewChange.run(java.util.List.of(n1, n2));
                assertEquals(1, r.leader());
                assertEquals(1, r.view());
                Cluster.awaitTrue(() -> n1.commit() == 5 && s1.last() == 5 && s2.last() == 5, Duration.ofSeconds(10),
                        () -> n1 + " " + n2);
                // The new leader answers the five clients' requests (one reply each).
                client.configureBlocking(true);
                var f = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                    java.util.List<Long> ts = new java.util.ArrayList<>();
                    ByteBuffer b = ByteBuffer.allocate(64);
                    try {
                        for (int i = 0; i < 5; i++) {
                            b.clear();
                            client.receive(b);
                            ts.add(TimestampService.timestamp(java.util.Arrays.copyOf(b.array(), b.position())));
                        }
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                    return ts;
                });
                assertEquals(java.util.List.of(1L, 2L, 3L, 4L, 5L), f.get(10, java.util.concurrent.TimeUnit.SECONDS));
                assertEquals(5, n1.stats().replies.get());
                assertEquals(0, n2.stats().replies.get());
            } finally {
                n1.close();
                n2.close();
            }
        }
    }
}
