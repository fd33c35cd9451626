package dev.xps.agent;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.MemcachedText;
import dev.xps.agent.testsupport.VethNetns;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * samples/memcached-udp.xps in front of Debian's memcached, which runs in a network namespace the
 * test creates; XDP on the namespace's end of a veth pair. A key put through the agent is answered
 * by the kernel and memcached's own counters show it never saw the GET; a miss, and a key set in
 * memcached but not in the map, are answered by memcached.
 */
@Tag("kernel")
class AgentMemcachedTest {
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
            memcached = new ProcessBuilder("ip", "netns", "exec", net.netns, MEMCACHED.toString(), "-u", "root",
                    "-l", net.nsIp, "-p", "11211", "-U", "11211", "-m", "16")
                    .redirectErrorStream(true).redirectOutput(stateRoot.resolve("memcached.out").toFile()).start();
            assertTrue(Kernel.eventually(Duration.ofSeconds(15), () -> MemcachedText.stats(net, "cmd_get") >= 0),
                    "memcached did not start");
            try (Context ctx = agent.createContext(name, artifact, Attachment.iface(net.nsIf, net.netns))) {
                ctx.put("mc", "user:42".getBytes(US_ASCII), "alice".getBytes(US_ASCII));
                MemcachedText.request(net, "set only-in-memcached 0 0 3\r\nbob\r\n", "STORED\r\n");

                try (DatagramSocket client = new DatagramSocket(
                        new InetSocketAddress(InetAddress.getByName(net.hostIp), 0))) {
                    assertEquals("VALUE user:42 0 5\r\nalice\r\nEND\r\n", get(client, net, 0x1234, "user:42"));
                    assertEquals(0, MemcachedText.stats(net, "cmd_get"), "the kernel answered: memcached saw no GET");

                    assertEquals("END\r\n", get(client, net, 0x1235, "nobody"));
                    assertEquals("VALUE only-in-memcached 0 3\r\nbob\r\nEND\r\n",
                            get(client, net, 0x1236, "only-in-memcached"));
                    assertEquals(2, MemcachedText.stats(net, "cmd_get"), "the two misses reached memcached");
                }
                assertTrue(ctx.allStats().get("get").get("tx") >= 1, ctx.allStats().toString());
            }
            agent.deleteContext(name);
        } finally {
            if (memcached != null) {
                memcached.destroy();
                memcached.waitFor();
            }
            if (Files.exists(pinRoot.resolve(name))) {
                agent.deleteContext(name);
            }
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }

    /** A memcached UDP GET; returns the answer after the 8-byte frame header, which must echo {@code id}. */
    private static String get(DatagramSocket client, VethNetns net, int id, String key) throws IOException {
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        req.writeBytes(HexFormat.of().parseHex("%04x000000010000".formatted(id)));
        req.writeBytes(("get " + key + "\r\n").getBytes(US_ASCII));
        client.setSoTimeout(200);
        for (int i = 0; i < 50; i++) { // the first datagrams may wait for ARP
            client.send(new DatagramPacket(req.toByteArray(), req.size(), net.nsAddress(), 11211));
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
}
