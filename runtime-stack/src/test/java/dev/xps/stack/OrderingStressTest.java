package dev.xps.stack;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.xps.runtime.MapStore;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many connections, each writing a random mix of fast-path hits and service requests cut at random
 * places (so reads split and join messages), against a service that answers after random delays:
 * every connection must get exactly the answers to its requests, in order. The service answers a
 * hit the way the fast path does, so the expected bytes do not depend on which one answered.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class OrderingStressTest {
    private static final int CONNECTIONS = 8;
    private static final int REQUESTS = 300;

    /** Line protocol service: answers each complete line; a partial line stays buffered (not at a boundary). */
    static final class LineService implements Service {
        final MapStore maps;
        final ScheduledExecutorService delays;

        LineService(MapStore maps, ScheduledExecutorService delays) {
            this.maps = maps;
            this.delays = delays;
        }

        @Override
        public Session open(ConnectionInfo connection) {
            StringBuilder buffer = new StringBuilder();
            Random random = new Random(connection.remote().getPort());
            return bytes -> {
                buffer.append(new String(bytes, StandardCharsets.ISO_8859_1));
                StringBuilder out = new StringBuilder();
                int nl;
                while ((nl = buffer.indexOf("\n")) >= 0) {
                    out.append(answer(maps, buffer.substring(0, nl)));
                    buffer.delete(0, nl + 1);
                }
                ServiceReply reply = new ServiceReply(out.toString().getBytes(StandardCharsets.ISO_8859_1),
                        buffer.isEmpty(), false);
                CompletableFuture<ServiceReply> f = new CompletableFuture<>();
                delays.schedule(() -> f.complete(reply), random.nextInt(3), TimeUnit.MILLISECONDS);
                return f;
            };
        }
    }

    static String answer(MapStore maps, String line) {
        if (line.startsWith("GET ")) {
            byte[] v = maps.get("kv").get(line.substring(4).getBytes(StandardCharsets.ISO_8859_1));
            if (v != null) {
                return "V " + new String(v, StandardCharsets.ISO_8859_1) + "\n";
            }
        }
        return "S " + line + "\n";
    }

    @Test
    void answersStayInOrderUnderConcurrency() throws Exception {
        MapStore maps = new MapStore();
        ScheduledExecutorService delays = Executors.newScheduledThreadPool(2);
        ExecutorService clients = Executors.newFixedThreadPool(CONNECTIONS);
        java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.atomic.LongAdder> seen =
                new java.util.concurrent.ConcurrentHashMap<>();
        try (XpsStack stack = XpsStack.builder(maps, s -> new LineProgram(s, "V ")).ioThreads(2)
                .observer((c, seg, o) -> seen.computeIfAbsent(o.reason() + "/" + o.verdict(),
                        k -> new java.util.concurrent.atomic.LongAdder()).increment())
                .service(new LineService(maps, delays)).build()) {
            for (int i = 0; i < 10; i++) {
                stack.put("kv", ("k" + i).getBytes(StandardCharsets.ISO_8859_1), ("val" + i).getBytes(StandardCharsets.ISO_8859_1));
            }
            InetSocketAddress at = stack.listenTcp(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), LineProgram.PORT);
            List<Future<?>> done = new ArrayList<>();
            for (int c = 0; c < CONNECTIONS; c++) {
                long seed = 1000 + c;
                done.add(clients.submit(() -> {
                    client(at, maps, new Random(seed));
                    return null;
                }));
            }
            for (Future<?> f : done) {
                f.get(50, TimeUnit.SECONDS);
            }
            // Which paths a run takes depends on how the kernel coalesces reads under load (on a busy
            // machine every read can hold more than 32 messages, so everything passes), so the mix
            // is printed, not asserted: the deterministic per-path tests are in XpsStackTest. What
            // must hold under any timing is asserted in client(): exact answers, in order.
            System.out.println("OrderingStressTest segment outcomes: " + seen);
            org.junit.jupiter.api.Assertions.assertTrue(seen.containsKey("HANDLED/PASS") || seen.containsKey("RESYNC/PASS")
                    || seen.containsKey("HANDLED/TX"), "no segment was observed at all: " + seen);
        } finally {
            clients.shutdownNow();
            delays.shutdownNow();
        }
    }

    private static void client(InetSocketAddress at, MapStore maps, Random random) throws Exception {
        StringBuilder requests = new StringBuilder();
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < REQUESTS; i++) {
            String line = switch (random.nextInt(4)) {
                case 0, 1 -> "GET k" + random.nextInt(10);
                case 2 -> "GET miss" + random.nextInt(100);
                default -> "HELLO " + i;
            };
            requests.append(line).append('\n');
            expected.append(answer(maps, line));
        }
        byte[] all = requests.toString().getBytes(StandardCharsets.ISO_8859_1);
        byte[] want = expected.toString().getBytes(StandardCharsets.ISO_8859_1);
        try (Socket s = new Socket()) {
            s.setTcpNoDelay(true);
            s.connect(at, 5000);
            s.setSoTimeout(20_000);
            Thread writer = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = s.getOutputStream();
                    int from = 0;
                    while (from < all.length) {
                        // 1..3 whole requests per write; one write in four is cut at a random byte.
                        int to = from;
                        for (int lines = 1 + random.nextInt(3); lines > 0 && to < all.length; lines--) {
                            while (all[to++] != '\n') {
                                // to the end of the line
                            }
                        }
                        if (random.nextInt(4) == 0 && to - from > 1) {
                            int cut = from + 1 + random.nextInt(to - from - 1);
                            out.write(all, from, cut - from);
                            Thread.sleep(1);
                            out.write(all, cut, to - cut);
                        } else {
                            out.write(all, from, to - from);
                        }
                        from = to;
                        if (random.nextInt(3) == 0) {
                            Thread.sleep(1);
                        }
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            InputStream in = s.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            while (got.size() < want.length) {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                got.write(buf, 0, n);
            }
            writer.join(10_000);
            assertEquals(expected.toString(), got.toString(StandardCharsets.ISO_8859_1));
        }
    }
}
