package dev.xps.agent;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.agent.testsupport.Artifacts;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.Kernel;
import java.io.IOException;
import java.io.InputStream;
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
 * RESET: samples/http-block.xps in front of an HTTP server (src/test/resources/http_server.py, in its own cgroup);
 * the agent consumes the reset ring buffer and destroys each socket it names, so a client that sends a PUT
 * gets ECONNRESET. POST is answered 405 by the kernel, GET reaches the server.
 */
@Tag("kernel")
class AgentResetTest {
    private static final Path SERVER = Path.of(System.getProperty("xps.test.resources", "src/test/resources"))
            .resolve("http_server.py").toAbsolutePath();

    @Test
    void aPutIsResetByTheAgent() throws Exception {
        run("127.0.0.1");
    }

    /** A dual-stack AF_INET6 listener (the JDK's default): the sockets are found by their v4-mapped addresses. */
    @Test
    void aPutIsResetOnADualStackListener() throws Exception {
        run("::");
    }

    private void run(String bind) throws Exception {
        Kernel.assumeBpf();
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path artifact = Artifacts.variant("http-block", "tcp port 80", "tcp port " + port);
        Path pinRoot = Kernel.pinRoot();
        Path stateRoot = Files.createTempDirectory("xpsagent-state-");
        Agent agent = new Agent(pinRoot, stateRoot);
        String name = Kernel.uniqueName();
        Process server = null;
        AtomicBoolean serving = new AtomicBoolean(true);
        List<Context.ResetEvent> events = new CopyOnWriteArrayList<>();
        Thread resets = null;
        Cgroup cg = new Cgroup();
        try {
            agent.createContext(name, artifact, Attachment.cgroup(cg.path)).close();
            server = new ProcessBuilder("sh", "-c", "echo $$ > " + cg.path.resolve("cgroup.procs")
                    + " && exec python3 " + SERVER + " " + port + " " + bind)
                    .redirectErrorStream(true).redirectOutput(stateRoot.resolve("server.log").toFile()).start();
            int p = port;
            assertTrue(Kernel.eventually(Duration.ofSeconds(15), () -> connects(p)), "the HTTP server did not start");
            resets = Thread.ofPlatform().name("xpsagent-resets").start(() -> {
                try (Context c = agent.context(name)) {
                    c.serveResets(serving::get, Duration.ofMillis(100), events::add);
                }
            });

            assertTrue(exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                    .startsWith("HTTP/1.0 200 OK"), "GET reaches the server");
            String refused = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\n"
                    + "Connection: close\r\n\r\n";
            assertEquals(refused, exchange(port, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
                    refused.length()), "POST is answered by the kernel");

            assertEquals(null, SocketDestroyer.probe(), "this kernel destroys sockets");
            for (int i = 0; i < 5; i++) {
                try (Socket c = new Socket()) {
                    c.connect(new InetSocketAddress("127.0.0.1", port), 5000);
                    c.setSoTimeout(5000);
                    c.getOutputStream().write("PUT /file HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(US_ASCII));
                    try {
                        int r = c.getInputStream().read();
                        fail("expected a reset, read " + r);
                    } catch (SocketException e) {
                        assertTrue(e.getMessage().contains("Connection reset"), e.toString());
                    }
                }
            }
            assertTrue(Kernel.eventually(Duration.ofSeconds(5), () -> events.size() == 5), events.toString());
            Context.ResetEvent ev = events.getFirst();
            assertEquals(port, ev.localPort());
            assertEquals("127.0.0.1", ev.remoteIp());
            assertEquals("127.0.0.1", ev.localIp());
            try (Context c = agent.context(name)) {
                assertEquals(5L, c.allStats().get("http").get("reset"));
                assertEquals(1L, c.allStats().get("http").get("tx"));
            }
        } finally {
            serving.set(false);
            if (resets != null) {
                resets.join(5000);
            }
            if (server != null) {
                server.destroy();
                server.waitFor();
            }
            if (Files.exists(pinRoot.resolve(name))) {
                agent.deleteContext(name);
            }
            cg.close();
            Kernel.deleteTree(pinRoot);
            Kernel.deleteTree(stateRoot);
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

    /** Sends a request and reads until the server closes (or 5 s pass). */
    private static String exchange(int port, String request) throws IOException {
        return exchange(port, request, Integer.MAX_VALUE);
    }

    /** Sends a request and reads {@code n} bytes or until the server closes. */
    private static String exchange(int port, String request, int n) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(US_ASCII));
            InputStream in = s.getInputStream();
            return new String(in.readNBytes(n), US_ASCII);
        }
    }
}
