package dev.xps.agent;

import static dev.xps.agent.AgentRedisTest.b;
import static dev.xps.agent.AgentRedisTest.cli;
import static dev.xps.agent.AgentRedisTest.getCalls;
import static dev.xps.agent.AgentRedisTest.s;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.Resp;
import dev.xps.agent.testsupport.Sh;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * create_compcontext / create_subcontext on the real kernel: the generic composite object ({@code xpsc composite})
 * on a real redis-server's port, selecting on the 3 bytes at offset 8 of each RESP command ("GET", "SET",
 * "PIN" for PING); sub-contexts compiled on their own answer in the kernel for their selector while every other
 * command reaches Redis; a sub-context is swapped and removed while a connection stays open; a restarted agent
 * finds everything; unloading the composite takes its sub-contexts with it and leaves no program or map of ours.
 */
@Tag("kernel")
class AgentCompositeTest {
    private static final String GET = """
            map cache : hash<bytes[32], bytes[1024]> capacity 1024 with stats;

            handler get on tcp port PORT {
              decode {
                expect "*2\\r\\n$3\\r\\n"; expect_ci "GET"; expect "\\r\\n$";
                klen = decimal max 2 digits; expect "\\r\\n";
                key = bytes(klen) max 32; expect "\\r\\n";
              } else pass;
              value = lookup cache[key] else pass;
              ENCODE
              return tx;
            }
            """;
    private static final String BULK = "encode { \"$\" decimal(len(value)) \"\\r\\n\" value \"\\r\\n\" }";
    private static final String SIMPLE = "encode { \"+\" value \"\\r\\n\" }";
    private static final String PING = """
            handler ping on tcp port PORT {
              decode { expect "*1\\r\\n$4\\r\\nPING\\r\\n"; } else pass;
              encode { "+KPONG\\r\\n" }
              return tx;
            }
            """;

