package dev.xps.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.agent.bpf.AttachType;
import dev.xps.agent.bpf.BpfMap;
import dev.xps.agent.bpf.BpfProgram;
import dev.xps.agent.bpf.LinkInfo;
import dev.xps.agent.testsupport.Cgroup;
import dev.xps.agent.testsupport.JavaChild;
import dev.xps.agent.testsupport.Kernel;
import dev.xps.agent.testsupport.LineServer;
import dev.xps.runtime.MapLayout;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The TCP fast path on loopback, end to end: a sock_ops program (cgroup link) puts the server's accepted
 * sockets into a sockhash, a stream verdict program (sockmap link, no stream parser) answers "PING\n" with
 * "PONG\n" from the kernel. The server runs in a child process placed in a test cgroup before it listens;
 * it prints every line it receives, so the test sees that it never saw the PING. After the program is told
 * to drain and the context is unloaded, the server answers itself, on the old connection and on new ones,
 * and once the old connection closes the kernel frees the programs and maps.
 */
@Tag("kernel")
class SockmapPingPongTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    @Test
    void kernelAnswersPingWithoutTheServerThenServerAnswersAfterUnload() throws Exception {
        Kernel.assumeBpf();
        Path root = Kernel.pinRoot();
        PinnedContext ctx = null;
        try (Cgroup cgroup = new Cgroup()) {
            ctx = PinnedContext.load(Pins.of(root, "pingpong"), Kernel.bpfObject("pingpong"));
            LinkInfo sockops = ctx.attachCgroup("pp_sockops", cgroup.path, AttachType.CGROUP_SOCK_OPS).info();
            LinkInfo verdict = ctx.attachToMap("pp_verdict", "socks", AttachType.SK_SKB_STREAM_VERDICT).info();
            assertEquals(AttachType.SK_SKB_STREAM_VERDICT.value(), verdict.attachType());
            assertEquals("cgroup", sockops.typeName());
            assertEquals("sockmap", verdict.typeName());
            assertEquals(ctx.map("socks").id(), verdict.mapId());
            assertEquals(List.of(ctx.program("pp_sockops").id()),
                    BpfProgram.queryCgroup(cgroup.path, AttachType.CGROUP_SOCK_OPS));
            int socksId = ctx.map("socks").id();
            int sockopsId = ctx.program("pp_sockops").id();
            int verdictId = ctx.program("pp_verdict").id();

            try (JavaChild server = JavaChild.start(LineServer.class, cgroup.path.toString())) {
                int port = Integer.parseInt(server.awaitPrefixed("PORT ", TIMEOUT));
                ctx.map("config").put(MapLayout.encodeInt(0, 4), MapLayout.encodeInt(port, 4));

                try (Socket fast = connect(port)) {
                    assertEquals("PONG\n", exchange(fast, "PING\n", 5), "the kernel answered");
                    assertEquals("SERVER:HELLO\n", exchange(fast, "HELLO\n", 13), "other requests pass");
                    assertEquals("PONG\n", exchange(fast, "PING\n", 5));
                    server.awaitLine("GOT HELLO"::equals, TIMEOUT);
                    assertFalse(server.output().contains("GOT PING"), "the server never saw a PING: "
                            + server.output());
                    assertEquals(1, stat(ctx.map("stats"), 0), "sockets added to the sockhash");
                    assertEquals(2, stat(ctx.map("stats"), 1), "PINGs answered in the kernel");
                    assertEquals(1, stat(ctx.map("stats"), 2), "requests passed to the server");

                    // drain (the program's switch: pass everything), then unload
                    ctx.map("config").put(MapLayout.encodeInt(1, 4), MapLayout.encodeInt(1, 4));
                    PinnedContext.UnloadReport report = ctx.unload();
                    ctx = null;
                    assertEquals(Map.of("socks", 1), report.socketsOnFastPath(), report.toString());
                    assertTrue(BpfProgram.queryCgroup(cgroup.path, AttachType.CGROUP_SOCK_OPS).isEmpty());
                    assertFalse(Files.exists(root.resolve("pingpong")), "the context's pins are gone");

                    // the connection that was on the fast path is served by the server now
                    assertEquals("SERVER:PING\n", exchange(fast, "PING\n", 12));
                    // and so are new connections
                    try (Socket plain = connect(port)) {
                        assertEquals("SERVER:PING\n", exchange(plain, "PING\n", 12));
                    }
                }
                // with the last fast-path connection closed, the kernel frees everything
                assertTrue(Kernel.eventually(TIMEOUT, () -> !BpfMap.exists(socksId)), "sockhash freed");
                assertTrue(Kernel.eventually(TIMEOUT, () -> !BpfProgram.exists(verdictId)), "verdict freed");
                assertTrue(Kernel.eventually(TIMEOUT, () -> !BpfProgram.exists(sockopsId)), "sock_ops freed");
                assertEquals(2, server.output().stream().filter("GOT PING"::equals).count(), server.output()
                        .toString());
            }
        } finally {
            if (ctx != null) {
                ctx.unload();
            }
            Kernel.deleteTree(root);
        }
    }

    /**
     * What the kernel does, pinned down: a socket keeps the verdict program it was added to the map with.
     * Without draining, a connection keeps its fast path after unload, until it closes; and updating the
     * verdict link only changes the program for sockets added afterwards.
     */
    @Test
    void socketsKeepTheVerdictTheyWereAddedWith() throws Exception {
        Kernel.assumeBpf();
        Path root = Kernel.pinRoot();
        PinnedContext ctx = null;
        try (Cgroup cgroup = new Cgroup();
             JavaChild server = JavaChild.start(LineServer.class, cgroup.path.toString())) {
            int port = Integer.parseInt(server.awaitPrefixed("PORT ", TIMEOUT));
            ctx = PinnedContext.load(Pins.of(root, "keep"), Kernel.bpfObject("pingpong"));
            ctx.map("config").put(MapLayout.encodeInt(0, 4), MapLayout.encodeInt(port, 4));
            ctx.attachCgroup("pp_sockops", cgroup.path, AttachType.CGROUP_SOCK_OPS);
            ctx.attachToMap("verdict", "pp_verdict", "socks", AttachType.SK_SKB_STREAM_VERDICT);
            int socksId = ctx.map("socks").id();

            try (Socket first = connect(port)) {
                assertEquals("PONG\n", exchange(first, "PING\n", 5));
                ctx.replaceProgram("verdict", "pp_verdict_v2");
                try (Socket second = connect(port)) {
                    assertEquals("PANG\n", exchange(second, "PING\n", 5), "new sockets get the new program");
                    assertEquals("PONG\n", exchange(first, "PING\n", 5), "old sockets keep theirs");
                }
                BpfMap socks = ctx.map("socks");
                assertTrue(Kernel.eventually(TIMEOUT, () -> socks.keys().size() == 1),
                        "the server closed its end of the second connection, which left the map");

                PinnedContext.UnloadReport report = ctx.unload();   // no drain
                ctx = null;
                assertEquals(Map.of("socks", 1), report.socketsOnFastPath());
                assertFalse(report.isClean());
                assertEquals("PONG\n", exchange(first, "PING\n", 5), "still answered by the kernel");
                assertTrue(BpfMap.exists(socksId), "held by the connection");
                try (Socket plain = connect(port)) {
                    assertEquals("SERVER:PING\n", exchange(plain, "PING\n", 12));
                }
            }
            assertTrue(Kernel.eventually(TIMEOUT, () -> !BpfMap.exists(socksId)), "freed once it closed");
        } finally {
            if (ctx != null) {
                ctx.unload();
            }
            Kernel.deleteTree(root);
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout((int) TIMEOUT.toMillis());
        s.setTcpNoDelay(true);
        return s;
    }

    private static String exchange(Socket s, String request, int responseLength) throws IOException {
        OutputStream out = s.getOutputStream();
        out.write(request.getBytes(StandardCharsets.US_ASCII));
        out.flush();
        InputStream in = s.getInputStream();
        return new String(in.readNBytes(responseLength), StandardCharsets.US_ASCII);
    }

    private static long stat(BpfMap stats, int slot) {
        return MapLayout.decodeInt(stats.get(MapLayout.encodeInt(slot, 4)));
    }
}
