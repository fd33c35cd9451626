package dev.xps.consensus.client;

import dev.xps.consensus.ChannelFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.IntFunction;

/**
 * A synchronous client of a consensus group: one request at a time, each with a fresh request id (bytes 1..4 of
 * both the request and the reply, as in both samples), resent with the same id on timeout. The first reply that
 * carries the id is the answer; any later copy is counted as a {@link #duplicates() duplicate} and ignored, so a
 * request is answered exactly once. After {@code attemptsPerServer} timeouts the client moves on to the next server
 * in its list (the leader may have changed). Every loop is bounded by {@code maxAttempts}. Not thread-safe: one
 * client per thread.
 */
public final class VrClient implements AutoCloseable {
    /** A request's answer: the reply bytes, how many times it was sent and how long it took. */
    public record Answer(int requestId, byte[] reply, int attempts, long nanos, int server) {}

    private final DatagramChannel ch;
    private final Selector selector;
    private final List<InetSocketAddress> servers;
    private final long timeoutNanos;
    private final int attemptsPerServer;
    private final int maxAttempts;
    private final ByteBuffer buf = ByteBuffer.allocate(65536);
    private int server;
    private int nextId;
    private long sent;
    private long retries;
    private long duplicates;
    private long unmatched;

    /**
     * @param servers           the members' client addresses ({@code P}); the first is tried first
     * @param timeout           resend after this long without the reply
     * @param attemptsPerServer consecutive timeouts before trying the next server
     * @param maxAttempts       sends per request before giving up
     */
    public VrClient(ChannelFactory channels, InetSocketAddress bind, List<InetSocketAddress> servers, Duration timeout,
            int attemptsPerServer, int maxAttempts) throws IOException {
        this.servers = List.copyOf(servers);
        if (this.servers.isEmpty() || attemptsPerServer < 1 || maxAttempts < 1) {
            throw new IllegalArgumentException("need servers, attemptsPerServer >= 1 and maxAttempts >= 1");
        }
        this.timeoutNanos = timeout.toNanos();
        this.attemptsPerServer = attemptsPerServer;
        this.maxAttempts = maxAttempts;
        this.ch = (channels == null ? ChannelFactory.standard() : channels).open(bind);
        this.ch.configureBlocking(false);
        this.selector = Selector.open();
        this.ch.register(selector, SelectionKey.OP_READ);
        this.nextId = 1;
    }

    public VrClient(InetSocketAddress bind, List<InetSocketAddress> servers, Duration timeout) throws IOException {
        this(null, bind, servers, timeout, 3, 1000);
    }

    /** Sends {@code build.apply(id)} until its reply comes; null when {@code maxAttempts} sends got none. */
    public Answer call(IntFunction<byte[]> build) throws IOException {
        int id = nextId++;
        byte[] req = Objects.requireNonNull(build.apply(id));
        long start = System.nanoTime();
        int sinceSwitch = 0;
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            if (sinceSwitch >= attemptsPerServer) {
                server = (server + 1) % servers.size();
                sinceSwitch = 0;
            }
            ch.send(ByteBuffer.wrap(req), servers.get(server));
            sent++;
            if (attempt > 1) {
                retries++;
            }
            sinceSwitch++;
            byte[] reply = await(id, System.nanoTime() + timeoutNanos);
            if (reply != null) {
                return new Answer(id, reply, attempt, System.nanoTime() - start, server);
            }
        }
        return null;
    }

    /** Waits for the reply to {@code id} until {@code deadline}; other replies are counted and dropped. */
    private byte[] await(int id, long deadline) throws IOException {
        for (int spins = 0; spins < 100_000; spins++) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return null;
            }
            selector.selectedKeys().clear();
            selector.select(Math.max(1, Duration.ofNanos(left).toMillis()));
            for (int i = 0; i < 1024; i++) {
                buf.clear();
                SocketAddress from = ch.receive(buf);
                if (from == null) {
                    break;
                }
                buf.flip();
                if (buf.remaining() < 5) {
                    unmatched++;
                    continue;
                }
                int rid = buf.getInt(1);
                if (rid == id) {
                    byte[] r = new byte[buf.remaining()];
                    buf.get(r);
                    return r;
                }
                if (rid > 0 && rid < id) {
                    duplicates++; // a late copy of an answered request (after a resend)
                } else {
                    unmatched++;
                }
            }
        }
        return null;
    }

    /** Reads whatever replies are still in flight for up to {@code wait}, counting them (before closing). */
    public void drain(Duration wait) throws IOException {
        await(Integer.MIN_VALUE, System.nanoTime() + wait.toNanos());
    }

    /** Makes {@code index} the server tried next. */
    public void useServer(int index) {
        server = Math.floorMod(index, servers.size());
    }

    public long sent() {
        return sent;
    }

    public long retries() {
        return retries;
    }

    /** Replies to a request already answered (each request still counts as answered once). */
    public long duplicates() {
        return duplicates;
    }

    /** Datagrams that were no reply to a request of this client. */
    public long unmatched() {
        return unmatched;
    }

    @Override
    public void close() throws IOException {
        selector.close();
        ch.close();
    }
}
