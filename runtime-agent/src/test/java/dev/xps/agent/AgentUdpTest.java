package dev.xps.agent;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.VethNetns;
import java.io.ByteArrayOutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A UDP entry point through XDP: samples/udp-kv-fixed.xps attached (generic mode) to the inner end of a veth pair
 * inside a network namespace the test creates; a key put through the agent in canonical layout (bytes[16] key,
 * u64 value little-endian) is answered by the kernel to a client in the root namespace; stats, hits and dump.
 */
@Tag("kernel")
class AgentUdpTest {

    @Test
    void udpGetsAreAnsweredByXdpInANetns() throws Exception {
        Kernel.assumeBpf();
        Path artifact = Artifacts.sample("udp-kv-fixed");
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String name = Kernel.uniqueName();
        List<Integer> progIds = new ArrayList<>();
        try (VethNetns net = new VethNetns()) {
            try (Context ctx = agent.createContext(name, artifact, Attachment.iface(net.nsIf, net.netns))) {
                ctx.pinned().programs().values().forEach(p -> progIds.add(p.id()));
                byte[] key = "user:0000000042.".getBytes(US_ASCII);
                ctx.put("kv", key, HexFormat.of().parseHex("0807060504030201")); // 0x0102030405060708 LE
                ctx.putAll("kv", List.of(Map.entry("user:0000000001.".getBytes(US_ASCII), new byte[] {7, 0, 0, 0, 0, 0, 0, 0}),
                        Map.entry("user:0000000002.".getBytes(US_ASCII), new byte[] {8, 0, 0, 0, 0, 0, 0, 0})));
                assertEquals(3, ctx.dump("kv").size());
                assertArrayEquals(new byte[] {7, 0, 0, 0, 0, 0, 0, 0},
                        ctx.get("kv", "user:0000000001.".getBytes(US_ASCII)).orElseThrow());
                assertEquals(2, ctx.deleteAll("kv", List.of("user:0000000001.".getBytes(US_ASCII),
                        "user:0000000002.".getBytes(US_ASCII), "user:0000000009.".getBytes(US_ASCII))));
                assertEquals(Optional.empty(), ctx.get("kv", "user:0000000001.".getBytes(US_ASCII)));

                ByteArrayOutputStream req = new ByteArrayOutputStream();
                req.writeBytes("X".getBytes(US_ASCII));
                req.writeBytes(HexFormat.of().parseHex("010000002a"));
                req.writeBytes(key);
                byte[] answer = null;
                try (DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getByName(net.hostIp), 0))) {
                    s.setSoTimeout(200);
                    for (int i = 0; i < 50 && answer == null; i++) { // the first ones may wait for ARP
                        s.send(new DatagramPacket(req.toByteArray(), req.size(), net.nsAddress(), 9200));
                        DatagramPacket in = new DatagramPacket(new byte[64], 64);
                        try {
                            s.receive(in);
                            answer = java.util.Arrays.copyOf(in.getData(), in.getLength());
                        } catch (SocketTimeoutException e) {
                            // again
                        }
                    }
                }
                assertArrayEquals(HexFormat.of().parseHex("810000002a0102030405060708"), answer);
                Map<String, Long> c = ctx.allStats().get("get");
                assertTrue(c.get("tx") >= 1, c.toString());
                assertTrue(ctx.getStats("kv", key) >= 1);
            }
            Agent.DeleteReport r = agent.deleteContext(name);
            assertTrue(r.socketsOnFastPath().isEmpty(), r.toString());
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> progIds.stream().noneMatch(BpfProgram::exists)));
        } finally {
            if (Files.exists(pinRoot.resolve(name))) {
                agent.deleteContext(name);
            }
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }
}
