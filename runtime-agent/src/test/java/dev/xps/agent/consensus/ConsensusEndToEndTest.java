package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.agent.bpf.NetNs;
import dev.xps.agent.bpf.XdpMode;
import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.consensus.Group;
import dev.xps.consensus.LogEntry;
import dev.xps.consensus.ReplicatedService;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Three members, each in its own {@code xdp-vr} network namespace on a bridge, the data plane of
 * samples/timestamp-server.xps attached to each member's veth (XDP native, tcx ingress and egress), and a
 * client in a fourth namespace sending timestamp requests to the leader:
 * <ul>
 *   <li>every request gets exactly one reply, the timestamps (op numbers) are unique and strictly increasing,
 *       and every member delivers the same entries in the same order and holds the same log;
 *   <li>a replica that missed everything catches up through the agent's retransmission;
 *   <li>a leader whose service stops answering is detected by the data plane, which stops ordering; once the
 *       service answers again and the agent clears the flag, ordering resumes without a gap.
 * </ul>
 */
@Tag("kernel")
class ConsensusEndToEndTest {
    static final int PORT = 9000;

    /** The replicated timestamp service: NEXT (op 1) → 0x81 | request id | u64 timestamp (the op). */
    static class Timestamps implements ReplicatedService {
        final List<LogEntry> executed = new CopyOnWriteArrayList<>();
        volatile CountDownLatch hang;
        /** {@link #hang} applies from this op on (0: from the next execution), so a test can place it exactly. */
        volatile long hangFrom = 0;

