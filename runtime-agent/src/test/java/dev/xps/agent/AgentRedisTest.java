package dev.xps.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Resp;
import dev.xps.agent.testsupport.Sh;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The product's point, end to end: a real redis-server (Debian's) in its own cgroup, samples/redis-get.xps loaded
 * for that cgroup by the agent, GETs of cached keys answered by the kernel (Redis never sees them), misses and
 * writes reaching Redis, the write handler keeping the cache consistent, pipelines in order, a handler swapped
 * on a live connection, a restarted agent re-adopting, and an unload that leaves nothing of ours.
 */
@Tag("kernel")
class AgentRedisTest {

    @Test
    void redisGetsAreAnsweredInTheKernel() throws Exception {
        Kernel.assumeBpf();
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-server")), "redis-server is not installed");
        int port = free(6379) ? 6379 : freePort();
        Path artifact = port == 6379 ? Artifacts.sample("redis-get")
                : Artifacts.variant("redis-get", "tcp port 6379", "tcp port " + port);
        // v2: the GET handler answers as a simple string ("+value"), to see the swap on the wire
        Path v2 = Artifacts.variant("redis-get", "tcp port 6379", "tcp port " + port,
                "encode { \"$\" decimal(len(value)) \"\\r\\n\" value \"\\r\\n\" }", "encode { \"+\" value \"\\r\\n\" }");
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String name = Kernel.uniqueName();
        Process redis = null;
        List<Integer> progIds = new ArrayList<>();
        List<Integer> mapIds = new ArrayList<>();
        Cgroup cg = new Cgroup();
        try {
            try (Context ctx = agent.createContext(name, artifact, Attachment.cgroup(cg.path))) {
                ctx.pinned().programs().values().forEach(p -> progIds.add(p.id()));
                ctx.pinned().maps().values().forEach(m -> mapIds.add(m.id()));
                assertEquals(List.of("redis_verdict", "redis_egress", "redis_sockops"),
                        List.copyOf(ctx.pinned().links().keySet()));
                ctx.put("cache", b("foo"), b("from-kernel"));
                assertEquals("from-kernel", s(ctx.get("cache", b("foo")).orElseThrow()));
            }
            redis = new ProcessBuilder("sh", "-c", "echo $$ > " + cg.path.resolve("cgroup.procs")
                    + " && exec redis-server --port " + port + " --bind 127.0.0.1 --save '' --appendonly no")
                    .redirectErrorStream(true).redirectOutput(Path.of(stateRoot + "/redis.log").toFile()).start();
            int p = port;
            assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> cli(p, "PING").equals("PONG")),
                    "redis-server did not start");

            // a cached key: the kernel answers, Redis sees no GET
            assertEquals("from-kernel", cli(port, "GET", "foo"));
            assertEquals(0, getCalls(port));
            // a miss: Redis answers
            assertEquals("", cli(port, "GET", "nothere"));
            assertEquals(1, getCalls(port));
            // SET through Redis updates the cache (write handler); the next GET is the kernel's
            assertEquals("OK", cli(port, "SET", "k", "v1"));
            assertEquals("v1", cli(port, "GET", "k"));
            assertEquals(1, getCalls(port));
            try (Context ctx = agent.context(name)) {
                assertEquals("v1", s(ctx.get("cache", b("k")).orElseThrow()));
            }

            try (Resp live = new Resp(port)) {
                // pipelined mixed requests (hits, misses, writes): all answered, in order
                live.write(cat(Resp.command("SET", "a", "1"), Resp.command("GET", "a"), Resp.command("GET", "k"),
                        Resp.command("GET", "missing"), Resp.command("DEL", "a"), Resp.command("GET", "a")));
                assertEquals(List.of("+OK", "$1", "$v1", "$-1", ":1", "$-1"), replies(live, 6));
                // pipelined hits only: the kernel answers them together
                int before = getCalls(port);
                live.write(cat(Resp.command("GET", "k"), Resp.command("GET", "foo"), Resp.command("GET", "k")));
                assertEquals(List.of("$v1", "$from-kernel", "$v1"), replies(live, 3));
                assertEquals(before, getCalls(port));
                assertEquals("$from-kernel", live.call("GET", "foo"));

                try (Context ctx = agent.context(name)) {
                    Map<String, Long> c = ctx.allStats().get("redis");
                    assertTrue(c.get("tx") >= 6, c.toString());
                    assertTrue(c.get("pass") >= 4, c.toString());
                    assertTrue(ctx.getStats("cache", b("foo")) >= 3);
                    assertTrue(ctx.getStats("cache", b("k")) >= 3);
                }

                // update: the new GET handler, on the connection that stays open
                try (Context ctx = agent.updateContext(name, v2)) {
                    assertEquals("from-kernel", s(ctx.get("cache", b("foo")).orElseThrow()), "data kept");
                }
                assertEquals("+from-kernel", live.call("GET", "foo"));
                int gets = getCalls(port);
                assertEquals("from-kernel", cli(port, "GET", "foo")); // redis-cli prints a simple string as is
                assertEquals(gets, getCalls(port));

                // a restarted agent finds the context with its data
                Agent restarted = new Agent(pinRoot, stateRoot);
                assertEquals(List.of(name), restarted.contexts());
                try (Context ctx = restarted.context(name)) {
                    ctx.put("cache", b("foo"), b("again"));
                }
                assertEquals("+again", live.call("GET", "foo"));

                // delete: drained first, so the live connection gets Redis's answers (Redis has no 'foo')
                Agent.DeleteReport r = agent.deleteContext(name);
                assertTrue(r.drain().contains("emptied"), r.drain());
                // the live connection (and maybe a redis-cli one the kernel has not finished closing)
                assertTrue(r.socketsOnFastPath().getOrDefault("redis_socks", 0) >= 1, r.toString());
                gets = getCalls(port);
                assertEquals("$-1", live.call("GET", "foo"));
                assertEquals("$v1", live.call("GET", "k"));
                assertEquals(gets + 2, getCalls(port));
            }
            // the live connection closed: the kernel frees the verdict program and the sockhash after it
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> progIds.stream().noneMatch(BpfProgram::exists)
                    && mapIds.stream().noneMatch(BpfMap::exists)), "programs or maps left: "
                    + Sh.check("bpftool", "prog") + Sh.check("bpftool", "map"));
            assertFalse(Files.exists(pinRoot.resolve(name)));
            assertFalse(Files.exists(stateRoot.resolve(name)));
            assertEquals("v1", cli(port, "GET", "k"), "Redis serves on after the unload");
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

    static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    static String s(byte[] b) {
        return new String(b, UTF_8);
    }

    static byte[] cat(byte[]... parts) {
        var out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    private static List<String> replies(Resp r, int n) throws IOException {
        List<String> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(r.reply());
        }
        return out;
    }

    /** redis-cli's output without the trailing newline, or "" on failure. */
    static String cli(int port, String... args) {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        try {
            Sh.Result r = Sh.run(Duration.ofSeconds(10), cmd);
            return r.exitCode() == 0 ? r.output().strip() : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** cmdstat_get's calls from INFO commandstats (0 if Redis has served no GET). */
    static int getCalls(int port) {
        for (String line : cli(port, "INFO", "commandstats").split("\n")) {
            if (line.startsWith("cmdstat_get:calls=")) {
                return Integer.parseInt(line.substring("cmdstat_get:calls=".length(), line.indexOf(',')));
            }
        }
        return 0;
    }

    static boolean free(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.bind(new InetSocketAddress("0.0.0.0", port));
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
