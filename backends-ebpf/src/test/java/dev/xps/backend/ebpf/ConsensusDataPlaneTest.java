package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.consensus.wire.VrMessage;
import dev.xps.consensus.wire.Wire;
import dev.xps.testing.SampleFiles;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The consensus data plane in the kernel: every sample with a consensus block builds and every program loads;
 * the XDP program, run with BPF_PROG_TEST_RUN on crafted frames, answers PREPARE with the PREPAREOK bytes the
 * Java codec ({@link Wire}) produces, acknowledges only the contiguous prefix across a gap, re-acknowledges a
 * retransmission, advances the leader's commit at a quorum and drops and counts bad messages. The TC ingress
 * program turns a client request into the PREPARE the codec produces. Every frame the programs write carries a
 * correct UDP checksum, recomputed here from the bytes.
 */
class ConsensusDataPlaneTest {
    static final int XDP_DROP = 1;
    static final int XDP_PASS = 2;
    static final int XDP_TX = 3;
    static final int TC_ACT_OK = 0;
    static final int TC_ACT_SHOT = 2;
    /** Tests load logs of this many slots (the samples ask for 1M; kv's 600-byte entries would take 632 MiB). */
    static final long TEST_SLOTS = 4096;
    static final int PORT = 9000;
    static final byte[] LEADER_MAC = {2, 0, 0, 0, 0, 10};
    static final byte[] MAC1 = {2, 0, 0, 0, 0, 11};
    static final byte[] MAC2 = {2, 0, 0, 0, 0, 12};
    static final int LEADER_IP = 0x0a000a01;
    static final int IP1 = 0x0a000a02;
    static final int IP2 = 0x0a000a03;
    static final int CLIENT_IP = 0x0a000a63;
    static final int CLIENT_PORT = 40000;

    static Path dir;
    static Bpftool.Pins pins;

    @BeforeAll
    static void load() throws Exception {
        KernelAssumptions.requireKernel();
        dir = Files.createTempDirectory("xdp-vr-backend-");
        pins = build(SampleFiles.dir().resolve("timestamp-server.xps"), "timestamps");
    }

    @AfterAll
    static void unload() {
        if (pins != null) {
            pins.close();
        }
        Clang.deleteTree(dir);
    }

    /** Generates, builds and loads the consensus object of a sample (log capped at TEST_SLOTS). */
    static Bpftool.Pins build(Path sample, String tag) throws Exception {
        IrModule module = SampleFiles.compile(sample);
        Diagnostics diagnostics = new Diagnostics();
        List<GeneratedFile> files = new ConsensusGenerator(module, diagnostics, TEST_SLOTS)
                .files("", Clang.toolchain());
        assertFalse(diagnostics.hasErrors(), () -> diagnostics.sorted().toString());
        GeneratedFile object = files.stream().filter(f -> f.relativePath().endsWith(".consensus.bpf.o")).findFirst()
                .orElseThrow(() -> new AssertionError("no consensus object for " + sample));
        Path obj = dir.resolve(module.baseName() + ".consensus.bpf.o");
        Files.write(obj, object.content());
        return Bpftool.load(obj, "xdp-vr-test-" + ProcessHandle.current().pid() + "-" + tag, true);
    }

    @Test
    void everyConsensusSampleLoads() throws Exception {
        int samples = 0;
        for (Path sample : SampleFiles.all()) {
            IrModule module = SampleFiles.compile(sample);
            if (module.consensus().isEmpty()) {
                continue;
            }
            samples++;
            try (Bpftool.Pins p = build(sample, "load-" + module.baseName())) {
                TreeSet<String> expected = new TreeSet<>();
                for (var c : module.consensus()) {
                    for (String role : List.of("ingress", "xdp", "egress")) {
                        expected.add("vr_" + c.name() + "_" + role);
                    }
                    for (String map : List.of("config", "state", "log", "counters", "events", "next")) {
                        assertTrue(Files.exists(p.map("vr_" + c.name() + "_" + map)), map + " of " + c.name());
                    }
                }
                TreeSet<String> pinned = new TreeSet<>();
                try (Stream<Path> progs = Files.list(p.progs)) {
                    progs.forEach(x -> pinned.add(x.getFileName().toString()));
                }
                assertEquals(expected, pinned, "programs of " + sample.getFileName());
                assertEquals(expected, new TreeSet<>(p.verifiedInsns.keySet()), "the verifier ran on each");
                System.out.println("verified instructions, consensus of " + sample.getFileName() + ": "
                        + p.verifiedInsns);
            }
        }
        assertTrue(samples >= 2, "the samples timestamp-server and kv-replicated have consensus blocks");
    }