        @Override
        public byte[] execute(long op, InetSocketAddress client, byte[] request) {
            CountDownLatch h = hang;
            if (h != null && op >= hangFrom) {
                try {
                    h.await(30, TimeUnit.SECONDS); // a host that stopped answering
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            executed.add(new LogEntry(op, ByteBuffer.wrap(client.getAddress().getAddress()).getInt(), client.getPort(),
                    request));
            return ByteBuffer.allocate(13).put((byte) 0x81).put(request, 1, 4).putLong(op).array();
        }
    }

    /** The group, its data planes and services, and a client; closing removes everything. */
    static final class Cluster implements AutoCloseable {
        final VrNet net = new VrNet(3);
        final Group group = net.group(0, PORT);
        final List<ConsensusDataPlane> planes = new ArrayList<>();
        final List<Timestamps> services = new ArrayList<>();
        final List<DatagramChannel> sockets = new ArrayList<>();
        final DatagramSocket client;
        final byte[] buf = new byte[64];

        Cluster(ConsensusDataPlane.Options options, int attachLater) throws Exception {
            try {
                Path manifest = Artifacts.sample("timestamp-server").resolve("timestamp-server.manifest.json");
                for (int i = 0; i < 3; i++) {
                    ConsensusDataPlane dp = ConsensusDataPlane.load(manifest, null, options);
                    planes.add(dp);
                    dp.updateReplica(group, i);
                    if (i != attachLater) {
                        attach(i);
                    }
                    String ns = net.memberNs.get(i);
                    String ip = net.ip(i);
                    DatagramChannel reply = NetNs.call(ns, () -> DatagramChannel.open()
                            .bind(new InetSocketAddress(ip, PORT)));
                    sockets.add(reply);
                    DatagramChannel repl = NetNs.call(ns, () -> DatagramChannel.open()
                            .bind(new InetSocketAddress(ip, 0)));
                    sockets.add(repl);
                    Timestamps service = new Timestamps();
                    services.add(service);
                    dp.start(service, reply, repl);
                }
                String clientIp = net.clientIp();
                client = NetNs.call(net.clientNs, () -> new DatagramSocket(new InetSocketAddress(clientIp, 0)));
            } catch (Exception | Error e) {
                close();
                throw e;
            }
        }

        void attach(int i) {
            planes.get(i).attach(net.memberNs.get(i), net.memberIf(i));
        }

        ConsensusDataPlane leader() {
            return planes.get(group.leader());
        }

        void send(int id) throws IOException {
            byte[] req = ByteBuffer.allocate(5).put((byte) 1).putInt(id).array();
            client.send(new DatagramPacket(req, req.length,
                    new InetSocketAddress(net.ip(group.leader()), PORT)));
        }

        /** The next reply as {request id, timestamp}, or empty after the timeout. */
        Optional<long[]> reply(Duration timeout) throws IOException {
            client.setSoTimeout((int) timeout.toMillis());
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            try {
                client.receive(p);
            } catch (SocketTimeoutException e) {
                return Optional.empty();
            }
            assertEquals(13, p.getLength(), () -> "reply " + Arrays.toString(Arrays.copyOf(buf, p.getLength())));
            ByteBuffer r = ByteBuffer.wrap(buf, 0, 13);
            assertEquals((byte) 0x81, r.get());
            return Optional.of(new long[] {r.getInt(), r.getLong()});
        }

        /** Sends request {@code id} and returns its timestamp. */
        long call(int id) throws IOException {
            send(id);
            long[] r = reply(Duration.ofSeconds(3)).orElseGet(() -> fail("no reply to request " + id
                    + " in 3 s; leader " + leader().status() + " " + leader().counters() + "; member 1 "
                    + planes.get(1).status() + " " + planes.get(1).counters()));
            assertEquals(id, r[0], "the reply answers the request just sent");
            return r[1];
        }

        String describe() {
            StringBuilder s = new StringBuilder();
            for (int i = 0; i < planes.size(); i++) {
                s.append("\n  member ").append(i).append(": ").append(planes.get(i).status()).append(' ')
                        .append(planes.get(i).counters());
            }
            return s.toString();
        }

        @Override
        public void close() {
            for (Timestamps t : services) {
                CountDownLatch h = t.hang;
                if (h != null) {
                    h.countDown();
                }
            }
            if (client != null) {
                client.close();
            }
            for (ConsensusDataPlane dp : planes) {
                dp.close();
            }
            for (DatagramChannel s : sockets) {
                try {
                    s.close();
                } catch (IOException e) {
                    // closing
                }
            }
            net.close();
        }
    }

    static ConsensusDataPlane.Options options(Duration failureFloor) {
        return ConsensusDataPlane.Options.defaults().withLogSlots(4096).withXdpMode(XdpMode.NATIVE)
                .withFailureFloor(failureFloor);
    }

    @Test
    void threeMembersOrderEveryRequestOnceAndAgreeOnTheLog() throws Exception {
        Kernel.assumeBpf();
        int requests = 300;
        try (Cluster c = new Cluster(options(Duration.ofSeconds(5)), -1)) {
            Map<Long, Integer> seen = new HashMap<>();
            List<Long> timestamps = new ArrayList<>();
            for (int id = 1; id <= requests; id++) {
                long t = c.call(id);
                timestamps.add(t);
                seen.merge(t, 1, Integer::sum);
            }
            assertEquals(Optional.empty(), c.reply(Duration.ofMillis(300)).map(Arrays::toString),
                    "exactly one reply per request");
            assertEquals(requests, seen.size(), "unique timestamps");
            for (int i = 1; i < timestamps.size(); i++) {
                assertTrue(timestamps.get(i) > timestamps.get(i - 1), "timestamps strictly increase: " + timestamps);
            }
            assertEquals(requests, timestamps.getLast() - timestamps.getFirst() + 1, "no op was skipped");

            // every member delivers the same entries in the same order (replicas learn the commit from the
            // next PREPARE or the leader's COMMIT) and holds the same log
            long last = timestamps.getLast();
            for (ConsensusDataPlane dp : c.planes) {
                assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> dp.applied() >= last),
                        "applied " + dp.applied() + " of " + last + c.describe());
            }
            List<LogEntry> leaderLog = c.leader().getNicLog(1, last);
            assertEquals(last, leaderLog.size());
            for (int i = 1; i < 3; i++) {
                assertEquals(leaderLog, c.planes.get(i).getNicLog(1, last), "member " + i + "'s log");
                assertEquals(c.services.get(0).executed, c.services.get(i).executed, "member " + i + " executed");
            }
            assertEquals(leaderLog, c.services.get(0).executed);
            Map<String, Long> counters = c.leader().counters();
            System.out.println("three members, " + requests + " requests:" + c.describe());
            assertEquals(requests, counters.get("ordered"));
            assertEquals(2L * requests, counters.get("prepares_sent"));
            assertEquals(requests, counters.get("replies"), "the egress program saw every reply");
            assertTrue(counters.get("rtt_samples") > 0 && c.leader().status().rttNanos() > 0, "host RTT measured");
            assertFalse(c.leader().stopped());
        }
    }

