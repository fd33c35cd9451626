package dev.xps.backend.java.stack;

import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.Protocol;
import dev.xps.runtime.SegmentResult;
import dev.xps.runtime.Verdict;
import dev.xps.runtime.XpsProgram;
import dev.xps.stack.ConnectionInfo;
import dev.xps.stack.SegmentObserver;
import dev.xps.stack.Service;
import dev.xps.stack.ServiceReply;
import dev.xps.stack.XpsStack;
import io.netty.channel.EventLoopGroup;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.function.Function;

/**
 * A running {@link XpsStack} on loopback with a recording service, and a client that sends one
 * segment on a fresh connection (TCP, TCP_NODELAY, one write) or as one datagram and reports what
 * it observed on the wire and at the service:
 *
 * <ul>
 *   <li>tx: the bytes the client read back;
 *   <li>pass: the bytes the service callback received (must be exactly the payload);
 *   <li>drop: nothing came back within the quiet time and the connection stayed open;
 *   <li>reset: the client's read failed with ECONNRESET (an RST). On UDP a reset is a drop on the
 *       wire; the probe reports the stack's own verdict for it.
 * </ul>
 *
 * The stack's {@link SegmentObserver} is used only to know when the segment was processed (and to
 * check it was one read); the verdict reported is the one the socket and the service show.
 */
public final class StackProbe implements AutoCloseable {
    /** What one send came to. {@code note} is empty unless something was odd (shown in failures). */
    public record Observed(Verdict verdict, byte[] bytes, String note) {}

    private static final int WAIT_MS = 5_000;

    private final XpsStack stack;
    private final Map<String, InetSocketAddress> listeners = new ConcurrentHashMap<>();
    private final Map<Integer, Conn> conns = new ConcurrentHashMap<>();
    private final int quietMs;

    /** What the stack and the service saw of one client connection (keyed by the client's port). */
    private static final class Conn {
        final ByteArrayOutputStream passed = new ByteArrayOutputStream();
        final List<SegmentObserver.Outcome> outcomes = new ArrayList<>();
        int processed;
    }

    public StackProbe(MapStore store, Function<MapStore, XpsProgram> program, EventLoopGroup group,
                      ExecutorService serviceExecutor, int quietMs) {
        this.quietMs = quietMs;
        Service recording = new Service() {
            @Override
            public Session open(ConnectionInfo connection) {
                Conn c = conn(connection.remote().getPort());
                return bytes -> {
                    synchronized (c) {
                        c.passed.writeBytes(bytes);
                        c.notifyAll();
                    }
                    return CompletableFuture.completedFuture(ServiceReply.nothing(true));
                };
            }

            @Override
            public CompletionStage<ServiceReply> datagram(ConnectionInfo from, byte[] bytes) {
                Conn c = conn(from.remote().getPort());
                synchronized (c) {
                    c.passed.writeBytes(bytes);
                    c.notifyAll();
                }
                return CompletableFuture.completedFuture(ServiceReply.nothing(true));
            }
        };
        SegmentObserver observer = (connection, segment, outcome) -> {
            Conn c = conn(connection.remote().getPort());
            synchronized (c) {
                c.outcomes.add(outcome);
                c.processed += segment.length;
                c.notifyAll();
            }
        };
        this.stack = XpsStack.builder(store, program).service(recording).observer(observer).eventLoopGroup(group)
                .serviceExecutor(serviceExecutor).build();
    }

    private Conn conn(int clientPort) {
        return conns.computeIfAbsent(clientPort, p -> new Conn());
    }

    public XpsStack stack() {
        return stack;
    }

    /** Sends {@code payload} as one segment to {@code entry} on a fresh connection. */
    public Observed send(EntryPoint entry, byte[] payload) throws IOException, InterruptedException {
        InetSocketAddress address = listener(entry);
        return entry.predicate().protocol() == Protocol.TCP ? tcp(address, payload) : udp(address, payload);
    }

