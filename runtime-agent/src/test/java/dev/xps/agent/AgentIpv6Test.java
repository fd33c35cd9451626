package dev.xps.agent;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.NginxSite;
import dev.xps.agent.testsupport.Resp;
import dev.xps.agent.testsupport.Sh;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Native IPv6 on the TCP fast path, end to end on the real kernel, with IPv4 in the same run (dual stack):
 * Debian's redis-server listening on {@code ::1} and {@code 127.0.0.1} behind samples/redis-get.xps (GET hits
 * answered by the kernel over both, misses and writes reaching Redis, pipelines in order, the sockhash keyed by
 * the IPv6 4-tuple); an IPv4 address predicate keeping IPv6 connections off the fast path; and
 * samples/http-block.xps in front of nginx on {@code [::1]} and {@code 127.0.0.1}, where a PUT over either ends in
 * ECONNRESET because the agent destroys the IPv6 (or IPv4) socket the reset event names.
 */
@Tag("kernel")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class AgentIpv6Test {
    private static final Path REDIS = Path.of("/usr/bin/redis-server");
    private static final Path NGINX = Path.of("/usr/sbin/nginx");
    private static final String V6 = "::1";
    private static final String V4 = "127.0.0.1";

    @Test
    void redisOverIpv6IsAnsweredInTheKernelAndIpv4StillIs() throws Exception {
        Kernel.assumeBpf();
        assertTrue(Files.isExecutable(REDIS), "redis-server is installed by .ci/run (apt-get install redis-server)");
        int port = freePort();
        Path artifact = Artifacts.variant("redis-get", "tcp port 6379", "tcp port " + port);
        try (Setup s = new Setup()) {
            try (Context ctx = s.agent.createContext(s.name, artifact, Attachment.cgroup(s.cg.path))) {
                ctx.put("cache", b("foo"), b("from-kernel"));
            }
            s.startRedis(port);

            // IPv6: a cached key is answered by the kernel (Redis counts no GET), a miss by Redis
            assertEquals("from-kernel", cli(V6, port, "GET", "foo"));
            assertEquals(0, getCalls(port), "the GET over IPv6 did not reach Redis");
            assertEquals("", cli(V6, port, "GET", "nothere"));
            assertEquals(1, getCalls(port));
            // a SET over IPv6 goes through the write handler to Redis; the next GET is the kernel's
            assertEquals("OK", cli(V6, port, "SET", "k", "v1"));
            assertEquals("v1", cli(V6, port, "GET", "k"));
            assertEquals(1, getCalls(port));

            try (Resp live = new Resp(V6, port)) {
                // pipelined mixed requests (hits, misses, writes) on one IPv6 connection: all answered, in order
                live.write(cat(Resp.command("SET", "a", "1"), Resp.command("GET", "a"), Resp.command("GET", "k"),
                        Resp.command("GET", "missing"), Resp.command("DEL", "a"), Resp.command("GET", "a")));
                assertEquals(List.of("+OK", "$1", "$v1", "$-1", ":1", "$-1"), replies(live, 6));
                // pipelined hits only: the kernel answers them together. This needs the egress (sk_msg) program to
                // have seen Redis's answers on the connection's IPv6 key, or the connection would stay "waiting".
                int before = getCalls(port);
                live.write(cat(Resp.command("GET", "k"), Resp.command("GET", "foo"), Resp.command("GET", "k")));
                assertEquals(List.of("$v1", "$from-kernel", "$v1"), replies(live, 3));
                assertEquals(before, getCalls(port), "pipelined IPv6 hits were answered by the kernel");

                // the connection is in the sockhash under its IPv6 4-tuple
                try (Context ctx = s.agent.context(s.name)) {
                    List<Tuple> keys = ctx.pinned().map("redis_socks").keys().stream().map(Tuple::of).toList();
                    assertTrue(keys.stream().anyMatch(t -> t.family() == 10 && t.remote().equals(V6)
                            && t.local().equals(V6) && t.localPort() == port), keys.toString());
                }
            }

            // dual stack: IPv4 in the same run, same context, same Redis
            int before = getCalls(port);
            assertEquals("from-kernel", cli(V4, port, "GET", "foo"));
            assertEquals("v1", cli(V4, port, "GET", "k"));
            assertEquals(before, getCalls(port), "GETs over IPv4 were answered by the kernel");
            assertEquals("", cli(V4, port, "GET", "nothere"));
            assertEquals(before + 1, getCalls(port));
            try (Resp live4 = new Resp(V4, port)) {
                // a segment with a miss goes to Redis whole (pass wins over tx), in order; then the kernel again
                live4.write(cat(Resp.command("GET", "missing"), Resp.command("GET", "k")));
                assertEquals(List.of("$-1", "$v1"), replies(live4, 2));
                int passed = getCalls(port);
                assertEquals("$from-kernel", live4.call("GET", "foo"));
                assertEquals(passed, getCalls(port));
                try (Context ctx = s.agent.context(s.name)) {
                    List<Tuple> keys = ctx.pinned().map("redis_socks").keys().stream().map(Tuple::of).toList();
                    assertTrue(keys.stream().anyMatch(t -> t.family() == 2 && t.remote().equals(V4)
                            && t.local().equals(V4) && t.localPort() == port), keys.toString());
                }
            }

            try (Context ctx = s.agent.context(s.name)) {
                Map<String, Long> c = ctx.allStats().get("redis");
                assertTrue(c.get("tx") >= 7, c.toString());
                assertTrue(c.get("pass") >= 4, c.toString());
            }
        }
    }

    /**
     * {@code from} is an IPv4 prefix: it matches IPv4 connections only. Without the family check the sock_ops
     * program would test {@code ops->remote_ip4} of an IPv6 socket, which the kernel sets to 127.0.0.6, and take
     * the IPv6 connection onto the fast path.
     */
    @Test
    void anIpv4AddressPredicateLeavesIpv6ConnectionsToTheService() throws Exception {
        Kernel.assumeBpf();
        assertTrue(Files.isExecutable(REDIS), "redis-server is installed by .ci/run (apt-get install redis-server)");
        int port = freePort();
        Path artifact = Artifacts.variant("redis-get", "tcp port 6379", "tcp port " + port + " from 127.0.0.0/8");
        try (Setup s = new Setup()) {
            try (Context ctx = s.agent.createContext(s.name, artifact, Attachment.cgroup(s.cg.path))) {
                ctx.put("cache", b("foo"), b("from-kernel"));
            }
            s.startRedis(port);

            assertEquals("from-kernel", cli(V4, port, "GET", "foo"), "127.0.0.1 is in 127.0.0.0/8");
            assertEquals(0, getCalls(port));
            assertEquals("", cli(V6, port, "GET", "foo"), "::1 is not in 127.0.0.0/8: Redis (which has no foo)");
            assertEquals(1, getCalls(port));
            try (Context ctx = s.agent.context(s.name)) {
                List<Tuple> keys = ctx.pinned().map("redis_socks").keys().stream().map(Tuple::of).toList();
                assertTrue(keys.stream().noneMatch(t -> t.family() == 10), keys.toString());
            }
        }
    }

    /**
     * The mirror image: {@code from ::1/128} is an IPv6 prefix, so IPv6 connections from ::1 are on the fast path and
     * IPv4 ones (also 127.0.0.1, whatever its bytes) go to Redis; {@code to} an IPv6 network that does not hold
     * ::1 takes nothing.
     */
    @Test
    void anIpv6AddressPredicateTakesIpv6ConnectionsInItsPrefixOnly() throws Exception {
        Kernel.assumeBpf();
        assertTrue(Files.isExecutable(REDIS), "redis-server is installed by .ci/run (apt-get install redis-server)");
        int port = freePort();
        Path artifact = Artifacts.variant("redis-get", "tcp port 6379", "tcp port " + port + " from ::1");
        try (Setup s = new Setup()) {
            try (Context ctx = s.agent.createContext(s.name, artifact, Attachment.cgroup(s.cg.path))) {
                ctx.put("cache", b("foo"), b("from-kernel"));
            }
            s.startRedis(port);

            assertEquals("from-kernel", cli(V6, port, "GET", "foo"), "::1 is in ::1/128");
            assertEquals(0, getCalls(port));
            assertEquals("", cli(V4, port, "GET", "foo"), "127.0.0.1 is IPv4: Redis (which has no foo)");
            assertEquals(1, getCalls(port));
            try (Context ctx = s.agent.context(s.name)) {
                List<Tuple> keys = ctx.pinned().map("redis_socks").keys().stream().map(Tuple::of).toList();
                assertTrue(keys.stream().noneMatch(t -> t.family() == 2), keys.toString());
            }
        }
        int other = freePort();
        Path elsewhere = Artifacts.variant("redis-get", "tcp port 6379", "tcp port " + other + " to fd00::/8");
        try (Setup s = new Setup()) {
            try (Context ctx = s.agent.createContext(s.name, elsewhere, Attachment.cgroup(s.cg.path))) {
                ctx.put("cache", b("foo"), b("from-kernel"));
            }
            s.startRedis(other);
            assertEquals("", cli(V6, other, "GET", "foo"), "::1 is not in fd00::/8: Redis");
            assertEquals(1, getCalls(other));
        }
    }

    @Test
    void aPutOverIpv6IsResetAndIpv4StillIs() throws Exception {
        Kernel.assumeBpf();
        assertTrue(Files.isExecutable(NGINX), "nginx is installed by .ci/run (apt-get install nginx)");
        assertEquals(null, SocketDestroyer.probe(), "this kernel destroys sockets");
        int port = freePort();
        Path artifact = Artifacts.variant("http-block", "tcp port 80", "tcp port " + port);
        AtomicBoolean serving = new AtomicBoolean(true);
        List<Context.ResetEvent> resets = new CopyOnWriteArrayList<>();
        Thread resetter = null;
        try (Setup s = new Setup()) {
            s.agent.createContext(s.name, artifact, Attachment.cgroup(s.cg.path)).close();
            Path www = s.startNginx(port);
            resetter = Thread.ofPlatform().name("xpsagent-ipv6-resets").start(() -> {
                try (Context c = s.agent.context(s.name)) {
                    c.serveResets(serving::get, Duration.ofMillis(100), resets::add);
                }
            });

            String get = exchange(V6, port, "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(get.startsWith("HTTP/1.1 200 OK") && get.endsWith("hello from nginx\n"), get);
            String refused = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n"
                    + "Connection: close\r\n\r\n";
            assertEquals(refused, exchange(V6, port, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                    refused.length()), "a POST over IPv6 is answered by the kernel");

            for (int i = 0; i < 3; i++) {
                expectReset(V6, port);
            }
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> resets.size() == 3), resets.toString());
            for (Context.ResetEvent ev : resets) {
                assertTrue(ev.ipv6(), ev.toString());
                assertEquals(V6, ev.remoteIp());
                assertEquals(V6, ev.localIp());
                assertEquals(port, ev.localPort());
                assertTrue(ev.remotePort() > 0 && ev.remotePort() != port, ev.toString());
            }
            // dual stack: a PUT over IPv4 in the same run is reset too
            expectReset(V4, port);
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> resets.size() == 4), resets.toString());
            Context.ResetEvent v4 = resets.get(3);
            assertFalse(v4.ipv6(), v4.toString());
            assertEquals(V4, v4.remoteIp());
            assertEquals(V4, v4.localIp());

            assertTrue(exchange(V6, port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .startsWith("HTTP/1.1 200 OK"), "nginx still serves over IPv6 after the resets");
            Path accessLog = www.resolve("access.log");
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> lines(accessLog).size() >= 2));
            List<String> seen = lines(accessLog);
            assertEquals(2, seen.size(), "nginx saw exactly the two GETs: " + seen);
            assertTrue(seen.stream().allMatch(l -> l.startsWith("::1 ")), seen.toString());
            try (Context c = s.agent.context(s.name)) {
                assertEquals(1L, c.allStats().get("http").get("tx"));
                assertEquals(4L, c.allStats().get("http").get("reset"));
            }
        } finally {
            serving.set(false);
            if (resetter != null) {
                resetter.join(5000);
            }
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A sockhash / xps_conns key: {@code struct xps_tuple} (docs/ebpf-target.md). */
    record Tuple(int family, String remote, int remotePort, String local, int localPort) {
        static Tuple of(byte[] k) {
            assertEquals(44, k.length, "struct xps_tuple is 44 bytes");
            int family = k[0] & 255 | (k[1] & 255) << 8;
            int remotePort = (k[6] & 255) << 8 | (k[7] & 255);
            int localPort = k[8] & 255 | (k[9] & 255) << 8;
            String remote = family == 10 ? Context.ResetEvent.ip6(k, 12) : ip4(k, 24);
            String local = family == 10 ? Context.ResetEvent.ip6(k, 28) : ip4(k, 40);
            return new Tuple(family, remote, remotePort, local, localPort);
        }

        private static String ip4(byte[] b, int at) {
            return (b[at] & 255) + "." + (b[at + 1] & 255) + "." + (b[at + 2] & 255) + "." + (b[at + 3] & 255);
        }
    }

    /** One test's agent, cgroup and server; {@link #close()} removes all of them, also after a failure. */
    private static final class Setup implements AutoCloseable {
        final Path pinRoot = Kernel.pinRoot();
        final Path stateRoot;
        final Agent agent;
        final String name = Kernel.uniqueName();
        final Cgroup cg;
        Process server;
        Path www;

        Setup() throws IOException {
            stateRoot = Files.createTempDirectory("xpsagent-state-");
            agent = new Agent(pinRoot, stateRoot);
            cg = new Cgroup();
        }

        /** redis-server on ::1 and 127.0.0.1, in the cgroup before it creates its listening sockets. */
        void startRedis(int port) {
            server = start("exec " + REDIS + " --port " + port + " --bind ::1 127.0.0.1 --save '' --appendonly no",
                    "redis.log");
            assertTrue(Kernel.eventually(Duration.ofSeconds(10),
                    () -> cli(V6, port, "PING").equals("PONG") && cli(V4, port, "PING").equals("PONG")),
                    "redis-server did not start on ::1 and 127.0.0.1: " + log("redis.log"));
        }

        /** nginx on [::1] and 127.0.0.1, serving index.html; returns its directory (access.log is there). */
        Path startNginx(int port) throws IOException {
            www = Files.createTempDirectory("xpsagent-nginx-");
            NginxSite.write(www, "[::1]:" + port, "127.0.0.1:" + port);
            server = start("exec " + NGINX + " -c " + www.resolve("nginx.conf") + " -p " + www, "nginx.out");
            assertTrue(Kernel.eventually(Duration.ofSeconds(15), () -> connects(V6, port) && connects(V4, port)),
                    "nginx did not start on [::1] and 127.0.0.1: " + log("nginx.out"));
            return www;
        }

        private Process start(String command, String logName) {
            try {
                return new ProcessBuilder("sh", "-c", "echo $$ > " + cg.path.resolve("cgroup.procs") + " && " + command)
                        .redirectErrorStream(true).redirectOutput(stateRoot.resolve(logName).toFile()).start();
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }

        private String log(String logName) {
            try {
                return Files.readString(stateRoot.resolve(logName));
            } catch (IOException e) {
                return "(no log: " + e + ")";
            }
        }

        @Override
        public void close() throws InterruptedException {
            if (server != null) {
                server.destroy();
                if (!server.waitFor(10, TimeUnit.SECONDS)) {
                    server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
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
            if (www != null) {
                Kernel.deleteTree(www);
            }
        }
    }

    /** A PUT on a new connection to host: the kernel drops it and the agent destroys the socket, so ECONNRESET. */
    private static void expectReset(String host, int port) throws IOException {
        try (Socket c = new Socket()) {
            c.connect(new InetSocketAddress(host, port), 5000);
            c.setSoTimeout(5000);
            c.getOutputStream().write("PUT /file HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".getBytes(US_ASCII));
            try {
                int r = c.getInputStream().read();
                fail("expected a reset over " + host + ", read " + r);
            } catch (SocketTimeoutException e) {
                fail("no reset over " + host + " within 5 s: the agent did not destroy the socket");
            } catch (SocketException e) {
                assertTrue(e.getMessage().contains("Connection reset"), host + ": " + e);
            }
        }
    }

    private static String exchange(String host, int port, String request) throws IOException {
        return exchange(host, port, request, Integer.MAX_VALUE);
    }

    /** Sends a request and reads {@code n} bytes or until the peer closes (5 s at most per read). */
    private static String exchange(String host, int port, String request, int n) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(US_ASCII));
            return new String(s.getInputStream().readNBytes(n), US_ASCII);
        }
    }

    private static boolean connects(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    /** redis-cli's output to host without the trailing newline, or "" on failure. */
    static String cli(String host, int port, String... args) {
        List<String> cmd = new ArrayList<>(List.of("redis-cli", "-h", host, "-p", Integer.toString(port)));
        cmd.addAll(List.of(args));
        try {
            Sh.Result r = Sh.run(Duration.ofSeconds(10), cmd);
            return r.exitCode() == 0 ? r.output().strip() : "";
        } catch (IOException e) {
            return "";
        }
    }

    /** cmdstat_get's calls (asked over IPv4, which INFO is not cached for). */
    static int getCalls(int port) {
        for (String line : cli(V4, port, "INFO", "commandstats").split("\n")) {
            if (line.startsWith("cmdstat_get:calls=")) {
                return Integer.parseInt(line.substring("cmdstat_get:calls=".length(), line.indexOf(',')));
            }
        }
        return 0;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(UTF_8);
    }

    private static byte[] cat(byte[]... parts) {
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
}
