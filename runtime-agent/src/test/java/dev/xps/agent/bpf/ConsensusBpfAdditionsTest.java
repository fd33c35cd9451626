package dev.xps.agent.bpf;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Sh;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What the consensus data plane added to the binding: {@link BpfProgram#attachTcx} (tcx links on a veth in an
 * {@code xdp-vr} namespace: the program runs on the interface's ingress, then on its egress, and stops when the
 * link is closed) and {@link BpfMap#lookupBatch(byte[], int)} (a range of an array in one call).
 */
@Tag("kernel")
class ConsensusBpfAdditionsTest {
    @Test
    void tcxLinksRunTheProgramOnIngressAndEgressUntilClosed() throws Exception {
        Kernel.assumeBpf();
        String id = HexFormat.of().toHexDigits((short) new SecureRandom().nextInt());
        String ns = "xdp-vr-" + id + "-t";
        String host = "xdp-vr-" + id + "h";
        String inner = "xdp-vr-" + id + "n";
        String subnet = "10.78." + (1 + new SecureRandom().nextInt(250));
        try (BpfObject obj = BpfObject.open(Kernel.bpfObject("tcx_count"))) {
            obj.load();
            Sh.check("ip", "netns", "add", ns);
            Sh.check("ip", "link", "add", host, "type", "veth", "peer", "name", inner, "netns", ns);
            Sh.check("ip", "addr", "add", subnet + ".1/24", "dev", host);
            Sh.check("ip", "link", "set", host, "up");
            Sh.check("ip", "-n", ns, "addr", "add", subnet + ".2/24", "dev", inner);
            Sh.check("ip", "-n", ns, "link", "set", inner, "up");
            int ifindex = NetNs.ifindex(ns, inner);
            try (BpfProgram prog = obj.program("tcx_count").handle(); BpfMap counts = obj.map("tc_counts").handle();
                 DatagramSocket socket = new DatagramSocket()) {
                assertThrows(IllegalArgumentException.class, () -> prog.attachTcx(ifindex, AttachType.XDP));
                InetSocketAddress to = new InetSocketAddress(subnet + ".2", 9);
                for (AttachType type : List.of(AttachType.TCX_INGRESS, AttachType.TCX_EGRESS)) {
                    counts.put(key(0), new byte[8]);
                    BpfLink link = NetNs.call(ns, () -> prog.attachTcx(ifindex, type));
                    try {
                        assertEquals(LinkInfo.TYPE_TCX, link.info().type());
                        assertEquals(prog.id(), link.info().programId());
                        assertEquals(ifindex, link.info().ifindex(), "a tcx link's interface");
                        assertEquals(type.value(), link.info().attachType(), "a tcx link's attach type");
                        assertFalse(link.info().isDetached());
                        // ingress sees datagrams sent to the namespace; egress those it sends
                        send(socket, to, ns, subnet + ".1", type);
                        assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> count(counts) >= 1),
                                type + " ran the program");
                    } finally {
                        link.close();
                    }
                    assertFalse(BpfLink.exists(link.id()), "closing the last descriptor detaches");
                    long before = count(counts);
                    send(socket, to, ns, subnet + ".1", type);
                    Thread.sleep(200);
                    assertEquals(before, count(counts), "detached from " + type);
                }
            }
        } finally {
            Sh.quietly("ip", "link", "del", host);
            Sh.quietly("ip", "netns", "del", ns);
        }
    }

    @Test
    void lookupBatchReadsARangeOfAnArray() {
        Kernel.assumeBpf();
        try (BpfObject obj = BpfObject.open(Kernel.bpfObject("tcx_count"))) {
            obj.load();
            try (BpfMap m = obj.map("tc_counts").handle()) {
                for (int k = 0; k < 4; k++) {
                    m.put(key(k), ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(100 + k).array());
                }
                List<BpfMap.Entry> first = m.lookupBatch(null, 2);
                assertEquals(2, first.size());
                assertArrayEquals(key(0), first.get(0).key());
                assertEquals(101, value(first.get(1)));
                List<BpfMap.Entry> rest = m.lookupBatch(key(1), 10);
                assertEquals(2, rest.size(), "keys 2 and 3: the end of the array");
                assertEquals(102, value(rest.get(0)));
                assertEquals(103, value(rest.get(1)));
                assertEquals(List.of(), m.lookupBatch(key(3), 10), "nothing after the last key");
                assertThrows(IllegalArgumentException.class, () -> m.lookupBatch(null, 0));
            }
        }
    }

    private static void send(DatagramSocket socket, InetSocketAddress to, String ns, String hostIp, AttachType type)
            throws Exception {
        for (int i = 0; i < 5; i++) {
            if (type == AttachType.TCX_INGRESS) {
                socket.send(new DatagramPacket(new byte[] {1}, 1, to));
            } else {
                NetNs.call(ns, () -> {
                    try (DatagramSocket s = new DatagramSocket()) {
                        s.send(new DatagramPacket(new byte[] {1}, 1, new InetSocketAddress(hostIp, 9)));
                    }
                    return null;
                });
            }
        }
    }

    private static long count(BpfMap counts) {
        return ByteBuffer.wrap(counts.get(key(0))).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static long value(BpfMap.Entry e) {
        return ByteBuffer.wrap(e.value()).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private static byte[] key(int k) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(k).array();
    }
}
