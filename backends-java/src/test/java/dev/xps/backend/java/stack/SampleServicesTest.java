package dev.xps.backend.java.stack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ir.IrModule;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.Verdict;
import dev.xps.stack.SegmentObserver;
import dev.xps.stack.XpsStack;
import dev.xps.stack.sample.HttpService;
import dev.xps.stack.sample.KvService;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The sample services of bin/xps-kv and bin/xps-http on the stack, with the samples' real handlers. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class SampleServicesTest {
    private XpsStack stack;
    private final List<SegmentObserver.Outcome> outcomes = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    private InetSocketAddress kv() throws InterruptedException {
        IrModule module = StackSamples.compile("redis-get.xps");
        MapStore maps = new MapStore();
        stack = XpsStack.builder(maps, StackSamples.load(module)).service(new KvService(maps, "cache"))
                .observer((c, s, o) -> outcomes.add(o)).build();
        return stack.listenTcp(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 6379);
    }

    private InetSocketAddress http() throws InterruptedException {
        IrModule module = StackSamples.compile("http-block.xps");
        stack = XpsStack.builder(new MapStore(), StackSamples.load(module)).service(new HttpService())
                .observer((c, s, o) -> outcomes.add(o)).build();
        return stack.listenTcp(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 80);
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String resp(String... args) {
        StringBuilder s = new StringBuilder("*" + args.length + "\r\n");
        for (String a : args) {
            s.append('$').append(a.length()).append("\r\n").append(a).append("\r\n");
        }
        return s.toString();
    }

    private static Socket connect(InetSocketAddress at) throws IOException {
        Socket s = new Socket();
        s.setTcpNoDelay(true);
        s.connect(at, 5000);
        s.setSoTimeout(5000);
        return s;
    }

    private static String exchange(Socket s, String request, int replyLength) throws IOException {
        s.getOutputStream().write(b(request));
        return read(s, replyLength);
    }

    private static String read(Socket s, int n) throws IOException {
        InputStream in = s.getInputStream();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[512];
        while (got.size() < n) {
            int r = in.read(buf, 0, Math.min(buf.length, n - got.size()));
            if (r < 0) {
                break;
            }
            got.write(buf, 0, r);
        }
        return got.toString(StandardCharsets.ISO_8859_1);
    }

    private void awaitSegments(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (outcomes.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
        assertTrue(outcomes.size() >= n, "segments: " + outcomes.size());
    }

    @Test
    void kvSetGetDelWithTheFastPath() throws Exception {
        InetSocketAddress at = kv();
        try (Socket s = connect(at)) {
            assertEquals("+PONG\r\n", exchange(s, resp("PING"), 7));
            assertEquals("$-1\r\n", exchange(s, resp("GET", "foo"), 5));
            assertEquals("+OK\r\n", exchange(s, resp("SET", "foo", "bar"), 5));
            assertArrayEquals(b("bar"), stack.map("cache").get(b("foo")), "the service's store is the shared map");
            int before = outcomes.size();
            assertEquals("$3\r\nbar\r\n", exchange(s, resp("GET", "foo"), 9));
            assertEquals(Verdict.TX, outcomes.get(before).verdict(), "GET of a stored key is answered in the fast path");
            assertEquals(1, stack.hits("cache", b("foo")));
            assertEquals(":1\r\n", exchange(s, resp("DEL", "foo"), 4));
            assertEquals("$-1\r\n", exchange(s, resp("GET", "foo"), 5));
            assertEquals(":0\r\n", exchange(s, resp("DEL", "foo"), 4));
            assertEquals("*2\r\n$4\r\nsave\r\n$0\r\n\r\n", exchange(s, resp("CONFIG", "GET", "save"), 20));
        }
    }

    @Test
    void kvPipelineMixingServiceAndFastPathAnswersStaysInOrder() throws Exception {
        InetSocketAddress at = kv();
        stack.put("cache", b("a"), b("1"));
        try (Socket s = connect(at)) {
            // One segment passes whole (a miss inside); the next is answered by the fast path but
            // must wait for the service's answers to the first.
            s.getOutputStream().write(b(resp("SET", "b", "2") + resp("GET", "zz") + resp("GET", "a")));
            s.getOutputStream().write(b(resp("GET", "a") + resp("GET", "b")));
            assertEquals("+OK\r\n$-1\r\n$1\r\n1\r\n$1\r\n1\r\n$1\r\n2\r\n", read(s, 31));
        }
    }

    @Test
    void kvResynchronisesAfterASplitSetWhoseValueLooksLikeAGet() throws Exception {
        InetSocketAddress at = kv();
        stack.put("cache", b("k"), b("cached"));
        String value = resp("GET", "k");              // the value of the SET is itself a GET request
        String set = "*3\r\n$3\r\nSET\r\n$1\r\nv\r\n$" + value.length() + "\r\n";
        try (Socket s = connect(at)) {
            s.getOutputStream().write(b(set));         // incomplete: passed, resynchronising
            awaitSegments(1);
            s.getOutputStream().write(b(value + "\r\n")); // mid-message: must reach the service, not the fast path
            assertEquals("+OK\r\n", read(s, 5));
            awaitSegments(2);
            assertEquals(SegmentObserver.Reason.RESYNC, outcomes.get(1).reason());
            assertEquals("$" + value.length() + "\r\n" + value + "\r\n", exchange(s, resp("GET", "v"), value.length() + 7));
            assertEquals("$6\r\ncached\r\n", exchange(s, resp("GET", "k"), 12));
        }
    }

    @Test
    void httpGetPostPut() throws Exception {
        InetSocketAddress at = http();
        String page = new String(HttpServiceAccess.page(), StandardCharsets.ISO_8859_1);
        String ok = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + page.length() + "\r\n\r\n" + page;
        try (Socket s = connect(at)) {
            assertEquals(ok, exchange(s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", ok.length()));
            assertEquals(ok, exchange(s, "GET /again HTTP/1.1\r\nHost: x\r\n\r\n", ok.length()), "keep-alive");
        }
        try (Socket s = connect(at)) {
            String refused = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
            assertEquals(refused, exchange(s, "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", refused.length()));
        }
        try (Socket s = connect(at)) {
            s.getOutputStream().write(b("PUT /f HTTP/1.1\r\nHost: x\r\n\r\n"));
            SocketException e = assertThrows(SocketException.class, () -> s.getInputStream().read());
            assertTrue(e.getMessage().contains("reset"), e.getMessage());
        }
    }

    /** The page the HTTP service serves (package-private there). */
    private static final class HttpServiceAccess {
        static byte[] page() {
            return b("<!doctype html>\n<html><head><title>XPS</title></head>"
                    + "<body><h1>Hello from the XPS user-space stack</h1></body></html>\n");
        }
    }

    static {
        // Touch the class so a rename of the service shows up here.
        HttpService.class.getName();
    }
}
