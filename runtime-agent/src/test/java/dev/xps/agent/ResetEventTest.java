package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Decoding {@code struct xps_reset_event} as the kernel writes it (docs/ebpf-target.md), IPv4 and IPv6. */
class ResetEventTest {

    /** The event as the generated programs write it: ports as the kernel exposes them, addresses in network order. */
    private static byte[] event(int entry, int family, byte[] remote16, int remotePort, byte[] local16, int localPort) {
        ByteBuffer b = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(entry).putInt(family);
        // remote port: network order in the upper 16 bits of the word (bytes 2 and 3 of it, little-endian)
        b.put((byte) 0).put((byte) 0).put((byte) (remotePort >> 8)).put((byte) remotePort);
        b.putInt(localPort); // host order
        b.put(remote16).put(local16);
        return b.array();
    }

    private static byte[] mapped(int a, int b, int c, int d) {
        return new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) a, (byte) b, (byte) c, (byte) d};
    }

    private static byte[] v6(int... groups) {
        byte[] a = new byte[16];
        for (int i = 0; i < 8; i++) {
            a[2 * i] = (byte) (groups[i] >> 8);
            a[2 * i + 1] = (byte) groups[i];
        }
        return a;
    }

    @Test
    void ipv6() {
        Context.ResetEvent e = Context.ResetEvent.parse(
                event(3, 10, v6(0, 0, 0, 0, 0, 0, 0, 1), 54321, v6(0x2001, 0xdb8, 0, 0, 0, 0, 0xa, 0x1), 8080));
        assertEquals(new Context.ResetEvent(3, "::1", 54321, "2001:db8::a:1", 8080), e);
        assertTrue(e.ipv6());
        assertEquals("[2001:db8::a:1]:8080 <- [::1]:54321", e.toString());
    }

    @Test
    void ipv4AndV4Mapped() {
        Context.ResetEvent e = Context.ResetEvent.parse(
                event(0, 2, mapped(10, 1, 2, 3), 40000, mapped(127, 0, 0, 1), 80));
        assertEquals(new Context.ResetEvent(0, "10.1.2.3", 40000, "127.0.0.1", 80), e);
        assertFalse(e.ipv6());
        assertEquals("127.0.0.1:80 <- 10.1.2.3:40000", e.toString());
    }

    /** Objects compiled before IPv6: {@code u32 entry; u32 remote_ip4; u32 local_ip4; u32 remote_port; u32 local_port;}. */
    @Test
    void theIpv4OnlyLayoutOfOlderObjects() {
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(1).put(new byte[] {10, 0, 0, 9}).put(new byte[] {127, 0, 0, 1});
        b.put((byte) 0).put((byte) 0).put((byte) (40001 >> 8)).put((byte) 40001).putInt(6379);
        assertEquals(new Context.ResetEvent(1, "10.0.0.9", 40001, "127.0.0.1", 6379),
                Context.ResetEvent.parse(b.array()));
    }

    @Test
    void aTruncatedEventIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> Context.ResetEvent.parse(new byte[24]));
    }

    @Test
    void rfc5952Text() {
        assertEquals("::", Context.ResetEvent.ip6(v6(0, 0, 0, 0, 0, 0, 0, 0), 0));
        assertEquals("1::", Context.ResetEvent.ip6(v6(1, 0, 0, 0, 0, 0, 0, 0), 0));
        assertEquals("fe80::1:2", Context.ResetEvent.ip6(v6(0xfe80, 0, 0, 0, 0, 0, 1, 2), 0));
        // a single zero group is not shortened; of two runs the longer (then the first) is
        assertEquals("1:0:2:3:4:5:6:7", Context.ResetEvent.ip6(v6(1, 0, 2, 3, 4, 5, 6, 7), 0));
        assertEquals("1:0:0:4::7", Context.ResetEvent.ip6(v6(1, 0, 0, 4, 0, 0, 0, 7), 0));
        assertEquals("1::4:0:0:7", Context.ResetEvent.ip6(v6(1, 0, 0, 0, 4, 0, 0, 7), 0));
        assertEquals("2001:db8::1:0:0:1", Context.ResetEvent.ip6(v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), 0));
    }
}