    private InetSocketAddress listener(EntryPoint entry) throws InterruptedException {
        InetSocketAddress found = listeners.get(entry.name());
        if (found != null) {
            return found;
        }
        synchronized (listeners) {
            found = listeners.get(entry.name());
            if (found == null) {
                InetSocketAddress bind = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
                found = entry.predicate().protocol() == Protocol.TCP ? stack.listenTcp(bind, entry.name())
                        : stack.listenUdp(bind, entry.name());
                listeners.put(entry.name(), found);
            }
            return found;
        }
    }

    private Observed tcp(InetSocketAddress address, byte[] payload) throws IOException, InterruptedException {
        if (payload.length == 0) {
            // TCP has no empty segment: the stack never sees one. The language says it passes.
            return new Observed(Verdict.PASS, payload, "an empty send cannot be a TCP segment; not sent");
        }
        try (Socket socket = new Socket()) {
            socket.setTcpNoDelay(true);
            socket.connect(address, WAIT_MS);
            int port = socket.getLocalPort();
            socket.getOutputStream().write(payload);
            socket.getOutputStream().flush();
            Conn c = conn(port);
            try {
                List<SegmentObserver.Outcome> outcomes = awaitProcessed(c, payload.length);
                if (outcomes == null) {
                    return new Observed(null, new byte[0], "the stack did not process the segment within " + WAIT_MS + " ms");
                }
                String note = outcomes.size() > 1 ? "the stack received the send as " + outcomes.size() + " reads" : "";
                Verdict decided = outcomes.stream().anyMatch(o -> o.verdict() == Verdict.RESET) ? Verdict.RESET
                        : outcomes.getLast().verdict();
                InputStream in = socket.getInputStream();
                return switch (decided) {
                    case TX -> {
                        int expected = outcomes.stream().mapToInt(o -> o.result().map(r -> r.response().length).orElse(0)).sum();
                        yield tcpRead(socket, in, expected, note);
                    }
                    case PASS -> {
                        byte[] got = awaitPassed(c, payload.length);
                        String n = Arrays.equals(got, payload) ? note
                                : join(note, "the service received " + got.length + " bytes, not the " + payload.length + " sent");
                        Observed quiet = tcpRead(socket, in, 0, n);
                        // Anything back on the wire (bytes, a reset) contradicts the pass: report it.
                        yield quiet.bytes().length > 0 || quiet.verdict() == Verdict.RESET ? quiet
                                : new Observed(Verdict.PASS, got, quiet.note());
                    }
                    case DROP -> {
                        Observed o = tcpRead(socket, in, 0, note);
                        yield o.verdict() == Verdict.TX && o.bytes().length == 0 ? new Observed(Verdict.DROP, o.bytes(), o.note()) : o;
                    }
                    // the stack decided to reset: the RST is on its way, so wait for it rather than for quiet
                    case RESET -> tcpRead(socket, in, 0, note, WAIT_MS);
                };
            } finally {
                conns.remove(port);
            }
        }
    }

    /**
     * Reads {@code expected} bytes (then checks that nothing more comes within the quiet time):
     * TX with what came back, RESET on ECONNRESET, or a note when the connection closed with a FIN.
     */
    private Observed tcpRead(Socket socket, InputStream in, int expected, String note) throws IOException {
        return tcpRead(socket, in, expected, note, expected > 0 ? Math.max(1, quietMs / 4) : quietMs);
    }