    @Test
    void theLargestBlocksLoadAndTwoBlocksShareAnObject() throws Exception {
        IrModule module = SampleFiles.compile("big.xps", """
                consensus wide on udp port 7000 {
                  replicas 63;
                  log capacity 1024 entry 1436;
                  order when u32be at 2 in { 7, 9, 4294967295 };
                  failure_threshold 1000;
                }
                consensus small on udp port 7100 { replicas 3; log capacity 16 entry 1; order all; }
                """);
        Diagnostics diagnostics = new Diagnostics();
        List<GeneratedFile> files = new ConsensusGenerator(module, diagnostics).files("", Clang.toolchain());
        assertFalse(diagnostics.hasErrors(), () -> diagnostics.sorted().toString());
        String c = new String(files.getFirst().content(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(c.contains("v == 4294967295ULL"), "the u32 values are compared");
        assertTrue(c.contains("order when u32be at 2 in { 7, 9, 4294967295 }"), "described as written");
        assertTrue(c.contains("((__u64)b[0] << 24) | ((__u64)b[1] << 16) | ((__u64)b[2] << 8) | (__u64)b[3]"),
                "a big-endian u32");
        Path obj = dir.resolve("big.consensus.bpf.o");
        Files.write(obj, files.stream().filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst().orElseThrow()
                .content());
        try (Bpftool.Pins p = Bpftool.load(obj, "xdp-vr-test-" + ProcessHandle.current().pid() + "-big", false);
             Stream<Path> progs = Files.list(p.progs)) {
            assertEquals(6, progs.count(), "three programs per block");
        }
    }

    @Test
    void aPortRangeIsRefused() {
        IrModule module = SampleFiles.compile("range.xps", """
                consensus r on udp port 7000..7001 { replicas 3; log capacity 16 entry 16; order all; }
                """);
        Diagnostics diagnostics = new Diagnostics();
        new ConsensusGenerator(module, diagnostics).files("", Optional.empty());
        assertTrue(diagnostics.sorted().toString().contains("one UDP port, not a range"), diagnostics.sorted().toString());
    }

    // ------------------------------------------------------------------ XDP, replica

    @Test
    void replicaAnswersPrepareWithTheCodecsPrepareOk() throws Exception {
        configure(1);
        byte[] request = {1, 0, 0, 0, 42};
        TestRunResult r = xdp(LEADER_MAC, MAC1, LEADER_IP, IP1, new VrMessage.Prepare(0, 0, 1, 0, CLIENT_IP,
                CLIENT_PORT, request));
        assertEquals(XDP_TX, r.retval);
        assertEquals(42 + 20, r.frame.length, "PREPAREOK frame length");
        assertArrayEquals(Wire.encode(new VrMessage.PrepareOk(0, 1, 1)), Arrays.copyOfRange(r.frame, 42, 62));
        assertArrayEquals(LEADER_MAC, Arrays.copyOfRange(r.frame, 0, 6), "to the leader's MAC");
        assertArrayEquals(MAC1, Arrays.copyOfRange(r.frame, 6, 12), "from mine");
        ByteBuffer b = ByteBuffer.wrap(r.frame);
        assertEquals(IP1, b.getInt(26), "from my address");
        assertEquals(LEADER_IP, b.getInt(30), "to the leader");
        assertEquals(PORT + 1, b.getShort(36) & 0xffff);
        assertEquals(PORT + 1, b.getShort(34) & 0xffff);
        assertEquals(28, b.getShort(38) & 0xffff, "UDP length");
        assertEquals(48, b.getShort(16) & 0xffff, "IP total length");
        assertEquals(0, ipChecksum(r.frame), "IPv4 header checksum");
        ByteBuffer slot = slot(1);
        assertEquals(1, slot.getLong(0), "slot 1 holds op 1");
        assertEquals(CLIENT_IP, Integer.reverseBytes(slot.getInt(24)), "client address");
        assertEquals(CLIENT_PORT, Short.toUnsignedInt(Short.reverseBytes(slot.getShort(28))));
        assertEquals(request.length, slot.getShort(30));
        assertArrayEquals(request, Arrays.copyOfRange(slot.array(), 32, 32 + request.length));
        assertEquals(1, state().getLong(16), "contiguous");
    }

    @Test
    void aGapIsAcknowledgedUpToTheContiguousPrefixAndARetransmissionIsAcknowledgedAgain() throws Exception {
        configure(1);
        assertEquals(1, ack(prepare(1, 0)));
        assertEquals(1, ack(prepare(3, 0)), "op 2 is missing: the ack stays at 1");
        assertEquals(1, ack(prepare(4, 0)));
        assertEquals(4, ack(prepare(2, 0)), "the gap is filled: 2, 3 and 4 are contiguous");
        long dupsBefore = counter("duplicates");
        assertEquals(4, ack(prepare(2, 0)), "a retransmission is acknowledged again");
        assertEquals(dupsBefore + 1, counter("duplicates"));
        assertEquals(4, state().getLong(16));
    }

    @Test
    void aPiggyBackedCommitIsAppliedUpToTheContiguousPrefix() throws Exception {
        configure(1);
        long before = counter("commits") + counter("ring_full");
        assertEquals(1, ack(prepare(1, 0)));
        assertEquals(1, ack(prepare(3, 3)), "commit 3 arrives with a gap at 2");
        assertEquals(1, state().getLong(8), "commit = min(3, contiguous 1)");
        assertEquals(1, ack(new VrMessage.Commit(0, 0, 3)),
                "COMMIT is answered with PREPAREOK(contiguous): the leader's heartbeat for its host check");
        assertEquals(1, state().getLong(8));
        assertEquals(3, ack(prepare(2, 3)));
        assertEquals(3, state().getLong(8), "commit follows contiguous");
        assertEquals(before, counter("commits") + counter("ring_full"), "replica commits are not leader commits");
    }

    // ------------------------------------------------------------------ XDP, leader

    @Test
    void theLeaderCommitsAtAQuorumOfPrepareOks() throws Exception {
        configure(0);
        ByteBuffer st = ByteBuffer.allocate(stateSize()).order(ByteOrder.LITTLE_ENDIAN);
        st.putLong(0, 5); // last_op: five entries numbered
        Bpftool.update(pins.map("vr_timestamps_state"), key(), st.array());
        for (long op = 1; op <= 5; op++) {
            ByteBuffer s = ByteBuffer.allocate(slotSize()).order(ByteOrder.LITTLE_ENDIAN);
            s.putLong(0, op);
            Bpftool.update(pins.map("vr_timestamps_log"), key((int) op), s.array());
        }
        long commits = counter("commits");
        assertEquals(XDP_DROP, xdp(MAC1, LEADER_MAC, IP1, LEADER_IP, new VrMessage.PrepareOk(0, 1, 3)).retval);
        assertEquals(3, state().getLong(8), "leader + member 1 hold 1..3: a majority of 3");
        assertEquals(3, state().getLong(48 + 8), "acked[1]");
        assertEquals(commits + 1, counter("commits"), "one commit event");
        assertTrue(slot(3).getLong(16) > 0, "entry 3's commit time is stamped (the host RTT starts)");
        assertEquals(XDP_DROP, xdp(MAC2, LEADER_MAC, IP2, LEADER_IP, new VrMessage.PrepareOk(0, 2, 2)).retval);
        assertEquals(3, state().getLong(8), "an older ack does not move the commit");
        assertEquals(commits + 1, counter("commits"));
        assertEquals(XDP_DROP, xdp(MAC2, LEADER_MAC, IP2, LEADER_IP, new VrMessage.PrepareOk(0, 2, 5)).retval);
        assertEquals(5, state().getLong(8));
        assertEquals(commits + 2, counter("commits"));
        long bad = counter("bad");
        assertEquals(XDP_DROP, xdp(MAC2, LEADER_MAC, IP2, LEADER_IP, new VrMessage.PrepareOk(0, 2, 9)).retval);
        assertEquals(bad + 1, counter("bad"), "an ack beyond last_op is bad");
        assertEquals(5, state().getLong(8));
    }

    // ------------------------------------------------------------------ bad messages, other traffic

    @Test
    void badMessagesAreDroppedAndCounted() throws Exception {
        configure(1);
        byte[] good = Wire.encode(new VrMessage.Prepare(0, 0, 1, 0, CLIENT_IP, CLIENT_PORT, new byte[] {1, 2}));
        List<byte[]> bads = List.of(
                patched(good, 0, (byte) 0x00),          // magic
                patched(good, 2, (byte) 2),             // version
                patched(good, 7, (byte) 1),             // view 1, configured 0
                patched(good, 9, (byte) 1),             // reserved byte
                patched(good, 8, (byte) 1),             // PREPARE from a member that is not the leader
                Arrays.copyOf(good, good.length - 1),   // length field says 2, one byte follows
                Arrays.copyOf(good, 10));               // shorter than the header
        for (byte[] payload : bads) {
            long before = counter("bad");
            TestRunResult r = run(frame(LEADER_MAC, MAC1, LEADER_IP, IP1, PORT + 1, payload));
            assertEquals(XDP_DROP, r.retval, () -> "dropped: " + java.util.HexFormat.of().formatHex(payload));
            assertEquals(before + 1, counter("bad"), () -> "counted: " + java.util.HexFormat.of().formatHex(payload));
        }
        assertEquals(0, state().getLong(16), "nothing was logged");
        byte[] other = frame(LEADER_MAC, MAC1, LEADER_IP, IP1, PORT, good);
        assertEquals(XDP_PASS, run(other).retval, "the client port is not the XDP program's");
    }

    // ------------------------------------------------------------------ TC ingress, leader

    @Test
    void theLeaderTurnsAnOrderedRequestIntoPrepare() throws Exception {
        configure(0);
        byte[] request = {1, 0, 0, 0, 7};
        byte[] in = frame(MAC1, LEADER_MAC, CLIENT_IP, LEADER_IP, CLIENT_PORT, PORT, request);
        Bpftool.TestRun r = Bpftool.testRun(pins.program("vr_timestamps_ingress"), in, dir);
        assertEquals(TC_ACT_SHOT, r.retval(), "the request is consumed");
        assertEquals(1, state().getLong(0), "last_op");
        ByteBuffer slot = slot(1);
        assertEquals(1, slot.getLong(0));
        assertArrayEquals(request, Arrays.copyOfRange(slot.array(), 32, 32 + request.length));
        byte[] out = r.dataOut();
        assertArrayEquals(Wire.encode(new VrMessage.Prepare(0, 0, 1, 0, CLIENT_IP, CLIENT_PORT, request)),
                Arrays.copyOfRange(out, 42, out.length), "the PREPARE the codec encodes");
        ByteBuffer b = ByteBuffer.wrap(out);
        assertEquals(LEADER_IP, b.getInt(26));
        assertEquals(IP2, b.getInt(30), "the last copy went to member 2");
        assertArrayEquals(MAC2, Arrays.copyOfRange(out, 0, 6));
        assertEquals(0, ipChecksum(out));
        assertEquals(2, counter("send_failed") - sentBefore, "two copies (ifindex 0 does not exist in the test)");

        byte[] unordered = frame(MAC1, LEADER_MAC, CLIENT_IP, LEADER_IP, CLIENT_PORT, PORT, new byte[] {2, 0, 0, 0, 7});
        assertEquals(TC_ACT_OK, Bpftool.testRun(pins.program("vr_timestamps_ingress"), unordered, dir).retval(),
                "a probe is not ordered");
        byte[] oversize = frame(MAC1, LEADER_MAC, CLIENT_IP, LEADER_IP, CLIENT_PORT, PORT, new byte[17]);
        oversize[42] = 1;
        long o = counter("oversize");
        assertEquals(TC_ACT_SHOT, Bpftool.testRun(pins.program("vr_timestamps_ingress"), oversize, dir).retval());
        assertEquals(o + 1, counter("oversize"));
        assertEquals(1, state().getLong(0), "neither was numbered");
    }

    @Test
    void theLeaderOrdersOnlyRequestsAddressedToItself() throws Exception {
        configure(0);
        byte[] request = {1, 0, 0, 0, 7};
        // a bridge floods a frame for a MAC it has not learnt (or whose port went down) to every member
        byte[] toOther = frame(MAC1, LEADER_MAC, CLIENT_IP, IP1, CLIENT_PORT, PORT, request);
        assertEquals(TC_ACT_OK, Bpftool.testRun(pins.program("vr_timestamps_ingress"), toOther, dir).retval(),
                "another member's request goes to the stack");
        assertEquals(0, state().getLong(0), "and is not numbered");
        byte[] toMe = frame(MAC1, LEADER_MAC, CLIENT_IP, LEADER_IP, CLIENT_PORT, PORT, request);
        assertEquals(TC_ACT_SHOT, Bpftool.testRun(pins.program("vr_timestamps_ingress"), toMe, dir).retval());
        assertEquals(1, state().getLong(0), "its own is");
    }

    @Test
    void neitherRoleOverwritesAnEntryThatIsNotCommitted() throws Exception {
        configure(1);
        long beyond = counter("beyond_log");
        assertEquals(0, ack(prepare(TEST_SLOTS + 1, 0)), "op capacity + 1 would take slot 1 before 1 commits");
        assertEquals(beyond + 1, counter("beyond_log"));
        assertEquals(0, slot(TEST_SLOTS + 1).getLong(0), "not stored");
        assertEquals(0, ack(prepare(TEST_SLOTS, 0)) , "op capacity is stored (slot 0), beyond the gap");
        assertEquals(TEST_SLOTS, slot(0).getLong(0));

        configure(0);
        ByteBuffer st = ByteBuffer.allocate(stateSize()).order(ByteOrder.LITTLE_ENDIAN);
        st.putLong(0, TEST_SLOTS).putLong(8, 0); // last_op = capacity, commit 0: the log is full
        Bpftool.update(pins.map("vr_timestamps_state"), key(), st.array());
        long full = counter("log_full");
        byte[] in = frame(MAC1, LEADER_MAC, CLIENT_IP, LEADER_IP, CLIENT_PORT, PORT, new byte[] {1, 0, 0, 0, 9});
        assertEquals(TC_ACT_SHOT, Bpftool.testRun(pins.program("vr_timestamps_ingress"), in, dir).retval());
        assertEquals(full + 1, counter("log_full"));
        assertEquals(TEST_SLOTS, state().getLong(0), "no op was numbered: op numbers never skip");
        st.putLong(8, 1); // entry 1 commits: its slot may be reused
        Bpftool.update(pins.map("vr_timestamps_state"), key(), st.array());
        assertEquals(TC_ACT_SHOT, Bpftool.testRun(pins.program("vr_timestamps_ingress"), in, dir).retval());
        assertEquals(TEST_SLOTS + 1, state().getLong(0));
        assertEquals(full + 1, counter("log_full"));
    }

    // ------------------------------------------------------------------ UDP checksums of the frames the programs write

    @Test
    void prepareOkFramesCarryACorrectUdpChecksum() throws Exception {
        configure(1);
        for (int len = 0; len <= 16; len++) { // every tail of 0-3 bytes after whole words
            byte[] request = new byte[len];
            for (int i = 0; i < len; i++) {
                request[i] = (byte) (0x9d + 37 * i + len);
            }
            TestRunResult r = xdp(LEADER_MAC, MAC1, LEADER_IP, IP1, new VrMessage.Prepare(0, 0, len + 1, len,
                    CLIENT_IP, CLIENT_PORT, request));
            assertEquals(XDP_TX, r.retval);
            assertUdpChecksum(r.frame, "PREPAREOK for a PREPARE of " + len + " request bytes");
        }
        TestRunResult r = xdp(LEADER_MAC, MAC1, LEADER_IP, IP1, new VrMessage.Commit(0, 0, 17));
        assertEquals(XDP_TX, r.retval);
        assertUdpChecksum(r.frame, "PREPAREOK for a COMMIT");
    }

    @Test
    void prepareFramesCarryACorrectUdpChecksum() throws Exception {
        configure(0);
        for (int len = 1; len <= 16; len++) {
            byte[] request = new byte[len];
            request[0] = 1; // ordered
            for (int i = 1; i < len; i++) {
                request[i] = (byte) (0xf1 - 29 * i + len);
            }
            byte[] in = frame(MAC1, LEADER_MAC, CLIENT_IP, LEADER_IP, CLIENT_PORT, PORT, request);
            Bpftool.TestRun r = Bpftool.testRun(pins.program("vr_timestamps_ingress"), in, dir);
            assertEquals(TC_ACT_SHOT, r.retval());
            assertEquals(78 + len, r.dataOut().length);
            assertUdpChecksum(r.dataOut(), "PREPARE of " + len + " request bytes");
        }
    }

    /** Entries longer than bpf_csum_diff's 512 bytes a call, in both directions. */
    @Test
    void largeEntriesCarryACorrectUdpChecksumToo() throws Exception {
        IrModule module = SampleFiles.compile("large.xps", """
                consensus timestamps on udp port 9000 { replicas 3; log capacity 4096 entry 1436; order all; }
                """);
        Diagnostics diagnostics = new Diagnostics();
        List<GeneratedFile> files = new ConsensusGenerator(module, diagnostics).files("", Clang.toolchain());
        assertFalse(diagnostics.hasErrors(), () -> diagnostics.sorted().toString());
        Path obj = dir.resolve("large.consensus.bpf.o");
        Files.write(obj, files.stream().filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst().orElseThrow()
                .content());
        Bpftool.Pins small = pins;
        int smallSlot = slotBytes;
        try (Bpftool.Pins large = Bpftool.load(obj, "xdp-vr-test-" + ProcessHandle.current().pid() + "-large", false)) {
            pins = large;
            slotBytes = 32 + 1440;
            configure(0);
            long op = 0;
            for (int len : new int[] {1, 4, 511, 512, 513, 515, 1023, 1024, 1025, 1027, 1435, 1436}) {
                byte[] request = new byte[len];
                for (int i = 0; i < len; i++) {
                    request[i] = (byte) (i * 7 + len);
                }
                byte[] in = frame(MAC1, LEADER_MAC, CLIENT_IP, LEADER_IP, CLIENT_PORT, PORT, request);
                Bpftool.TestRun r = Bpftool.testRun(pins.program("vr_timestamps_ingress"), in, dir);
                assertEquals(TC_ACT_SHOT, r.retval());
                op++;
                assertArrayEquals(Wire.encode(new VrMessage.Prepare(0, 0, op, 0, CLIENT_IP, CLIENT_PORT, request)),
                        Arrays.copyOfRange(r.dataOut(), 42, r.dataOut().length), "PREPARE of " + len + " bytes");
                assertUdpChecksum(r.dataOut(), "PREPARE of " + len + " request bytes");
            }
            configure(1);
            byte[] request = new byte[1436];
            Arrays.fill(request, (byte) 0xa5);
            TestRunResult r = xdp(LEADER_MAC, MAC1, LEADER_IP, IP1, new VrMessage.Prepare(0, 0, 1, 0, CLIENT_IP,
                    CLIENT_PORT, request));
            assertEquals(XDP_TX, r.retval);
            assertEquals(62, r.frame.length);
            assertUdpChecksum(r.frame, "PREPAREOK for a PREPARE of 1436 bytes");
        } finally {
            pins = small;
            slotBytes = smallSlot;
        }
    }

    /** The frame's UDP checksum field holds the checksum computed here over the pseudo header and the datagram. */
    static void assertUdpChecksum(byte[] f, String what) {
        int udpLen = ((f[38] & 0xff) << 8) | (f[39] & 0xff);
        assertEquals(f.length - 34, udpLen, what + ": UDP length");
        int field = ((f[40] & 0xff) << 8) | (f[41] & 0xff);
        assertTrue(field != 0, what + ": has a UDP checksum");
        long sum = 0;
        for (int i = 26; i < 34; i += 2) { // source and destination address
            sum += ((f[i] & 0xff) << 8) | (f[i + 1] & 0xff);
        }
        sum += 17 + udpLen; // zero, protocol, UDP length
        for (int i = 34; i < 34 + udpLen; i += 2) {
            if (i == 40) {
                continue; // the checksum field itself counts as 0
            }
            int hi = f[i] & 0xff;
            int lo = i + 1 < 34 + udpLen ? f[i + 1] & 0xff : 0;
            sum += (hi << 8) | lo;
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        int expected = (int) (~sum & 0xffff);
        assertEquals(expected == 0 ? 0xffff : expected, field, what + ": UDP checksum");
        assertEquals(0, ipChecksum(f), what + ": IPv4 header checksum");
    }

    // ------------------------------------------------------------------ TC egress, leader: host RTT and failure

    @Test
    void aReplyToTheOldestDeliveredEntryIsAnRttSampleAndALateOneStopsOrdering() throws Exception {
        configure(0);
        ByteBuffer st = ByteBuffer.allocate(stateSize()).order(ByteOrder.LITTLE_ENDIAN);
        st.putLong(0, 2).putLong(8, 2); // two entries numbered and committed, none answered
        Bpftool.update(pins.map("vr_timestamps_state"), key(), st.array());
        for (int op = 1; op <= 2; op++) {
            ByteBuffer s = ByteBuffer.allocate(slotSize()).order(ByteOrder.LITTLE_ENDIAN);
            s.putLong(0, op).putLong(16, 1); // committed at boot time: an old entry
            s.order(ByteOrder.BIG_ENDIAN).putInt(24, CLIENT_IP).putShort(28, (short) CLIENT_PORT);
            Bpftool.update(pins.map("vr_timestamps_log"), key(op), s.array());
        }
        long samples = counter("rtt_samples");
        byte[] toOther = frame(LEADER_MAC, MAC1, LEADER_IP, CLIENT_IP, PORT, CLIENT_PORT + 1, new byte[] {(byte) 0x82});
        assertEquals(TC_ACT_OK, Bpftool.testRun(pins.program("vr_timestamps_egress"), toOther, dir).retval());
        assertEquals(0, state().getLong(24), "a reply to another client answers no ordered entry");
        byte[] reply = frame(LEADER_MAC, MAC1, LEADER_IP, CLIENT_IP, PORT, CLIENT_PORT, new byte[] {(byte) 0x81});
        assertEquals(TC_ACT_OK, Bpftool.testRun(pins.program("vr_timestamps_egress"), reply, dir).retval());
        assertEquals(1, state().getLong(24), "answered");
        long rtt = state().getLong(32);
        assertTrue(rtt > 0, "the first sample is the average");
        assertEquals(samples + 1, counter("rtt_samples"));

        // entry 2 has been waiting since boot, far more than 5 x the RTT above: the next ordered request
        // finds the host failed, stops ordering and is dropped
        long failures = counter("failures");
        long stopped = counter("stopped");
        ByteBuffer now = state();
        now.putLong(32, 1000); // an RTT average of 1 µs
        Bpftool.update(pins.map("vr_timestamps_state"), key(), now.array());
        byte[] in = frame(MAC1, LEADER_MAC, CLIENT_IP, LEADER_IP, CLIENT_PORT, PORT, new byte[] {1, 0, 0, 0, 9});
        assertEquals(TC_ACT_SHOT, Bpftool.testRun(pins.program("vr_timestamps_ingress"), in, dir).retval());
        assertEquals(1, state().getInt(40), "stopped");
        assertEquals(failures + 1, counter("failures"));
        assertEquals(stopped + 1, counter("stopped"));
        assertEquals(2, state().getLong(0), "not numbered");
        assertEquals(TC_ACT_SHOT, Bpftool.testRun(pins.program("vr_timestamps_ingress"), in, dir).retval());
        assertEquals(failures + 1, counter("failures"), "reported once");
    }

    // ------------------------------------------------------------------ helpers

    private static long sentBefore;

    record TestRunResult(int retval, byte[] frame) {}

    /** Resets the maps and configures the timestamp block as member {@code me} of three, in view 0. */
    static void configure(int me) throws Exception {
        ByteBuffer c = ByteBuffer.allocate(configSize()).order(ByteOrder.LITTLE_ENDIAN);
        c.putInt(0, 1).putInt(4, 0).putInt(8, me).putInt(12, 3).putInt(16, 0).putInt(20, 0)
                .putLong(24, TEST_SLOTS).putInt(32, 1).putInt(36, 256).putLong(40, 0);
        int[] ips = {LEADER_IP, IP1, IP2};
        byte[][] macs = {LEADER_MAC, MAC1, MAC2};
        for (int i = 0; i < 3; i++) {
            c.order(ByteOrder.BIG_ENDIAN).putInt(48 + 12 * i, ips[i]);
            c.put(48 + 12 * i + 4, macs[i]);
        }
        Bpftool.update(pins.map("vr_timestamps_config"), key(), c.array());
        Bpftool.update(pins.map("vr_timestamps_state"), key(), new byte[stateSize()]);
        for (int op = 1; op <= 8; op++) {
            Bpftool.update(pins.map("vr_timestamps_log"), key(op), new byte[slotSize()]);
        }
        sentBefore = counter("send_failed");
    }

    static int configSize() {
        return ConsensusGenerator.align8(48 + 12 * 3);
    }

    static int stateSize() {
        return 48 + 8 * 3;
    }

    /** The loaded object's log slot: 32 bytes and the entry (the timestamp block's 16). */
    static int slotBytes = 32 + 16;

    static int slotSize() {
        return slotBytes;
    }

    static byte[] key() {
        return key(0);
    }

    static byte[] key(int k) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array();
    }

    static ByteBuffer state() throws Exception {
        return ByteBuffer.wrap(Bpftool.lookup(pins.map("vr_timestamps_state"), key()).orElseThrow())
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    static ByteBuffer slot(long op) throws Exception {
        return ByteBuffer.wrap(Bpftool.lookup(pins.map("vr_timestamps_log"), key((int) (op % TEST_SLOTS)))
                .orElseThrow()).order(ByteOrder.LITTLE_ENDIAN);
    }

    static long counter(String name) throws Exception {
        int i = ConsensusGenerator.COUNTERS.indexOf(name);
        long[] sums = Bpftool.sumPerCpu(pins.map("vr_timestamps_counters"), 0, ConsensusGenerator.COUNTERS.size());
        return sums[i];
    }

    static VrMessage prepare(long op, long commit) {
        return new VrMessage.Prepare(0, 0, op, commit, CLIENT_IP, CLIENT_PORT, new byte[] {1, 0, 0, 0, (byte) op});
    }

    /** Runs a PREPARE on the replica and returns the op of its PREPAREOK. */
    static long ack(VrMessage m) throws Exception {
        TestRunResult r = xdp(LEADER_MAC, MAC1, LEADER_IP, IP1, m);
        assertEquals(XDP_TX, r.retval, "answered with XDP_TX");
        Optional<VrMessage> ok = Wire.decode(Arrays.copyOfRange(r.frame, 42, r.frame.length));
        assertTrue(ok.isPresent() && ok.get() instanceof VrMessage.PrepareOk, "a PREPAREOK");
        VrMessage.PrepareOk p = (VrMessage.PrepareOk) ok.get();
        assertEquals(1, p.sender());
        return p.op();
    }

    static TestRunResult xdp(byte[] srcMac, byte[] dstMac, int srcIp, int dstIp, VrMessage m) throws Exception {
        return run(frame(srcMac, dstMac, srcIp, dstIp, PORT + 1, Wire.encode(m)));
    }

    static TestRunResult run(byte[] frame) throws Exception {
        Bpftool.TestRun r = Bpftool.testRun(pins.program("vr_timestamps_xdp"), frame, dir);
        return new TestRunResult(r.retval(), r.dataOut());
    }

    static byte[] frame(byte[] srcMac, byte[] dstMac, int srcIp, int dstIp, int port, byte[] payload) {
        return frame(srcMac, dstMac, srcIp, dstIp, port, port, payload);
    }

    static byte[] frame(byte[] srcMac, byte[] dstMac, int srcIp, int dstIp, int sport, int dport, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(42 + payload.length);
        b.put(dstMac).put(srcMac).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (28 + payload.length)).putShort((short) 0)
                .putShort((short) 0x4000).put((byte) 64).put((byte) 17).putShort((short) 0).putInt(srcIp).putInt(dstIp);
        b.putShort((short) sport).putShort((short) dport).putShort((short) (8 + payload.length)).putShort((short) 0);
        b.put(payload);
        byte[] f = b.array();
        int csum = ipChecksum(f);
        f[24] = (byte) (csum >> 8);
        f[25] = (byte) csum;
        return f;
    }

    /** The ones'-complement sum of the IPv4 header, folded and inverted: 0 when the checksum is right. */
    static int ipChecksum(byte[] f) {
        int sum = 0;
        for (int i = 14; i < 34; i += 2) {
            sum += ((f[i] & 0xff) << 8) | (f[i + 1] & 0xff);
        }
        while ((sum >> 16) != 0) {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return ~sum & 0xffff;
    }

    static byte[] patched(byte[] b, int at, byte v) {
        byte[] c = b.clone();
        c[at] = v;
        return c;
    }
}