    @Test
    void aReplicaThatMissedEntriesCatchesUpThroughRetransmission() throws Exception {
        Kernel.assumeBpf();
        int n = 150;
        try (Cluster c = new Cluster(options(Duration.ofSeconds(5)), 2)) { // member 2 is down: nothing attached
            for (int id = 1; id <= n; id++) {
                c.call(id); // a quorum without member 2
            }
            ConsensusDataPlane back = c.planes.get(2);
            assertEquals(0, back.status().contiguous(), "member 2 saw nothing");
            assertEquals(n, c.leader().status().commit(), "leader + member 1 are a majority");
            c.attach(2); // member 2 comes back
            assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> back.applied() >= n),
                    "member 2 caught up; leader re-sent " + c.leader().retransmitted() + c.describe());
            assertTrue(c.leader().retransmitted() >= n, "the entries reached member 2 by retransmission");
            assertEquals(c.leader().getNicLog(1, n), back.getNicLog(1, n));
            assertEquals(c.services.get(0).executed, c.services.get(2).executed);
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> c.leader().status().acked()[2] == n),
                    "member 2 acknowledged everything" + c.describe());
        }
    }

    @Test
    void aLeaderWhoseServiceStopsAnsweringIsDetectedAndOrderingResumesAfterwards() throws Exception {
        Kernel.assumeBpf();
        Duration floor = Duration.ofMillis(200);
        try (Cluster c = new Cluster(options(floor), -1)) {
            List<Long> failures = new CopyOnWriteArrayList<>();
            c.leader().onFailure(failures::add);
            long t = 0;
            for (int id = 1; id <= 20; id++) {
                t = c.call(id);
            }
            CountDownLatch hang = new CountDownLatch(1);
            c.services.get(0).hang = hang;
            c.send(21); // ordered and committed; the service never answers
            assertEquals(Optional.empty(), c.reply(Duration.ofMillis(2 * floor.toMillis())).map(Arrays::toString));
            long detectedAfter = System.nanoTime();
            c.send(22); // finds the oldest unanswered entry older than the floor: ordering stops, 22 is dropped
            assertTrue(Kernel.eventually(Duration.ofSeconds(2), () -> !failures.isEmpty()),
                    "the failure reached the agent" + c.describe());
            assertEquals(List.of(t + 1), failures, "the oldest unanswered op: request 21's");
            assertTrue(c.leader().stopped());
            assertEquals(1, c.leader().counters().get("failures"));
            assertTrue(c.leader().counters().get("stopped") >= 1, "request 22 was dropped");
            assertEquals(t + 1, c.leader().status().lastOp(), "22 was not numbered");
            System.out.println("host failure reported " + (System.nanoTime() - detectedAfter) / 1000
                    + " us after the request that found it");

            c.services.get(0).hang = null;
            hang.countDown(); // the service answers again: request 21's reply leaves, late
            long[] late = c.reply(Duration.ofSeconds(3)).orElseGet(() -> fail("request 21 was never answered"));
            assertEquals(21, late[0]);
            assertEquals(t + 1, late[1]);
            c.leader().clearStopped();
            assertEquals(t + 2, c.call(23), "ordering resumes without a gap");
            assertFalse(c.leader().stopped());
        }
    }
}
