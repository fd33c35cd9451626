package dev.xps.agent;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.Preflight;
import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.MemcachedText;
import dev.xps.agent.testsupport.Sh;
import dev.xps.agent.testsupport.VethNetns;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * create_compcontext / create_subcontext for UDP on the real kernel: the UDP composite object
 * ({@code xpsc composite --protocol udp}) as XDP on the namespace end of a veth pair, in front of Debian's memcached
 * on port 11211, selecting on the 4 bytes at offset 8 of each datagram (after memcached's frame header: "get ").
 * A sub-context compiled from samples/memcached-udp.xps answers a hit from XDP (memcached's stats show no get for
 * it); a miss, and a command with another selector, reach memcached; the sub-context is swapped and removed while
 * a client keeps asking (every answer is the old handler's, the new one's or memcached's: none lost to a half-done
 * swap); a restarted agent finds everything; unloading the composite takes the sub-context with it and leaves no
 * program, map, pin or XDP attachment of ours.
 *
 * <p>Not skipped when BPF is unavailable: it fails (the agent needs root, libbpf and the bpf() syscall).
 */
@Tag("kernel")
@Timeout(value = 240, unit = TimeUnit.SECONDS) // bounded inside too; this is the backstop
class AgentUdpCompositeTest {
    private static final Path MEMCACHED = Path.of("/usr/bin/memcached");
    private static final String HIT = "VALUE user:42 0 5\r\nalice\r\nEND\r\n";
    private static final String HIT_V2 = "VALUE user:42 7 5\r\nalice\r\nEND\r\n";
    private static final String PING_TCP = """
            handler ping on tcp port 11211 {
              decode { expect "ping\\r\\n"; } else pass;
              encode { "pong\\r\\n" }
              return tx;
            }
            """;

    private static void requireBpf() {
        Preflight.requirePrivileges();
        Preflight.requireLibbpf();
        Preflight.requireBpfSyscall();
    }

    @Test
    void aUdpSubContextAnswersItsSelectorFromXdp() throws Exception {
        requireBpf();
        assertTrue(Files.isExecutable(MEMCACHED), "memcached is installed by .ci/run (apt-get install memcached)");
        Path composite = Artifacts.composite("udp");
        Path get = Artifacts.sample("memcached-udp");
        Path getV2 = Artifacts.variant("memcached-udp", "\" 0 \" decimal", "\" 7 \" decimal");
        Path otherPort = Artifacts.variant("memcached-udp", "udp port 11211", "udp port 11212");
        Path tcpHandler = Artifacts.source("cping", PING_TCP);
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String comp = Kernel.uniqueName();
        String sub = comp + "-get";
        List<Integer> progIds = new ArrayList<>();
        List<Integer> mapIds = new ArrayList<>();
        Consumer<Context> ids = c -> {
            c.pinned().programs().values().forEach(x -> progIds.add(x.id()));
            c.pinned().maps().values().forEach(x -> mapIds.add(x.id()));
        };
        Process memcached = null;
        Traffic traffic = null;
        try (VethNetns net = new VethNetns()) {
            memcached = new ProcessBuilder("ip", "netns", "exec", net.netns, MEMCACHED.toString(), "-u", "root",
                    "-l", net.nsIp, "-p", "11211", "-U", "11211", "-m", "16")
                    .redirectErrorStream(true).redirectOutput(stateRoot.resolve("memcached.out").toFile()).start();
            assertTrue(Kernel.eventually(Duration.ofSeconds(15), () -> MemcachedText.stats(net, "cmd_get") >= 0),
                    "memcached did not start");
            assertEquals("STORED\r\n", MemcachedText.request(net, "set only-in-memcached 0 0 3\r\nbob\r\n", "\r\n"));
            Attachment at = Attachment.iface(net.nsIf, net.netns);

            try (Context c = agent.createCompContext(comp, composite, 11211, 8, 4, at)) {
                ids.accept(c);
                assertEquals(List.of("comp_xdp"), List.copyOf(c.pinned().links().keySet()));
            }
            assertEquals(new Agent.Composite(comp, 11211, 8, 4, "udp"), agent.composite(comp));
            assertTrue(Sh.check("ip", "-n", net.netns, "link", "show", net.nsIf).contains("prog/xdp"),
                    "XDP is attached to " + net.nsIf);

            try (DatagramSocket client = new DatagramSocket(
                    new InetSocketAddress(InetAddress.getByName(net.hostIp), 0))) {
                // no sub-context yet: every selector passes to memcached
                assertEquals("VALUE only-in-memcached 0 3\r\nbob\r\nEND\r\n",
                        get(client, net, 0x0100, "get only-in-memcached"));
                assertEquals(1, MemcachedText.stats(net, "cmd_get"));

                try (Context c = agent.createSubContext(comp, sub, get, b("get "))) {
                    ids.accept(c);
                    assertEquals(List.of("get"), List.copyOf(c.pinned().programs().keySet()), "only the handler loads");
                    assertEquals(List.of(), List.copyOf(c.pinned().links().keySet()), "a sub-context attaches nothing");
                    c.put("mc", b("user:42"), b("alice"));
                }
                assertEquals(0, agent.subContext(sub).orElseThrow().slot());

                // selector "get ": the sub-context answers a hit from XDP, memcached sees no get for it
                assertEquals(HIT, get(client, net, 0x1234, "get user:42"));
                assertEquals(1, MemcachedText.stats(net, "cmd_get"), "the kernel answered: memcached saw no GET");
                // its miss passes to memcached
                assertEquals("END\r\n", get(client, net, 0x1235, "get nobody"));
                assertEquals(2, MemcachedText.stats(net, "cmd_get"));
                // another selector ("gets") has no sub-context: memcached answers, with its CAS value
                assertTrue(get(client, net, 0x1236, "gets only-in-memcached")
                        .startsWith("VALUE only-in-memcached 0 3 "), "gets reaches memcached");
                assertEquals(3, MemcachedText.stats(net, "cmd_get"));
                try (Context c = agent.context(sub)) {
                    assertTrue(c.getStats("mc", b("user:42")) >= 1, "per-key hits of the sub-context's map");
                }
                try (Context c = agent.context(comp)) {
                    Map<String, Long> n = c.allStats().get("comp");
                    assertTrue(n.get("tx") >= 1 && n.get("pass") >= 3, n.toString());
                }

                // refusals, each leaving nothing behind
                assertThrows(IllegalArgumentException.class,
                        () -> agent.createSubContext(comp, "bad1", get, b("get")));
                assertThrows(AgentException.class, () -> agent.createSubContext(comp, "bad2", get, b("get ")));
                AgentException otherPortRefused = assertThrows(AgentException.class,
                        () -> agent.createSubContext(comp, "bad3", otherPort, b("set ")));
                assertTrue(otherPortRefused.getMessage().contains("is for udp port 11212"),
                        otherPortRefused.getMessage());
                AgentException tcpRefused = assertThrows(AgentException.class,
                        () -> agent.createSubContext(comp, "bad4", tcpHandler, b("set ")));
                assertTrue(tcpRefused.getMessage().contains("is one UDP handler"), tcpRefused.getMessage());
                assertThrows(AgentException.PortClaimed.class, () -> agent.createContext("bad5", get, at));
                for (String bad : List.of("bad1", "bad2", "bad3", "bad4", "bad5")) {
                    assertFalse(Files.exists(pinRoot.resolve(bad)), bad);
                    assertFalse(Files.exists(stateRoot.resolve(bad)), bad);
                }
            }

            // a client asks for user:42 all along, while the sub-context is swapped and then removed
            traffic = new Traffic(net);
            traffic.start();
            assertTrue(traffic.awaitAnswers(HIT, 5, Duration.ofSeconds(20)), traffic.toString());
            try (Context c = agent.updateContext(sub, getV2)) {
                ids.accept(c);
                assertEquals("alice", new String(c.get("mc", b("user:42")).orElseThrow(), US_ASCII), "data kept");
            }
            assertTrue(traffic.awaitAnswers(HIT_V2, 5, Duration.ofSeconds(20)), traffic.toString());

            // a restarted agent finds the composite and its sub-context
            Agent restarted = new Agent(pinRoot, stateRoot);
            assertEquals(List.of(comp, sub).stream().sorted().toList(),
                    restarted.contexts().stream().sorted().toList());
            assertEquals(new Agent.Composite(comp, 11211, 8, 4, "udp"), restarted.composite(comp));
            assertTrue(restarted.status().get(comp).contains("composite: udp port 11211")
                    && restarted.status().get(comp).contains("sub-contexts [" + sub + "]"),
                    restarted.status().toString());
            try (Context c = restarted.context(sub)) {
                c.put("mc", b("user:42"), b("bobby"));
            }
            assertTrue(traffic.awaitAnswers("VALUE user:42 7 5\r\nbobby\r\nEND\r\n", 5, Duration.ofSeconds(20)),
                    traffic.toString());
            long getsBefore = MemcachedText.stats(net, "cmd_get");
            assertEquals(0, traffic.count("END\r\n"), "no request passed to memcached across the swap: " + traffic);

            // remove the sub-context while the client asks: from then on memcached answers (it has no user:42)
            Agent.DeleteReport r = restarted.deleteSubContext(sub);
            assertTrue(r.drain().contains("selector \"get \" removed") && r.drain().contains("slot 0 emptied"),
                    r.drain());
            assertFalse(Files.exists(pinRoot.resolve(sub)));
            assertFalse(Files.exists(stateRoot.resolve(sub)));
            assertTrue(traffic.awaitAnswers("END\r\n", 5, Duration.ofSeconds(20)), traffic.toString());
            traffic.stop();
            System.out.println("client across swap and delete: " + traffic);
            assertTrue(MemcachedText.stats(net, "cmd_get") >= getsBefore + 5, "the gets reach memcached again");
            Set<String> expected = Set.of(HIT, HIT_V2, "VALUE user:42 7 5\r\nbobby\r\nEND\r\n", "END\r\n");
            assertTrue(expected.containsAll(traffic.answers.keySet()), "only whole answers: " + traffic);
            assertEquals(0, traffic.badIds.get(), "no runt answers: " + traffic);

            // a sub-context again, then unload the composite: the sub-context goes with it
            try (Context c = agent.createSubContext(comp, sub, get, b("get "))) {
                ids.accept(c);
                c.put("mc", b("user:42"), b("alice"));
            }
            try (DatagramSocket client = new DatagramSocket(
                    new InetSocketAddress(InetAddress.getByName(net.hostIp), 0))) {
                assertEquals(HIT, get(client, net, 0x2000, "get user:42"));
                Agent.DeleteReport all = agent.deleteContext(comp);
                assertTrue(all.drain().contains("1 sub-contexts deleted (" + sub + ")"), all.drain());
                assertEquals(List.of(), agent.contexts());
                assertEquals("END\r\n", get(client, net, 0x2001, "get user:42"), "memcached answers after the unload");
                assertEquals("VALUE only-in-memcached 0 3\r\nbob\r\nEND\r\n",
                        get(client, net, 0x2002, "get only-in-memcached"));
            }
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> progIds.stream().noneMatch(BpfProgram::exists)
                    && mapIds.stream().noneMatch(BpfMap::exists)), "programs or maps left: "
                    + Sh.check("bpftool", "prog") + Sh.check("bpftool", "map"));
            assertFalse(Sh.check("ip", "-n", net.netns, "link", "show", net.nsIf).contains("prog/xdp"),
                    "XDP detached from " + net.nsIf);
            assertFalse(Files.exists(pinRoot.resolve(comp)));
            assertFalse(Files.exists(pinRoot.resolve(sub)));
            assertFalse(Files.exists(stateRoot.resolve(comp)));
        } finally {
            if (traffic != null) {
                traffic.stop();
            }
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

    @Test
    void cliCreatesUdpCompositesAndSubContexts() throws Exception {
        requireBpf();
        Path composite = Artifacts.composite("udp");
        Path get = Artifacts.sample("memcached-udp");
        Path tcpHandler = Artifacts.source("cping", PING_TCP);
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        String comp = Kernel.uniqueName();
        String[] roots = {"--pin-root", pinRoot.toString(), "--state-root", stateRoot.toString()};
        try (VethNetns net = new VethNetns()) {
            Out o = xps(roots, "compcontext", "--help");
            assertEquals(0, o.code);
            assertTrue(o.out.contains("--protocol udp") && o.out.contains("--interface IF"), o.out);
            // usage errors: exit 2
            o = xps(roots, "compcontext", comp, composite.toString(), "--port", "11211", "--offset", "8", "--length",
                    "4", "--protocol", "sctp", "--interface", net.nsIf);
            assertEquals(2, o.code, o.err);
            assertTrue(o.err.startsWith("xps: --protocol is tcp or udp, not 'sctp'"), o.err);
            o = xps(roots, "compcontext", comp, composite.toString(), "--port", "11211", "--offset", "8", "--length",
                    "4", "--protocol", "udp", "--cgroup", "/sys/fs/cgroup");
            assertEquals(2, o.code, o.err);
            o = xps(roots, "compcontext", comp, composite.toString(), "--port", "11211", "--offset", "8", "--length",
                    "4", "--protocol", "udp", "--interface", net.nsIf, "--xdp-mode", "fast");
            assertEquals(2, o.code, o.err);
            // failures: exit 1, one line
            o = xps(roots, "compcontext", comp, composite.toString(), "--port", "11211", "--offset", "8", "--length",
                    "4", "--protocol", "tcp", "--cgroup", "/sys/fs/cgroup");
            assertEquals(1, o.code, o.err);
            assertEquals(1, o.err.strip().lines().count(), o.err);
            assertTrue(o.err.contains("is the UDP composite object, not the TCP one"), o.err);
            o = xps(roots, "compcontext", comp, composite.toString(), "--port", "11211", "--offset", "8", "--length",
                    "4", "--interface", "xpsnosuchif0");
            assertEquals(1, o.code, o.err);
            assertEquals(1, o.err.strip().lines().count(), o.err);
            assertFalse(Files.exists(pinRoot.resolve(comp)));
            assertFalse(Files.exists(stateRoot.resolve(comp)));

            o = xps(roots, "compcontext", comp, composite.toString(), "--port", "11211", "--offset", "8", "--length",
                    "4", "--protocol", "udp", "--interface", net.nsIf, "--netns", net.netns);
            assertEquals(0, o.code, o.err);
            assertTrue(o.out.startsWith("loaded composite " + comp + ": udp port 11211"), o.out);
            assertFalse(o.out.contains("reset server"), "no reset server for UDP: " + o.out);
            o = xps(roots, "subcontext", comp, comp + "-t", tcpHandler.toString(), "--value", "get ");
            assertEquals(1, o.code, o.err);
            assertEquals(1, o.err.strip().lines().count(), o.err);
            assertTrue(o.err.contains("is one UDP handler"), o.err);
            o = xps(roots, "subcontext", comp, comp + "-g", get.toString(), "--value", "0x67657420");
            assertEquals(0, o.code, o.err);
            assertTrue(o.out.contains("selector \"get \", slot 0"), o.out);
            o = xps(roots, "status");
            assertTrue(o.out.contains("composite: udp port 11211, selector at offset 8 length 4, sub-contexts ["
                    + comp + "-g]"), o.out);
            o = xps(roots, "unload", comp);
            assertEquals(0, o.code, o.err);
            assertFalse(Files.exists(pinRoot.resolve(comp)));
            assertFalse(Files.exists(pinRoot.resolve(comp + "-g")));
            assertFalse(Sh.check("ip", "-n", net.netns, "link", "show", net.nsIf).contains("prog/xdp"),
                    "XDP detached from " + net.nsIf);
        } finally {
            for (String n : List.of(comp + "-g", comp)) {
                if (Files.exists(pinRoot.resolve(n))) {
                    try {
                        new Agent(pinRoot, stateRoot).deleteContext(n);
                    } catch (RuntimeException e) {
                        System.err.println("cleanup: " + e);
                    }
                }
            }
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
        }
    }

    /**
     * A client that sends "get user:42" over and over (its own socket, a new request id each time, 200 ms for an
     * answer) and counts the answers it gets by their text (an answer to an earlier request that came late counts
     * too, and is noted); answers shorter than the frame header count as runts.
     */
    private static final class Traffic {
        final Map<String, AtomicInteger> answers = new ConcurrentHashMap<>();
        final AtomicInteger badIds = new AtomicInteger();
        final AtomicInteger lateAnswers = new AtomicInteger();
        final AtomicInteger unanswered = new AtomicInteger();
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final VethNetns net;
        private final Thread thread;
        private volatile Throwable failure;

        Traffic(VethNetns net) {
            this.net = net;
            this.thread = new Thread(this::run, "udp-composite-traffic");
            this.thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        private void run() {
            try (DatagramSocket client = new DatagramSocket(
                    new InetSocketAddress(InetAddress.getByName(net.hostIp), 0))) {
                client.setSoTimeout(200);
                int id = 0x4000;
                while (running.get()) {
                    id = id == 0xffff ? 0x4000 : id + 1;
                    byte[] req = request(id, "get user:42");
                    client.send(new DatagramPacket(req, req.length, net.nsAddress(), 11211));
                    DatagramPacket in = new DatagramPacket(new byte[2048], 2048);
                    try {
                        client.receive(in);
                    } catch (SocketTimeoutException e) {
                        unanswered.incrementAndGet();
                        continue;
                    }
                    byte[] data = Arrays.copyOf(in.getData(), in.getLength());
                    if (data.length < 8) {
                        badIds.incrementAndGet();
                        continue;
                    }
                    if ((((data[0] & 0xFF) << 8) | (data[1] & 0xFF)) != id) {
                        lateAnswers.incrementAndGet(); // an answer that came after its 200 ms: counted, not fatal
                    }
                    answers.computeIfAbsent(new String(data, 8, data.length - 8, US_ASCII),
                            k -> new AtomicInteger()).incrementAndGet();
                    Thread.sleep(5);
                }
            } catch (Throwable t) {
                failure = t;
            }
        }

        /** Waits (bounded) until {@code n} more answers {@code text} than there were when called. */
        boolean awaitAnswers(String text, int n, Duration timeout) {
            int base = count(text);
            return Kernel.eventually(timeout, () -> failure == null && count(text) >= base + n);
        }

        int count(String text) {
            AtomicInteger c = answers.get(text);
            return c == null ? 0 : c.get();
        }

        void stop() throws InterruptedException {
            running.set(false);
            thread.join(5000);
        }

        @Override
        public String toString() {
            return "answers " + answers.toString().replace("\r\n", "\\r\\n") + ", runts " + badIds + ", late "
                    + lateAnswers + ", unanswered " + unanswered
                    + (failure == null ? "" : ", failed: " + failure);
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(US_ASCII);
    }

    private static byte[] request(int id, String command) {
        ByteArrayOutputStream req = new ByteArrayOutputStream();
        req.writeBytes(HexFormat.of().parseHex("%04x000000010000".formatted(id)));
        req.writeBytes((command + "\r\n").getBytes(US_ASCII));
        return req.toByteArray();
    }

    /** One memcached UDP request; returns the answer after the 8-byte frame header, which must echo {@code id}. */
    private static String get(DatagramSocket client, VethNetns net, int id, String command) throws IOException {
        byte[] req = request(id, command);
        client.setSoTimeout(200);
        for (int i = 0; i < 50; i++) { // the first datagrams may wait for ARP
            client.send(new DatagramPacket(req, req.length, net.nsAddress(), 11211));
            DatagramPacket in = new DatagramPacket(new byte[2048], 2048);
            try {
                client.receive(in);
            } catch (SocketTimeoutException e) {
                continue;
            }
            byte[] data = Arrays.copyOf(in.getData(), in.getLength());
            if ((((data[0] & 0xFF) << 8) | (data[1] & 0xFF)) != id) {
                continue; // a late answer to an earlier try
            }
            return new String(data, 8, data.length - 8, US_ASCII);
        }
        throw new AssertionError("no answer to " + command);
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