    @Test
    void subContextsAnswerTheirSelectorInTheKernel() throws Exception {
        Kernel.assumeBpf();
        assertTrue(Files.isExecutable(Path.of("/usr/bin/redis-server")), "redis-server is not installed");
        int port = AgentRedisTest.freePort();
        String p = Integer.toString(port);
        Path composite = Artifacts.composite();
        Path get = Artifacts.source("cget", GET.replace("PORT", p).replace("ENCODE", BULK));
        Path getV2 = Artifacts.source("cget", GET.replace("PORT", p).replace("ENCODE", SIMPLE));
        Path ping = Artifacts.source("cping", PING.replace("PORT", p));
        Path otherPort = Artifacts.source("cping", PING.replace("PORT", Integer.toString(port == 65000 ? 65001 : 65000)));
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String comp = Kernel.uniqueName();
        String subGet = comp + "-get";
        String subPing = comp + "-ping";
        Process redis = null;
        List<Integer> progIds = new ArrayList<>();
        List<Integer> mapIds = new ArrayList<>();
        Consumer<Context> ids = c -> {
            c.pinned().programs().values().forEach(x -> progIds.add(x.id()));
            c.pinned().maps().values().forEach(x -> mapIds.add(x.id()));
        };
        Cgroup cg = new Cgroup();
        try {
            try (Context c = agent.createCompContext(comp, composite, port, 8, 3, Attachment.cgroup(cg.path))) {
                ids.accept(c);
                assertEquals(List.of("comp_verdict", "comp_egress", "comp_sockops"),
                        List.copyOf(c.pinned().links().keySet()));
            }
            try (Context c = agent.createSubContext(comp, subGet, get, b("GET"))) {
                ids.accept(c);
                assertEquals(List.of("get"), List.copyOf(c.pinned().programs().keySet()), "only the handler loads");
                c.put("cache", b("foo"), b("from-kernel"));
            }
            assertEquals(0, agent.subContext(subGet).orElseThrow().slot());

            redis = new ProcessBuilder("sh", "-c", "echo $$ > " + cg.path.resolve("cgroup.procs")
                    + " && exec redis-server --port " + port + " --bind 127.0.0.1 --save '' --appendonly no")
                    .redirectErrorStream(true).redirectOutput(stateRoot.resolve("redis.log").toFile()).start();
            assertTrue(Kernel.eventually(Duration.ofSeconds(10), () -> cli(port, "PING").equals("PONG")),
                    "redis-server did not start");

            // selector "GET": the sub-context answers a cached key, Redis sees no GET
            assertEquals("from-kernel", cli(port, "GET", "foo"));
            assertEquals(0, getCalls(port));
            // its miss passes to Redis; other selectors ("SET", "PIN") have no sub-context and pass
            assertEquals("", cli(port, "GET", "nothere"));
            assertEquals(1, getCalls(port));
            assertEquals("OK", cli(port, "SET", "k", "v1"));
            assertEquals("v1", cli(port, "GET", "k"));
            assertEquals(2, getCalls(port));
            try (Context c = agent.context(subGet)) {
                assertTrue(c.getStats("cache", b("foo")) >= 1, "per-key hits of the sub-context's map");
            }
            try (Context c = agent.context(comp)) {
                Map<String, Long> n = c.allStats().get("comp");
                assertTrue(n.get("tx") >= 1 && n.get("pass") >= 3, n.toString());
            }

            // a second sub-context, for "PIN"(G)
            try (Context c = agent.createSubContext(comp, subPing, ping, b("PIN"))) {
                ids.accept(c);
            }
            assertEquals(1, agent.subContext(subPing).orElseThrow().slot());
            assertEquals("KPONG", cli(port, "PING"));

            // refusals, each leaving nothing behind
            assertThrows(IllegalArgumentException.class, () -> agent.createSubContext(comp, "bad1", ping, b("PING")));
            assertThrows(AgentException.class, () -> agent.createSubContext(comp, "bad2", ping, b("PIN")));
            assertThrows(AgentException.class, () -> agent.createSubContext(comp, "bad3", otherPort, b("DEL")));
            assertThrows(AgentException.PortClaimed.class, () -> agent.createContext("bad4", get,
                    Attachment.cgroup(cg.path)));
            for (String bad : List.of("bad1", "bad2", "bad3", "bad4")) {
                assertFalse(Files.exists(pinRoot.resolve(bad)), bad);
                assertFalse(Files.exists(stateRoot.resolve(bad)), bad);
            }

            try (Resp live = new Resp(port)) {
                assertEquals("$from-kernel", live.call("GET", "foo"));
                // replace the GET sub-context's handler while the connection stays open: data kept
                try (Context c = agent.updateContext(subGet, getV2)) {
                    ids.accept(c);
                    assertEquals("from-kernel", s(c.get("cache", b("foo")).orElseThrow()));
                }
                assertEquals("+from-kernel", live.call("GET", "foo"));
                assertEquals("+KPONG", live.call("PING"));

                // a restarted agent finds the composite and its sub-contexts
                Agent restarted = new Agent(pinRoot, stateRoot);
                assertEquals(List.of(comp, subGet, subPing).stream().sorted().toList(),
                        restarted.contexts().stream().sorted().toList());
                assertEquals(new Agent.Composite(comp, port, 8, 3), restarted.composite(comp));
                assertTrue(restarted.status().get(comp).contains("sub-contexts [" + subGet + ", " + subPing + "]")
                        || restarted.status().get(comp).contains("sub-contexts [" + subPing + ", " + subGet + "]"),
                        restarted.status().toString());
                try (Context c = restarted.context(subGet)) {
                    c.put("cache", b("foo"), b("again"));
                }
                assertEquals("+again", live.call("GET", "foo"));
                int gets = getCalls(port);

                // remove the GET sub-context: the open connection's GETs reach Redis (which has no 'foo')
                Agent.DeleteReport r = restarted.deleteSubContext(subGet);
                assertTrue(r.drain().contains("selector \"GET\" removed") && r.drain().contains("slot 0 emptied"),
                        r.drain());
                assertFalse(Files.exists(pinRoot.resolve(subGet)));
                assertFalse(Files.exists(stateRoot.resolve(subGet)));
                assertEquals("$-1", live.call("GET", "foo"));
                assertEquals("$v1", live.call("GET", "k"));
                assertEquals(gets + 2, getCalls(port));
                assertEquals("+KPONG", live.call("PING"), "the other sub-context still answers");

                // unload the composite: its sub-context goes with it; the connection gets plain service
                Agent.DeleteReport all = agent.deleteContext(comp);
                assertTrue(all.drain().contains("1 sub-contexts deleted (" + subPing + ")"), all.drain());
                assertEquals("+PONG", live.call("PING"));
                assertEquals(List.of(), agent.contexts());
            }
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> progIds.stream().noneMatch(BpfProgram::exists)
                    && mapIds.stream().noneMatch(BpfMap::exists)), "programs or maps left: "
                    + Sh.check("bpftool", "prog") + Sh.check("bpftool", "map"));
            assertFalse(Files.exists(pinRoot.resolve(comp)));
            assertFalse(Files.exists(stateRoot.resolve(comp)));
            assertEquals("PONG", cli(port, "PING"), "Redis serves on after the unload");
        } finally {
            if (redis != null) {
                redis.destroy();
                redis.waitFor();
            }
            for (String n : List.of(subGet, subPing, comp)) {
                if (Files.exists(pinRoot.resolve(n))) {
                    try {
                        agent.deleteContext(n);
                    } catch (RuntimeException e) {
                        System.err.println("cleanup: " + e);
                    }
                }
            }
            cg.close();
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }

    @Test
    void cliCreatesCompositesAndSubContexts() throws Exception {
        Kernel.assumeBpf();
        int port = AgentRedisTest.freePort();
        Path composite = Artifacts.composite();
        Path ping = Artifacts.source("cping", PING.replace("PORT", Integer.toString(port)));
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        String comp = Kernel.uniqueName();
        Cgroup cg = new Cgroup();
        String[] roots = {"--pin-root", pinRoot.toString(), "--state-root", stateRoot.toString()};
        try {
            Out o = xps(roots, "compcontext", "--help");
            assertEquals(0, o.code);
            assertTrue(o.out.contains("create_compcontext"), o.out);
            assertEquals(0, xps(roots, "subcontext", "--help").code);
            o = xps(roots, "compcontext", comp, composite.toString(), "--port", "x", "--offset", "8", "--length", "3",
                    "--cgroup", cg.path.toString());
            assertEquals(2, o.code, o.err);
            assertTrue(o.err.startsWith("xps: --port needs an integer, not 'x'"), o.err);
            o = xps(roots, "compcontext", comp, composite.toString(), "--port", Integer.toString(port));
            assertEquals(2, o.code, o.err);
            o = xps(roots, "compcontext", comp, composite.toString(), "--port", Integer.toString(port), "--offset", "8",
                    "--length", "17", "--cgroup", cg.path.toString());
            assertEquals(1, o.code, o.err);
            assertEquals("xps: selector length 17 is not in 1..16", o.err.strip());
            o = xps(roots, "compcontext", comp, ping.toString(), "--port", Integer.toString(port), "--offset", "8",
                    "--length", "3", "--cgroup", cg.path.toString());
            assertEquals(1, o.code, o.err);
            assertTrue(o.err.contains("is not the composite object"), o.err);
            assertFalse(Files.exists(pinRoot.resolve(comp)));

            o = xps(roots, "compcontext", comp, composite.toString(), "--port", Integer.toString(port), "--offset", "8",
                    "--length", "3", "--cgroup", cg.path.toString(), "--no-reset-server");
            assertEquals(0, o.code, o.err);
            assertTrue(o.out.startsWith("loaded composite " + comp), o.out);
            o = xps(roots, "subcontext", comp, comp + "-p", ping.toString());
            assertEquals(2, o.code, o.err);
            o = xps(roots, "subcontext", comp, comp + "-p", ping.toString(), "--value", "0x5049");
            assertEquals(1, o.code, o.err);
            assertTrue(o.err.contains("is 2 bytes; composite '" + comp + "' selects on 3 bytes"), o.err);
            assertFalse(o.err.contains("Exception"), o.err);
            o = xps(roots, "subcontext", "nosuch", comp + "-p", ping.toString(), "--value", "PIN");
            assertEquals(1, o.code, o.err);
            o = xps(roots, "subcontext", comp, comp + "-p", ping.toString(), "--value", "0x50494e");
            assertEquals(0, o.code, o.err);
            assertTrue(o.out.contains("selector \"PIN\", slot 0"), o.out);
            o = xps(roots, "status");
            assertTrue(o.out.contains("sub-context of " + comp + ": selector \"PIN\", slot 0"), o.out);
            o = xps(roots, "unload", comp + "-p");
            assertEquals(0, o.code, o.err);
            assertFalse(Files.exists(pinRoot.resolve(comp + "-p")));
            o = xps(roots, "unload", comp);
            assertEquals(0, o.code, o.err);
            assertFalse(Files.exists(pinRoot.resolve(comp)));
        } finally {
            for (String n : List.of(comp + "-p", comp)) {
                if (Files.exists(pinRoot.resolve(n))) {
                    try {
                        new Agent(pinRoot, stateRoot).deleteContext(n);
                    } catch (RuntimeException e) {
                        System.err.println("cleanup: " + e);
                    }
                }
            }
            cg.close();
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }

    private record Out(int code, String out, String err) {}

    private static Out xps(String[] roots, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        String[] all = new String[roots.length + args.length];
        System.arraycopy(roots, 0, all, 0, roots.length);
        System.arraycopy(args, 0, all, roots.length, args.length);
        int code = Cli.run(all, new PrintStream(out, true), new PrintStream(err, true));
        return new Out(code, out.toString(), err.toString());
    }
}
