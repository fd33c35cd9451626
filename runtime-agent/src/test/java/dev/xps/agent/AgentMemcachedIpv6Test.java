package dev.xps.agent;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.FrameCapture;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.MemcachedText;
import dev.xps.agent.testsupport.VethNetns;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * As {@link AgentMemcachedTest}, over IPv6: samples/memcached-udp.xps in front of memcached listening on an IPv6
 * address (and an IPv4 one, for its counters) in a network namespace, XDP on the namespace's end of a veth pair
 * with IPv6 addresses on both ends. A real client's IPv6 GET of a key put through the agent is answered by
 * the XDP program (memcached's {@code cmd_get} does not move), and the reply as it crossed the veth has a
 * correct UDP checksum (checked here: the veth's receiver does not verify it); a miss, and a key set in
 * memcached but not in the map, are answered by memcached over IPv6.
 */
@Tag("kernel")
class AgentMemcachedIpv6Test {
    private static final Path MEMCACHED = Path.of("/usr/bin/memcached");

    @Test
    void hitsAreAnsweredByXdpMissesByMemcached() throws Exception {
        Kernel.assumeBpf();
        assertTrue(Files.isExecutable(MEMCACHED), "memcached is installed by .ci/run (apt-get install memcached)");
        Path artifact = Artifacts.sample("memcached-udp");
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String name = Kernel.uniqueName();
        Process memcached = null;
        try (VethNetns net = new VethNetns()) {
            String[] ip6 = net.addIpv6();
            InetAddress client6 = InetAddress.getByName(ip6[0]);
            InetAddress server6 = InetAddress.getByName(ip6[1]);
            assertTrue(server6 instanceof Inet6Address && client6 instanceof Inet6Address);
            memcached = new ProcessBuilder("ip", "netns", "exec", net.netns, MEMCACHED.toString(), "-u", "root",
                    "-l", net.nsIp + ",[" + ip6[1] + "]", "-p", "11211", "-U", "11211", "-m", "16")
                    .redirectErrorStream(true).redirectOutput(stateRoot.resolve("memcached.out").toFile()).start();
            assertTrue(Kernel.eventually(Duration.ofSeconds(15), () -> MemcachedText.stats(net, "cmd_get") >= 0),
                    "memcached did not start");
            try (Context ctx = agent.createContext(name, artifact, Attachment.iface(net.nsIf, net.netns))) {
                ctx.put("mc", "user:42".getBytes(US_ASCII), "alice".getBytes(US_ASCII));
                MemcachedText.request(net, "set only-in-memcached 0 0 3\r\nbob\r\n", "STORED\r\n");

                try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(client6, 0));
                     FrameCapture capture = new FrameCapture(net.hostIf, 0x86DD)) {
                    assertEquals("VALUE user:42 0 5\r\nalice\r\nEND\r\n", get(client, server6, 0x1234, "user:42"));
                    assertEquals(0, MemcachedText.stats(net, "cmd_get"), "the kernel answered: memcached saw no GET");
                    // the veth's receiver trusts the checksum (generic XDP keeps the request's CHECKSUM_PARTIAL):
                    // check the frame XDP sent, as it crossed the wire
                    List<byte[]> replies = capture.frames(Duration.ofSeconds(5)).stream()
                            .filter(f -> f.length > 62 && (f[20] & 0xFF) == 17 && get16(f, 54) == 11211
                                    && get16(f, 62) == 0x1234)
                            .toList();
                    assertFalse(replies.isEmpty(), "the XDP reply was not seen on " + net.hostIf);
                    for (byte[] f : replies) {
                        checkReply(f, server6.getAddress(), client6.getAddress(), client.getLocalPort());
                    }

                    assertEquals("END\r\n", get(client, server6, 0x1235, "nobody"));
                    assertEquals("VALUE only-in-memcached 0 3\r\nbob\r\nEND\r\n",
                            get(client, server6, 0x1236, "only-in-memcached"));
                    assertEquals(2, MemcachedText.stats(net, "cmd_get"), "the two misses reached memcached over IPv6");

                    assertEquals("VALUE user:42 0 5\r\nalice\r\nEND\r\n", get(client, server6, 0x1237, "user:42"));
                    assertEquals(2, MemcachedText.stats(net, "cmd_get"), "the second hit did not reach memcached either");
                }
                assertTrue(ctx.allStats().get("get").get("tx") >= 1, ctx.allStats().toString());
            }
            agent.deleteContext(name);
        } finally {
            if (memcached != null) {
                memcached.destroy();
                memcached.waitFor(10, TimeUnit.SECONDS);
                memcached.destroyForcibly();
            }
            if (Files.exists(pinRoot.resolve(name))) {
                agent.deleteContext(name);
            }
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }

    /** A memcached UDP GET; returns the answer after the 8-byte frame header, which must echo {@code id}. */
    private static String get(DatagramSocket client, InetAddress server, int id, String key) throws IOException {
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        req.writeBytes(HexFormat.of().parseHex("%04x000000010000".formatted(id)));
        req.writeBytes(("get " + key + "\r\n").getBytes(US_ASCII));
        client.setSoTimeout(200);
        for (int i = 0; i < 50; i++) { // the first datagrams may wait for neighbour discovery
            client.send(new DatagramPacket(req.toByteArray(), req.size(), server, 11211));
            DatagramPacket in = new DatagramPacket(new byte[2048], 2048);
            try {
                client.receive(in);
            } catch (SocketTimeoutException e) {
                continue;
            }
            byte[] data = Arrays.copyOf(in.getData(), in.getLength());
            assertEquals(id, ((data[0] & 0xFF) << 8) | (data[1] & 0xFF), "request id echoed");
            return new String(data, 8, data.length - 8, US_ASCII);
        }
        throw new AssertionError("no answer to get " + key);
    }

    /**
     * The UDP composite (xpsc composite --protocol udp) parses as compiled UDP entries do: a sub-context with
     * memcached-udp.xps for selector "get " answers an IPv6 hit from XDP, its miss reaches memcached over IPv6.
     */
    @Test
    void aUdpCompositeAnswersOverIpv6() throws Exception {
        Kernel.assumeBpf();
        assertTrue(Files.isExecutable(MEMCACHED), "memcached is installed by .ci/run (apt-get install memcached)");
        Path composite = Artifacts.composite("udp");
        Path get = Artifacts.sample("memcached-udp");
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String comp = Kernel.uniqueName();
        String sub = comp + "-get";
        Process memcached = null;
        try (VethNetns net = new VethNetns()) {
            String[] ip6 = net.addIpv6();
            InetAddress client6 = InetAddress.getByName(ip6[0]);
            InetAddress server6 = InetAddress.getByName(ip6[1]);
            memcached = new ProcessBuilder("ip", "netns", "exec", net.netns, MEMCACHED.toString(), "-u", "root",
                    "-l", net.nsIp + ",[" + ip6[1] + "]", "-p", "11211", "-U", "11211", "-m", "16")
                    .redirectErrorStream(true).redirectOutput(stateRoot.resolve("memcached.out").toFile()).start();
            assertTrue(Kernel.eventually(Duration.ofSeconds(15), () -> MemcachedText.stats(net, "cmd_get") >= 0),
                    "memcached did not start");
            agent.createCompContext(comp, composite, 11211, 8, 4, Attachment.iface(net.nsIf, net.netns)).close();
            try (Context c = agent.createSubContext(comp, sub, get, "get ".getBytes(US_ASCII))) {
                c.put("mc", "user:42".getBytes(US_ASCII), "alice".getBytes(US_ASCII));
            }
            try (DatagramSocket client = new DatagramSocket(new InetSocketAddress(client6, 0));
                 FrameCapture capture = new FrameCapture(net.hostIf, 0x86DD)) {
                assertEquals("VALUE user:42 0 5\r\nalice\r\nEND\r\n", get(client, server6, 0x4321, "user:42"));
                assertEquals(0, MemcachedText.stats(net, "cmd_get"), "the composite answered: memcached saw no GET");
                List<byte[]> replies = capture.frames(Duration.ofSeconds(5)).stream()
                        .filter(f -> f.length > 62 && (f[20] & 0xFF) == 17 && get16(f, 54) == 11211
                                && get16(f, 62) == 0x4321)
                        .toList();
                assertFalse(replies.isEmpty(), "the XDP reply was not seen on " + net.hostIf);
                for (byte[] f : replies) {
                    checkReply(f, server6.getAddress(), client6.getAddress(), client.getLocalPort());
                }
                assertEquals("END\r\n", get(client, server6, 0x4322, "nobody"));
                assertEquals(1, MemcachedText.stats(net, "cmd_get"), "the miss reached memcached over IPv6");
            }
            try (Context c = agent.context(comp)) {
                assertTrue(c.allStats().get("comp").get("tx") >= 1, c.allStats().toString());
            }
            agent.deleteContext(comp);
        } finally {
            if (memcached != null) {
                memcached.destroy();
                memcached.waitFor(10, TimeUnit.SECONDS);
                memcached.destroyForcibly();
            }
            for (String n : List.of(sub, comp)) {
                if (Files.exists(pinRoot.resolve(n))) {
                    try {
                        agent.deleteContext(n);
                    } catch (RuntimeException e) {
                        System.err.println("cleanup: " + e);
                    }
                }
            }
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }

    /** The XDP reply as sent: IPv6 without extension headers, hop limit 64, addresses and ports swapped, UDP checksum. */
    private static void checkReply(byte[] f, byte[] from, byte[] to, int toPort) {
        String hex = HexFormat.of().formatHex(f);
        assertEquals(0x86DD, get16(f, 12), hex);
        assertEquals(6, (f[14] & 0xF0) >>> 4, "version: " + hex);
        assertEquals(64, f[21] & 0xFF, "hop limit: " + hex);
        assertArrayEquals(from, Arrays.copyOfRange(f, 22, 38), "source: " + hex);
        assertArrayEquals(to, Arrays.copyOfRange(f, 38, 54), "destination: " + hex);
        assertEquals(toPort, get16(f, 56), "destination port: " + hex);
        int udpLength = get16(f, 58);
        assertEquals(f.length - 54, get16(f, 18), "payload length: " + hex);
        assertEquals(f.length - 54, udpLength, "UDP length: " + hex);
        assertNotEquals(0, get16(f, 60), "UDP checksum 0 (invalid over IPv6): " + hex);
        long sum = udpLength + 17;
        for (int i = 22; i < 54; i += 2) {
            sum += get16(f, i);
        }
        for (int i = 54; i < f.length; i += 2) {
            sum += i + 1 < f.length ? get16(f, i) : (f[i] & 0xFF) << 8;
        }
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        assertEquals(0xFFFF, sum, "the UDP checksum (RFC 8200 pseudo-header) is wrong: " + hex);
    }

    private static int get16(byte[] p, int at) {
        return ((p[at] & 0xFF) << 8) | (p[at + 1] & 0xFF);
    }
}
