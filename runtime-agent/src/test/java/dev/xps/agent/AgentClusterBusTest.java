package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * samples/redis-cluster-bus.xps in front of a real Redis Cluster node (Debian's redis-server with
 * {@code cluster-enabled yes}) in its own cgroup: a PING on the cluster bus is answered by the kernel
 * with the PONG the agent published, and Redis never counts it; a PONG and a MEET (other types) pass and
 * Redis counts them ({@code CLUSTER INFO}'s {@code cluster_stats_messages_*_received}).
 *
 * <p>The messages are well-formed cluster-bus headers of Redis 7 (2,256 bytes: signature "RCmb",
 * total length, version 1, type at offset 12, no gossip) so that Redis accepts and counts them.
 */
@Tag("kernel")
class AgentClusterBusTest {
    private static final int HEADER = 2256; // sizeof(clusterMsg) without the data union, Redis 7
    private static final int PING = 0;
    private static final int PONG = 1;
    private static final int MEET = 2;

    @Test
    void pingsAreAnsweredInTheKernelOtherTypesReachRedis() throws Exception {
        Kernel.assumeBpf();
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-server")), "redis-server is not installed");
        int port = AgentRedisTest.freePort();
        int bus = AgentRedisTest.freePort();
        Path artifact = Artifacts.variant("redis-cluster-bus", "tcp port 16379", "tcp port " + bus);
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String name = Kernel.uniqueName();
        Process redis = null;
        Cgroup cg = new Cgroup();
        byte[] published = message(PONG, (byte) 0x5a); // what this node would answer: any PONG the agent publishes
        try {
            try (Context ctx = agent.createContext(name, artifact, Attachment.cgroup(cg.path))) {
                ctx.put("pong", new byte[4], published);
            }
            redis = new ProcessBuilder("sh", "-c", "echo $$ > " + cg.path.resolve("cgroup.procs")
                    + " && exec redis-server --port " + port + " --bind 127.0.0.1 --save '' --appendonly no"
                    + " --cluster-enabled yes --cluster-port " + bus
                    + " --cluster-config-file " + stateRoot.resolve("nodes.conf"))
                    .redirectErrorStream(true).redirectOutput(stateRoot.resolve("redis.log").toFile()).start();
            assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> AgentRedisTest.cli(port, "PING").equals("PONG")),
                    "redis-server did not start");

            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", bus), 5_000);
                s.setSoTimeout(5_000);
                // PING: the kernel answers with the published PONG, byte for byte
                s.getOutputStream().write(message(PING, (byte) 1));
                byte[] answer = new byte[published.length];
                new DataInputStream(s.getInputStream()).readFully(answer);
                assertArrayEquals(published, answer);
                assertEquals(0, received(port, "ping"), "Redis never saw the PING");

                // PONG and MEET: passed to Redis, which counts them
                s.getOutputStream().write(message(PONG, (byte) 2));
                assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> received(port, "pong") == 1),
                        "Redis counted the PONG: " + AgentRedisTest.cli(port, "CLUSTER", "INFO"));
                assertEquals(0, received(port, "ping"));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", bus), 5_000);
                s.getOutputStream().write(message(MEET, (byte) 3));
                assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> received(port, "meet") == 1),
                        "Redis counted the MEET: " + AgentRedisTest.cli(port, "CLUSTER", "INFO"));
            }
            // the PONG we sent Redis was not answered by the kernel: nothing came back for it on a fresh link
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", bus), 5_000);
                s.setSoTimeout(500);
                s.getOutputStream().write(message(PONG, (byte) 4));
                assertTrue(nothingBack(s.getInputStream()), "a PONG is not answered");
            }
            try (Context ctx = agent.context(name)) {
                var c = ctx.allStats().get("cluster");
                assertEquals(1L, c.get("tx"), c.toString());
                assertTrue(c.get("pass") >= 3, c.toString());
            }
            assertEquals(0, received(port, "ping"));
            agent.deleteContext(name);
        } finally {
            if (redis != null) {
                redis.destroy();
                redis.waitFor();
            }
            if (Files.exists(pinRoot.resolve(name))) {
                try {
                    agent.deleteContext(name);
                } catch (RuntimeException e) {
                    System.err.println("cleanup: " + e);
                }
            }
            cg.close();
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }

    /** A cluster-bus header of Redis 7 with no gossip: type at offset 12, the rest filler. */
    static byte[] message(int type, byte fill) {
        ByteBuffer b = ByteBuffer.allocate(HEADER);
        b.put("RCmb".getBytes(StandardCharsets.US_ASCII)).putInt(HEADER).putShort((short) 1)
                .putShort((short) 7000).putShort((short) type).putShort((short) 0);
        byte[] out = b.array();
        // a node name of 40 hex characters, so a PONG/MEET's sender field is plausible
        byte[] sender = new byte[40];
        Arrays.fill(sender, (byte) ('a' + (fill & 0x0f)));
        System.arraycopy(sender, 0, out, 40, 40);
        out[HEADER - 1] = fill;
        return out;
    }

    /** cluster_stats_messages_TYPE_received from CLUSTER INFO (0 when Redis does not list it). */
    static long received(int port, String type) {
        String key = "cluster_stats_messages_" + type + "_received:";
        for (String line : AgentRedisTest.cli(port, "CLUSTER", "INFO").split("\n")) {
            if (line.startsWith(key)) {
                return Long.parseLong(line.substring(key.length()).strip());
            }
        }
        return 0;
    }

    private static boolean nothingBack(InputStream in) throws IOException {
        try {
            return in.read() == -1; // Redis may drop a link from an unknown node: also nothing back
        } catch (SocketTimeoutException e) {
            return true;
        }
    }
}
