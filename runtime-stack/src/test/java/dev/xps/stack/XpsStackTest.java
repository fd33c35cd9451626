package dev.xps.stack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.runtime.IpPrefix;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.Predicate;
import dev.xps.runtime.Verdict;
import io.netty.channel.epoll.Epoll;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The stack's semantics over real loopback sockets, with a hand-written program ({@link LineProgram}). */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class XpsStackTest {
    private static final InetSocketAddress ANY_LOOPBACK = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);

    /** A service whose replies the test controls: every passed segment is queued with its reply future. */
    static final class ScriptedService implements Service {
        record Call(byte[] bytes, CompletableFuture<ServiceReply> reply, boolean mapHadValue) {}

        final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
        final BlockingQueue<byte[]> datagrams = new LinkedBlockingQueue<>();
        volatile MapStore maps;
        volatile boolean autoReply;

        @Override
        public Session open(ConnectionInfo connection) {
            return bytes -> {
                boolean had = maps != null && maps.get("kv").get("w".getBytes(StandardCharsets.ISO_8859_1)) != null;
                CompletableFuture<ServiceReply> f = new CompletableFuture<>();
                if (autoReply) {
                    f.complete(ServiceReply.of(("got " + new String(bytes, StandardCharsets.ISO_8859_1)).getBytes(StandardCharsets.ISO_8859_1)));
                }
                calls.add(new Call(bytes, f, had));
                return f;
            };
        }

        @Override
        public CompletionStage<ServiceReply> datagram(ConnectionInfo from, byte[] bytes) {
            datagrams.add(bytes);
            return CompletableFuture.completedFuture(ServiceReply.of(("svc " + new String(bytes, StandardCharsets.ISO_8859_1))
                    .getBytes(StandardCharsets.ISO_8859_1)));
        }

        Call next() throws InterruptedException {
            Call c = calls.poll(5, TimeUnit.SECONDS);
            if (c == null) {
                throw new AssertionError("the service received nothing");
            }
            return c;
        }
    }

    private final ScriptedService service = new ScriptedService();
    private final List<SegmentObserver.Outcome> outcomes = new CopyOnWriteArrayList<>();
    private XpsStack stack;
    private MapStore maps;

    private InetSocketAddress start(Function<MapStore, dev.xps.runtime.XpsProgram> program) throws InterruptedException {
        maps = new MapStore();
        service.maps = maps;
        stack = XpsStack.builder(maps, program).service(service).ioThreads(1)
                .observer((c, seg, o) -> outcomes.add(o)).build();
        return stack.listenTcp(ANY_LOOPBACK, LineProgram.PORT);
    }

    private InetSocketAddress start() throws InterruptedException {
        return start(s -> new LineProgram(s, "V "));
    }

    @AfterEach
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static Socket connect(InetSocketAddress at) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(at, 5000);
        s.setSoTimeout(5000);
        return s;
    }

    private static void write(Socket s, String text) throws IOException {
        s.getOutputStream().write(b(text));
        s.getOutputStream().flush();
    }

    private static String read(Socket s, int n) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[256];
        while (got.size() < n) {
            int r = in.read(buf, 0, Math.min(buf.length, n - got.size()));
            if (r < 0) {
                break;
            }
            got.write(buf, 0, r);
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    private static void assertSilent(Socket s, int ms) throws IOException {
        s.setSoTimeout(ms);
        try {
            int r = s.getInputStream().read();
            throw new AssertionError("expected silence, read " + r);
        } catch (SocketTimeoutException expected) {
            // nothing came back and the connection is open
        } finally {
            s.setSoTimeout(5000);
        }
    }

    /** Waits until the observer has seen {@code n} segments. */
    private void awaitSegments(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (outcomes.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertTrue(outcomes.size() >= n, "segments seen: " + outcomes.size());
    }

    @Test
    void runsOnTheNativeEpollTransport() throws Exception {
        start();
        assertEquals(Epoll.isAvailable(), stack.isEpoll());
        assertTrue(Epoll.isAvailable(), "epoll must be available on Linux x86_64: " + Epoll.unavailabilityCause());
    }

    @Test
    void txAnswersFromTheFastPath() throws Exception {
        InetSocketAddress at = start();
        stack.put("kv", b("k"), b("hello"));
        try (Socket s = connect(at)) {
            write(s, "GET k\n");
            assertEquals("V hello\n", read(s, 8));
        }
        assertTrue(service.calls.isEmpty(), "the service saw nothing");
        assertEquals(1, stack.hits("kv", b("k")));
    }

    @Test
    void passDeliversExactlyTheBytesAndWritesTheServiceReply() throws Exception {
        InetSocketAddress at = start();
        service.autoReply = true;
        try (Socket s = connect(at)) {
            write(s, "GET missing\n");
            assertEquals("got GET missing\n", read(s, 16));
            assertArrayEquals(b("GET missing\n"), service.next().bytes());
        }
    }

    @Test
    void dropSendsNothingAndKeepsTheConnection() throws Exception {
        InetSocketAddress at = start();
        stack.put("kv", b("k"), b("v"));
        try (Socket s = connect(at)) {
            write(s, "DROP\n");
            assertSilent(s, 150);
            write(s, "GET k\n");
            assertEquals("V v\n", read(s, 4));
        }
        assertTrue(service.calls.isEmpty());
    }

    @Test
    void resetSendsAnRst() throws Exception {
        InetSocketAddress at = start();
        try (Socket s = connect(at)) {
            write(s, "RESET\n");
            SocketException e = assertThrows(SocketException.class, () -> s.getInputStream().read());
            assertTrue(e.getMessage().contains("reset"), e.getMessage());
        }
    }

    @Test
    void aFastPathAnswerWaitsForAnEarlierPassedRequest() throws Exception {
        InetSocketAddress at = start();
        stack.put("kv", b("k"), b("hit"));
        try (Socket s = connect(at)) {
            write(s, "GET miss\n");
            ScriptedService.Call miss = service.next();
            write(s, "GET k\n");
            awaitSegments(2);
            assertEquals(Verdict.TX, outcomes.get(1).verdict());
            assertSilent(s, 150); // the TX is held behind the pending slot
            miss.reply().complete(ServiceReply.of(b("slow\n")));
            assertEquals("slow\nV hit\n", read(s, 11));
        }
    }

    @Test
    void serviceRepliesCompletingOutOfOrderAreWrittenInOrder() throws Exception {
        InetSocketAddress at = start();
        try (Socket s = connect(at)) {
            write(s, "ONE\n");
            ScriptedService.Call one = service.next();
            write(s, "TWO\n");
            ScriptedService.Call two = service.next();
            two.reply().complete(ServiceReply.of(b("2\n")));
            assertSilent(s, 100);
            one.reply().complete(ServiceReply.of(b("1\n")));
            assertEquals("1\n2\n", read(s, 4));
        }
    }

    @Test
    void afterAnIncompleteMessageSegmentsPassUntilTheServiceIsAtABoundary() throws Exception {
        InetSocketAddress at = start();
        stack.put("kv", b("k"), b("cached"));
        try (Socket s = connect(at)) {
            write(s, "SET w ab");                       // incomplete: passed, resync starts
            ScriptedService.Call first = service.next();
            first.reply().complete(ServiceReply.nothing(false));
            write(s, "c\nGET k\n");                     // mid-message: must not be decoded
            ScriptedService.Call second = service.next();
            assertArrayEquals(b("c\nGET k\n"), second.bytes());
            awaitSegments(2);
            assertEquals(SegmentObserver.Reason.RESYNC, outcomes.get(1).reason());
            assertTrue(maps.get("kv").get(b("w")) == null, "the write handler never saw the split SET");
            second.reply().complete(ServiceReply.of(b("OK\nsvc-cached\n")));
            assertEquals("OK\nsvc-cached\n", read(s, 14));
            write(s, "GET k\n");                        // back at a boundary: the fast path answers
            assertEquals("V cached\n", read(s, 9));
            awaitSegments(3);
            assertEquals(SegmentObserver.Reason.HANDLED, outcomes.get(2).reason());
            assertEquals(Verdict.TX, outcomes.get(2).verdict());
        }
    }

    @Test
    void aReplyNotAtABoundaryStartsResynchronising() throws Exception {
        InetSocketAddress at = start();
        stack.put("kv", b("k"), b("cached"));
        try (Socket s = connect(at)) {
            write(s, "BLOB 10\n");                    // complete for the handler, but the service expects a body
            service.next().reply().complete(new ServiceReply(b("more\n"), false, false));
            assertEquals("more\n", read(s, 5));          // the reply was taken in: resynchronising
            write(s, "GET k\n");                      // body bytes that look like a request
            ScriptedService.Call body = service.next();
            assertArrayEquals(b("GET k\n"), body.bytes());
            body.reply().complete(ServiceReply.of(b("stored\n")));
            assertEquals("stored\n", read(s, 7));
        }
    }

    @Test
    void writeHandlersUpdateTheMapBeforeTheServiceSeesTheWrite() throws Exception {
        InetSocketAddress at = start();
        service.autoReply = true;
        try (Socket s = connect(at)) {
            write(s, "SET w 42\n");
            ScriptedService.Call call = service.next();
            assertTrue(call.mapHadValue(), "the map held the value when the service got the write");
            assertArrayEquals(b("42"), stack.map("kv").get(b("w")));
        }
    }

    @Test
    void hotSwapKeepsConnectionsAndMaps() throws Exception {
        InetSocketAddress at = start();
        stack.put("kv", b("k"), b("v"));
        try (Socket s = connect(at)) {
            write(s, "GET k\n");
            assertEquals("V v\n", read(s, 4));
            stack.swap(store -> new LineProgram(store, "NEW "));
            write(s, "GET k\n");
            assertEquals("NEW v\n", read(s, 6));
        }
        assertEquals(2, stack.hits("kv", b("k")), "the map (and its stats) carried over");
    }

    @Test
    void aSwapToAProgramWithAnIncompatibleMapFailsAndKeepsTheOldOne() throws Exception {
        start();
        var old = stack.program();
        var bad = new dev.xps.runtime.MapSpec("kv", dev.xps.runtime.MapKind.HASH, new dev.xps.runtime.ValueType.Bytes(8),
                new dev.xps.runtime.ValueType.Bytes(8), 10, false);
        assertThrows(IllegalStateException.class, () -> stack.swap(store -> {
            store.open(bad);
            return new LineProgram(store, "X");
        }));
        assertEquals(old, stack.program());
    }

    @Test
    void pipelinedHitsAreAnsweredTogetherAndAPipelineWithAMissPassesWhole() throws Exception {
        InetSocketAddress at = start();
        service.autoReply = true;
        stack.put("kv", b("a"), b("1"));
        try (Socket s = connect(at)) {
            write(s, "GET a\nGET a\n");
            assertEquals("V 1\nV 1\n", read(s, 8));
            write(s, "GET a\nGET z\n");
            assertEquals("got GET a\nGET z\n", read(s, 16));
        }
    }

    @Test
    void mapsApi() throws Exception {
        start();
        assertTrue(stack.put("kv", b("a"), b("1")));
        assertTrue(stack.update("kv", b("a"), b("2")));
        assertFalse(stack.update("kv", b("nope"), b("2")));
        assertArrayEquals(b("2"), stack.map("kv").get(b("a")));
        assertTrue(stack.delete("kv", b("a")));
        assertTrue(stack.map("kv").get(b("a")) == null);
        assertTrue(stack.stats("kv").isEmpty());
    }

    @Test
    void serviceCanCloseAfterItsReply() throws Exception {
        maps = new MapStore();
        stack = XpsStack.builder(maps, s -> new LineProgram(s, "V ")).service(new Service() {
            @Override
            public Session open(ConnectionInfo c) {
                return bytes -> CompletableFuture.completedFuture(new ServiceReply(b("bye\n"), true, true));
            }
        }).build();
        InetSocketAddress at = stack.listenTcp(ANY_LOOPBACK, LineProgram.PORT);
        try (Socket s = connect(at)) {
            write(s, "QUIT\n");
            assertEquals("bye\n", read(s, 4));
            assertEquals(-1, s.getInputStream().read());
        }
    }

    @Test
    void halfClosedClientStillGetsItsAnswers() throws Exception {
        InetSocketAddress at = start();
        service.autoReply = true;
        try (Socket s = connect(at)) {
            write(s, "HELLO\n");
            s.shutdownOutput();
            assertEquals("got HELLO\n", read(s, 10));
            assertEquals(-1, s.getInputStream().read());
        }
    }

    @Test
    void udpTxPassAndDrop() throws Exception {
        maps = new MapStore();
        stack = XpsStack.builder(maps, s -> new LineProgram(s, "V ")).service(service).build();
        InetSocketAddress at = stack.listenUdp(ANY_LOOPBACK, LineProgram.PORT);
        stack.put("kv", b("k"), b("u"));
        try (DatagramSocket s = new DatagramSocket(ANY_LOOPBACK)) {
            s.setSoTimeout(5000);
            byte[] buf = new byte[1024];
            s.send(new DatagramPacket(b("GET k\n"), 6, at));
            DatagramPacket p = new DatagramPacket(buf, buf.length);
            s.receive(p);
            assertEquals("V u\n", new String(buf, 0, p.getLength(), StandardCharsets.ISO_8859_1));
            s.send(new DatagramPacket(b("GET x\n"), 6, at));
            s.receive(p);
            assertEquals("svc GET x\n", new String(buf, 0, p.getLength(), StandardCharsets.ISO_8859_1));
            // One datagram is one message: the second line is ignored, not a second message.
            s.send(new DatagramPacket(b("DROP\nGET k\n"), 11, at));
            s.setSoTimeout(150);
            assertThrows(SocketTimeoutException.class, () -> s.receive(p));
        }
    }

    /**
     * An address prefix matches its own family only, as in the kernel: {@code from 0.0.0.0/0} takes IPv4 clients
     * and leaves IPv6 ones to the service; {@code from ::1} the reverse.
     */
    @Test
    void addressPredicatesSeeOnlyTheirOwnFamily() throws Exception {
        for (String prefix : List.of("0.0.0.0/0", "::1")) {
            maps = new MapStore();
            service.autoReply = true;
            service.calls.clear();
            Predicate line = Predicate.tcp(LineProgram.PORT).from(IpPrefix.parse(prefix));
            stack = XpsStack.builder(maps, s -> new LineProgram(s, "V ", line)).service(service).build();
            stack.put("kv", b("k"), b("v"));
            InetSocketAddress v4 = stack.listenTcp(new InetSocketAddress("127.0.0.1", 0), LineProgram.PORT);
            InetSocketAddress v6 = stack.listenTcp(new InetSocketAddress("::1", 0), LineProgram.PORT);
            boolean ipv6 = prefix.contains(":");
            try (Socket s = connect(ipv6 ? v6 : v4)) {
                write(s, "GET k\n");
                assertEquals("V v\n", read(s, 4), prefix + ": the fast path");
            }
            try (Socket s = connect(ipv6 ? v4 : v6)) {
                write(s, "GET k\n");
                assertEquals("got GET k\n", read(s, 10), prefix + ": the other family goes to the service");
            }
            assertEquals(1, service.calls.size(), service.calls.toString());
            stack.close();
            stack = null;
        }
    }

    @Test
    void predicatesSeeTheLogicalPort() throws Exception {
        maps = new MapStore();
        stack = XpsStack.builder(maps, s -> new LineProgram(s, "V ")).service(service).build();
        service.autoReply = true;
        stack.put("kv", b("k"), b("v"));
        InetSocketAddress wrong = stack.listenTcp(ANY_LOOPBACK, LineProgram.PORT + 1); // no entry matches
        try (Socket s = connect(wrong)) {
            write(s, "GET k\n");
            assertEquals("got GET k\n", read(s, 10));
        }
    }
}
