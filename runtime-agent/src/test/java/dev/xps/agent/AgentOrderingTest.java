package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Resp;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A kernel answer never overtakes one the service owes, when the requests arrive in separate segments.
 *
 * <p>The kernel sends its answers later, from a kworker, through the socket's normal send path — and so through
 * the sk_msg program that notices the service answering. Before the generated code counted its own answers out
 * of that (xps_conn.kernel_unsent), a hit's answer leaving after a miss had been passed looked like the service's
 * answer, the connection was taken to be in step, and a second hit was answered before Redis answered the miss:
 * GET hit, GET miss, (a few microseconds), GET hit came back as HIT, HIT, nil in about 1-2% of rounds on this
 * machine. The rounds below give that race every chance; all must come back in order.
 */
@Tag("kernel")
class AgentOrderingTest {
    private static final int ROUNDS = 4_000;

    @Test
    void answersStayInRequestOrderAcrossSegments() throws Exception {
        Kernel.assumeBpf();
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/redis-server")), "redis-server is not installed");
        int port = AgentRedisTest.freePort();
        Path artifact = Artifacts.variant("redis-get", "tcp port 6379", "tcp port " + port);
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String name = Kernel.uniqueName();
        Process redis = null;
        Cgroup cg = new Cgroup();
        try {
            agent.createContext(name, artifact, Attachment.cgroup(cg.path)).close();
            redis = new ProcessBuilder("sh", "-c", "echo $$ > " + cg.path.resolve("cgroup.procs")
                    + " && exec redis-server --port " + port + " --bind 127.0.0.1 --save '' --appendonly no")
                    .redirectErrorStream(true).redirectOutput(stateRoot.resolve("redis.log").toFile()).start();
            assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> AgentRedisTest.cli(port, "PING").equals("PONG")),
                    "redis-server did not start");
            // in Redis and (through the SET write handler) in the kernel's cache: whoever answers, the answer is HIT
            assertEquals("OK", AgentRedisTest.cli(port, "SET", "hit", "HIT"));
            try (Context ctx = agent.context(name)) {
                assertEquals("HIT", new String(ctx.get("cache", b("hit")).orElseThrow(), StandardCharsets.UTF_8));
            }

            List<String> wrong = new ArrayList<>();
            try (Resp r = new Resp(port)) {
                byte[] hit = Resp.command("GET", "hit");
                for (int i = 0; i < ROUNDS; i++) {
                    r.write(hit);                                  // answered by the kernel (later, by a kworker)
                    r.write(Resp.command("GET", "miss" + i));      // passed: Redis owes this answer
                    long until = System.nanoTime() + 20_000 + (i % 5) * 20_000L; // 20-100 us: the kworker runs
                    while (System.nanoTime() < until) {
                        Thread.onSpinWait();
                    }
                    r.write(hit);                                  // must wait for Redis's answer
                    List<String> got = List.of(r.reply(), r.reply(), r.reply());
                    if (!got.equals(List.of("$HIT", "$-1", "$HIT")) && wrong.size() < 5) {
                        wrong.add("round " + i + ": " + got);
                    }
                }
            }
            assertEquals(List.of(), wrong, "answers out of request order");
            try (Context ctx = agent.context(name)) {
                var c = ctx.allStats().get("redis");
                assertTrue(c.get("tx") >= ROUNDS, "the kernel answered (at least) the first hit of every round: " + c);
            }
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

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
