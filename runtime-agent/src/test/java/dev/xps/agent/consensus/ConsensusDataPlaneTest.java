package dev.xps.agent.consensus;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.BpfLink;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfObject;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.LinkInfo;
import dev.xps.agent.bpf.RingBuffer;
import dev.xps.agent.bpf.TestRun;
import dev.xps.agent.bpf.XdpMode;
import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.consensus.Group;
import dev.xps.consensus.LogEntry;
import dev.xps.consensus.wire.VrMessage;
import dev.xps.consensus.wire.Wire;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The agent's side of the consensus data plane on the timestamp-server sample, compiled by bin/xpsc: the
 * manifest's consensus section is enough to load the block's programs (with a smaller log), attach XDP and tcx
 * ingress/egress to a veth in an {@code xdp-vr} namespace and detach; {@code updateReplica} writes a
 * configuration the programs act on (BPF_PROG_TEST_RUN: a replica answers PREPARE with the codec's PREPAREOK;
 * the leader's commit at a quorum reaches the ring buffer); {@code getNicLog} reads entries back across shards.
 */
@Tag("kernel")
class ConsensusDataPlaneTest {
    static final int XDP_DROP = 1;
    static final int XDP_TX = 3;
    static final long SLOTS = 3000; // not a multiple of the batch: shards end at the wrap
    static Path manifest;

    @BeforeAll
    static void compile() throws Exception {
        Kernel.assumeBpf();
        manifest = Artifacts.sample("timestamp-server").resolve("timestamp-server.manifest.json");
    }

    static ConsensusDataPlane load() {
        return ConsensusDataPlane.load(manifest, null, ConsensusDataPlane.Options.defaults().withLogSlots(SLOTS));
    }

    @Test
    void theManifestDescribesTheBlock() {
        ConsensusManifest m = ConsensusManifest.read(manifest);
        ConsensusManifest.Block b = m.block(null);
        assertEquals("timestamps", b.name());
        assertEquals(9000, b.port());
        assertEquals(9001, b.replicationPort());
        assertEquals(3, b.replicas());
        assertEquals(16, b.entryBytes());
        assertEquals(1_048_576, b.logCapacity());
        assertTrue(m.object().toString().endsWith("timestamp-server.consensus.bpf.o"));
        assertThrows(IllegalArgumentException.class, () -> m.block("nope"));
    }

    @Test
    void loadsAttachesWithTcxAndDetaches() {
        try (VrNet net = new VrNet(1); ConsensusDataPlane dp = load()) {
            assertEquals(SLOTS, dp.capacity(), "the log was loaded with the agent's size");
            dp.attach(net.memberNs.getFirst(), net.memberIf(0));
            List<BpfLink> links = dp.links();
            assertEquals(3, links.size());
            assertEquals(LinkInfo.TYPE_XDP, links.get(0).info().type());
            assertEquals(LinkInfo.TYPE_TCX, links.get(1).info().type(), "tcx ingress");
            assertEquals(LinkInfo.TYPE_TCX, links.get(2).info().type(), "tcx egress");
            assertEquals(dp.ingressProgram().id(), links.get(1).info().programId());
            assertEquals(dp.egressProgram().id(), links.get(2).info().programId());
            List<Integer> ids = links.stream().map(BpfLink::id).toList();
            dp.detach();
            assertTrue(dp.links().isEmpty());
            for (int id : ids) {
                assertFalse(BpfLink.exists(id), "link " + id + " is gone after detach");
            }
        }
    }

    @Test
    void aReplicaConfiguredByTheAgentAnswersPrepareAndTheLogReadsBack() {
        try (ConsensusDataPlane dp = load()) {
            Group g = group();
            dp.updateReplica(g, 1);
            List<byte[]> requests = new ArrayList<>();
            // 2500 entries: the log of 3000 slots is read back in three shards
            for (long op = 1; op <= 2500; op++) {
                byte[] req = {1, 0, 0, (byte) (op >> 8), (byte) op};
                requests.add(req);
                TestRun r = dp.xdpProgram().testRun(frame(0, 1, Wire.encode(new VrMessage.Prepare(0, 0, op, 0,
                        0x0a4d0163, 40000, req))), 1);
                if (op == 1 || op == 2500) {
                    assertEquals(XDP_TX, r.returnValue());
                    assertArrayEquals(Wire.encode(new VrMessage.PrepareOk(0, 1, op)),
                            Arrays.copyOfRange(r.dataOut(), 42, r.dataOut().length));
                }
            }
            assertEquals(2500, dp.status().contiguous());
            List<LogEntry> log = dp.getNicLog(1, 2500);
            assertEquals(2500, log.size());
            for (int i = 0; i < log.size(); i++) {
                assertEquals(new LogEntry(i + 1, 0x0a4d0163, 40000, requests.get(i)), log.get(i));
            }
            assertEquals(List.of(), dp.getNicLog(2501, 2600), "not logged yet");
            assertEquals(2500, dp.counters().get("prepareoks_sent"));
        }
    }

    @Test
    void theLeadersCommitReachesTheRingBuffer() {
        try (ConsensusDataPlane dp = load()) {
            dp.updateReplica(group(), 0);
            // number two entries as the leader's TC ingress would: write them into the state and the log
            var st = dp.status();
            assertEquals(0, st.lastOp());
            List<Long> commits = new ArrayList<>();
            try (RingBuffer ring = RingBuffer.open(dp.eventsMap(), e -> {
                ByteBuffer b = ByteBuffer.wrap(e).order(ByteOrder.LITTLE_ENDIAN);
                if (b.getInt(0) == 1) {
                    commits.add(b.getLong(8));
                }
            })) {
                for (int i = 0; i < 2; i++) {
                    TestRun r = dp.ingressProgram().testRun(clientRequest(new byte[] {1, 0, 0, 0, (byte) i}), 1);
                    assertEquals(2, r.returnValue(), "TC_ACT_SHOT: consumed");
                }
                assertEquals(2, dp.status().lastOp());
                assertEquals(XDP_DROP, dp.xdpProgram().testRun(frame(2, 0,
                        Wire.encode(new VrMessage.PrepareOk(0, 2, 2))), 1).returnValue());
                assertEquals(2, dp.status().commit(), "leader and member 2 hold 1..2: a majority of 3");
                ring.poll(Duration.ofSeconds(1));
                assertEquals(List.of(2L), commits, "one event: commit is now 2");
                Map<String, Long> c = dp.counters();
                assertEquals(2, c.get("ordered"));
                assertEquals(1, c.get("prepareoks_received"));
                assertEquals(4, c.get("send_failed"), "no interface configured: both copies of both PREPAREs fail");
            }
            assertEquals(2, dp.getNicLog(1, 2).size());
        }
    }

    @Test
    void otherTrafficIsHandedToTheChainedHandlerProgram() {
        try (ConsensusDataPlane dp = load(); BpfObject other = BpfObject.open(Kernel.bpfObject("xdp_count"))) {
            other.load();
            dp.updateReplica(group(), 1);
            try (BpfProgram count = other.program("xdp_count").handle(); BpfMap counts = other.map("counts").handle()) {
                byte[] request = clientRequest(new byte[] {2, 0, 0, 0, 1});
                assertEquals(2, dp.xdpProgram().testRun(request, 1).returnValue(), "XDP_PASS without a chain");
                assertEquals(0, counted(counts));
                dp.chainXdp(count);
                assertEquals(2, dp.xdpProgram().testRun(request, 1).returnValue());
                assertEquals(1, counted(counts), "the chained program ran on the client's datagram");
                dp.xdpProgram().testRun(frame(0, 1, Wire.encode(new VrMessage.Commit(0, 0, 0))), 1);
                assertEquals(1, counted(counts), "replication is the data plane's own");
                dp.chainXdp(null);
                dp.xdpProgram().testRun(request, 1);
                assertEquals(1, counted(counts), "unchained");
            }
        }
    }

    private static long counted(BpfMap counts) {
        return counts.lookup(ConsensusDataPlane.key(0)).map(v -> ByteBuffer.wrap(v).order(ByteOrder.LITTLE_ENDIAN)
                .getLong()).orElse(0L);
    }

    @Test
    void updateReplicaChecksTheGroupAgainstTheBlock() {
        try (ConsensusDataPlane dp = load()) {
            assertThrows(IllegalArgumentException.class, () -> dp.updateReplica(group().withView(0), 3));
            assertThrows(IllegalArgumentException.class, () -> dp.updateReplica(
                    new Group(0, group().members(), 9100), 0));
        }
    }

    /** A group of three on 10.77.1.0/24 (test runs only: no network). */
    static Group group() {
        List<dev.xps.consensus.Member> members = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try {
                members.add(new dev.xps.consensus.Member(i, (java.net.Inet4Address)
                        java.net.InetAddress.getByName("10.77.1." + (i + 1)), VrNet.macBytes(i)));
            } catch (java.net.UnknownHostException e) {
                throw new AssertionError(e);
            }
        }
        return new Group(0, members, 9000);
    }

    static byte[] clientRequest(byte[] payload) {
        return frame(VrNet.macBytes(9), VrNet.macBytes(0), 0x0a4d0163, 0x0a4d0101, 40000, 9000, payload);
    }

    static byte[] frame(int from, int to, byte[] payload) {
        return frame(VrNet.macBytes(from), VrNet.macBytes(to), 0x0a4d0101 + from, 0x0a4d0101 + to, 9001, 9001,
                payload);
    }

    static byte[] frame(byte[] srcMac, byte[] dstMac, int srcIp, int dstIp, int sport, int dport, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(42 + payload.length);
        b.put(dstMac).put(srcMac).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (28 + payload.length)).putShort((short) 0)
                .putShort((short) 0x4000).put((byte) 64).put((byte) 17).putShort((short) 0).putInt(srcIp).putInt(dstIp);
        b.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0);
        b.put(payload);
        return b.array();
    }
}
