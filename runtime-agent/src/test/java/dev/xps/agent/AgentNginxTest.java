package dev.xps.agent;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.NginxSite;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * samples/http-block.xps in front of Debian's nginx, in its own cgroup: POST is answered 405 by the
 * kernel, PUT is reset (the agent destroys the socket), GET is served by nginx. nginx's access
 * log proves which requests reached it: the GETs and nothing else.
 */
@Tag("kernel")
class AgentNginxTest {
    private static final Path NGINX = Path.of("/usr/sbin/nginx");

    @Test
    void postIsRefusedByTheKernelPutIsResetGetReachesNginx() throws Exception {
        Kernel.assumeBpf();
        assertTrue(Files.isExecutable(NGINX), "nginx is installed by .ci/run (apt-get install nginx)");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path artifact = Artifacts.variant("http-block", "tcp port 80", "tcp port " + port);
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Path www = Files.createTempDirectory("xpsagent-nginx-");
        writeSite(www, port);
        Agent agent = new Agent(pinRoot, stateRoot);
        String name = Kernel.uniqueName();
        Process nginx = null;
        AtomicBoolean serving = new AtomicBoolean(true);
        List<Context.ResetEvent> resets = new CopyOnWriteArrayList<>();
        Thread resetter = null;
        Cgroup cg = new Cgroup();
        try {
            agent.createContext(name, artifact, Attachment.cgroup(cg.path)).close();
            // nginx joins the cgroup before it creates its listening socket.
            nginx = startNginx(www, port, cg);
            resetter = Thread.ofPlatform().name("xpsagent-nginx-resets").start(() -> {
                try (Context c = agent.context(name)) {
                    c.serveResets(serving::get, Duration.ofMillis(100), resets::add);
                }
            });

            String get = exchange(port, "GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
            assertTrue(get.startsWith("HTTP/1.1 200 OK"), get);
            assertTrue(get.contains("Server: nginx"), get);
            assertTrue(get.endsWith("hello from nginx\n"), get);

            String refused = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n"
                    + "Connection: close\r\n\r\n";
            for (int i = 0; i < 3; i++) {
                assertEquals(refused, exchange(port, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                        refused.length()), "POST is answered by the kernel, not nginx (which adds a Server header)");
            }
            for (int i = 0; i < 3; i++) {
                try (Socket c = new Socket()) {
                    c.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    c.setSoTimeout(5000);
                    c.getOutputStream().write("PUT /file HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                            .getBytes(US_ASCII));
                    try {
                        int r = c.getInputStream().read();
                        fail("expected a reset, read " + r);
                    } catch (SocketException e) {
                        assertTrue(e.getMessage().contains("Connection reset"), e.toString());
                    }
                }
            }
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> resets.size() == 3), resets.toString());
            assertTrue(exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .startsWith("HTTP/1.1 200 OK"), "nginx still serves after the resets");

            Path accessLog = www.resolve("access.log");
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> lines(accessLog).size() >= 2));
            List<String> seen = lines(accessLog);
            assertEquals(2, seen.size(), "nginx saw exactly the two GETs: " + seen);
            assertFalse(seen.stream().anyMatch(l -> l.contains("\"POST ") || l.contains("\"PUT ")), seen.toString());
            try (Context c = agent.context(name)) {
                assertEquals(3L, c.allStats().get("http").get("tx"));
                assertEquals(3L, c.allStats().get("http").get("reset"));
            }
        } finally {
            serving.set(false);
            if (resetter != null) {
                resetter.join(5000);
            }
            if (nginx != null) {
                nginx.destroy();
                nginx.waitFor();
            }
            if (Files.exists(pinRoot.resolve(name))) {
                agent.deleteContext(name);
            }
            cg.close();
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
            Kernel.deleteTree(www);
        }
    }

    /**
     * Deleting the context drains it: a connection opened while the handlers were loaded gets nginx's own
     * answers afterwards, also for a method a dispatch arm drops by itself (no handler slot to empty), and a
     * reset the handler decided but nobody carried out (no reset server running) is carried out by the delete.
     */
    @Test
    void deleteDrainsLiveConnectionsAndCarriesOutPendingResets() throws Exception {
        Kernel.assumeBpf();
        assertTrue(Files.isExecutable(NGINX), "nginx is installed by .ci/run (apt-get install nginx)");
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path artifact = Artifacts.source("drain-block", """
                dispatch http on tcp port %d at offset 0 length 4 {
                  "POST" => drop;
                  "PUT " => put;
                  _ => pass;
                }
                handler put {
                  decode { expect "PUT "; skip_until "\\r\\n\\r\\n" max 8192; } else pass;
                  return reset;
                }
                """.formatted(port));
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Path www = Files.createTempDirectory("xpsagent-nginx-");
        writeSite(www, port);
        Agent agent = new Agent(pinRoot, stateRoot);
        String name = Kernel.uniqueName();
        Process nginx = null;
        Cgroup cg = new Cgroup();
        try {
            agent.createContext(name, artifact, Attachment.cgroup(cg.path)).close();
            nginx = startNginx(www, port, cg);
            String post = "POST /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
            try (Socket live = new Socket(); Socket resetMe = new Socket()) {
                live.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                String first = request(live, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", Duration.ofSeconds(5));
                assertTrue(first.startsWith("HTTP/1.1 200 OK") && first.endsWith("hello from nginx\n"), first);
                assertEquals("", request(live, post, Duration.ofMillis(500)), "the dispatch arm drops POST");

                resetMe.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                resetMe.getOutputStream().write("PUT /f HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(US_ASCII));
                try (Context c = agent.context(name)) {
                    assertTrue(Kernel.eventually(Duration.ofSeconds(5),
                            () -> c.allStats().get("http").get("reset") == 1L), c.allStats().toString());
                }

                Agent.DeleteReport r = agent.deleteContext(name);
                assertTrue(r.drain().contains("drain switch xps_drain set"), r.drain());
                assertTrue(r.drain().contains("1 pending resets carried out"), r.drain());

                String drained = request(live, post, Duration.ofSeconds(5));
                assertTrue(drained.startsWith("HTTP/1.1 405 ") && drained.contains("Server: nginx"),
                        "after the delete, POST on the live connection reaches nginx: " + drained);
                String again = request(live, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n", Duration.ofSeconds(5));
                assertTrue(again.startsWith("HTTP/1.1 200 OK"), again);

                resetMe.setSoTimeout(5000);
                try {
                    int b = resetMe.getInputStream().read();
                    fail("the reset decided before the delete was not carried out: read " + b);
                } catch (SocketException e) {
                    assertTrue(e.getMessage().contains("Connection reset"), e.toString());
                }
            }
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> lines(www.resolve("access.log")).size() >= 3));
            List<String> seen = lines(www.resolve("access.log"));
            assertEquals(3, seen.size(), "nginx saw GET, the drained POST, GET: " + seen);
            assertEquals(1, seen.stream().filter(l -> l.contains("\"POST ")).count(), seen.toString());
            assertFalse(seen.stream().anyMatch(l -> l.contains("\"PUT ")), seen.toString());
        } finally {
            if (nginx != null) {
                nginx.destroy();
                nginx.waitFor();
            }
            if (Files.exists(pinRoot.resolve(name))) {
                agent.deleteContext(name);
            }
            cg.close();
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
            Kernel.deleteTree(www);
        }
    }

    private static void writeSite(Path www, int port) throws IOException {
        NginxSite.write(www, "127.0.0.1:" + port);
    }

    /** nginx joins the cgroup before it creates its listening socket; returns once it accepts connections. */
    private static Process startNginx(Path www, int port, Cgroup cg) throws IOException {
        Process nginx = new ProcessBuilder("sh", "-c", "echo $$ > " + cg.path.resolve("cgroup.procs") + " && exec "
                + NGINX + " -c " + www.resolve("nginx.conf") + " -p " + www)
                .redirectErrorStream(true).redirectOutput(www.resolve("nginx.out").toFile()).start();
        assertTrue(Kernel.eventually(Duration.ofSeconds(15), () -> connects(port)), "nginx did not start");
        return nginx;
    }

    /**
     * One request on a keep-alive connection: the response's headers and its Content-Length body, or "" when
     * nothing arrives within {@code wait}.
     */
    private static String request(Socket s, String request, Duration wait) throws IOException {
        s.setSoTimeout((int) wait.toMillis());
        s.getOutputStream().write(request.getBytes(US_ASCII));
        StringBuilder head = new StringBuilder();
        var in = s.getInputStream();
        try {
            while (!head.toString().endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    return head.toString();
                }
                head.append((char) c);
            }
        } catch (java.net.SocketTimeoutException e) {
            if (head.isEmpty()) {
                return "";
            }
            throw e;
        }
        var m = java.util.regex.Pattern.compile("(?i)\r\nContent-Length: (\\d+)").matcher(head);
        int length = m.find() ? Integer.parseInt(m.group(1)) : 0;
        return head + new String(in.readNBytes(length), US_ASCII);
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static boolean connects(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static String exchange(int port, String request) throws IOException {
        return exchange(port, request, Integer.MAX_VALUE);
    }

    /** Sends a request and reads {@code n} bytes or until the peer closes. */
    private static String exchange(int port, String request, int n) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(US_ASCII));
            return new String(s.getInputStream().readNBytes(n), US_ASCII);
        }
    }
}