    /** As above, with {@code quiet} ms of silence after the expected bytes taken as the end. */
    private Observed tcpRead(Socket socket, InputStream in, int expected, String note, int quiet) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        try {
            while (got.size() < expected) {
                int left = (int) Math.max(1, (deadline - System.nanoTime()) / 1_000_000L);
                socket.setSoTimeout(left);
                int n = in.read(buf, 0, Math.min(buf.length, expected - got.size()));
                if (n < 0) {
                    return new Observed(Verdict.TX, got.toByteArray(), join(note, "the connection closed (FIN) after "
                            + got.size() + " bytes"));
                }
                got.write(buf, 0, n);
            }
            socket.setSoTimeout(quiet);
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    return new Observed(got.size() > 0 ? Verdict.TX : Verdict.DROP, got.toByteArray(),
                            join(note, "the connection closed (FIN), it was not reset"));
                }
                got.write(buf, 0, n);
            }
        } catch (SocketTimeoutException silent) {
            return new Observed(Verdict.TX, got.toByteArray(), got.size() < expected
                    ? join(note, "only " + got.size() + " of " + expected + " response bytes arrived") : note);
        } catch (SocketException e) {
            if (String.valueOf(e.getMessage()).contains("reset")) {
                return new Observed(Verdict.RESET, got.toByteArray(), got.size() > 0
                        ? join(note, got.size() + " bytes arrived before the reset") : note);
            }
            throw e;
        }
    }

    private Observed udp(InetSocketAddress address, byte[] payload) throws IOException, InterruptedException {
        try (DatagramSocket socket = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            int port = socket.getLocalPort();
            socket.send(new DatagramPacket(payload, payload.length, address));
            Conn c = conn(port);
            try {
                List<SegmentObserver.Outcome> outcomes = awaitProcessed(c, payload.length);
                if (outcomes == null) {
                    return new Observed(null, new byte[0], "the stack did not process the datagram within " + WAIT_MS + " ms");
                }
                Verdict decided = outcomes.getLast().verdict();
                byte[] buf = new byte[70_000];
                DatagramPacket reply = new DatagramPacket(buf, buf.length);
                switch (decided) {
                    case TX -> {
                        socket.setSoTimeout(WAIT_MS);
                        try {
                            socket.receive(reply);
                        } catch (SocketTimeoutException e) {
                            return new Observed(Verdict.DROP, new byte[0], "no response datagram arrived");
                        }
                        return new Observed(Verdict.TX, Arrays.copyOf(buf, reply.getLength()), "");
                    }
                    case PASS -> {
                        byte[] got = awaitPassed(c, payload.length);
                        return new Observed(Verdict.PASS, got, Arrays.equals(got, payload) ? ""
                                : "the service received " + got.length + " bytes, not the " + payload.length + " sent");
                    }
                    default -> {
                        socket.setSoTimeout(quietMs);
                        try {
                            socket.receive(reply);
                            return new Observed(Verdict.TX, Arrays.copyOf(buf, reply.getLength()),
                                    "a datagram came back although the stack decided " + decided);
                        } catch (SocketTimeoutException e) {
                            // Nothing came back: a drop on the wire; the stack says whether it was a reset.
                            return new Observed(decided, new byte[0], "");
                        }
                    }
                }
            } finally {
                conns.remove(port);
            }
        }
    }

    private static List<SegmentObserver.Outcome> awaitProcessed(Conn c, int length) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        synchronized (c) {
            // A datagram of 0 bytes is processed too (processed stays 0): wait for its outcome.
            while (c.processed < length || c.outcomes.isEmpty()) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    return null;
                }
                c.wait(left);
            }
            return List.copyOf(c.outcomes);
        }
    }

    private static byte[] awaitPassed(Conn c, int length) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        synchronized (c) {
            while (c.passed.size() < length) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) {
                    break;
                }
                c.wait(left);
            }
            return c.passed.toByteArray();
        }
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : a + "; " + b;
    }

    /** The in-process answer for the same segment, for comparisons. */
    public static Observed reference(SegmentResult r, byte[] payload) {
        return new Observed(r.verdict(), switch (r.verdict()) {
            case TX -> r.response();
            case PASS -> payload;
            default -> new byte[0];
        }, "");
    }

    @Override
    public void close() {
        stack.close();
    }
}
