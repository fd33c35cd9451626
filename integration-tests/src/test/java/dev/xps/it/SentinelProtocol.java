package dev.xps.it;

import dev.xps.backend.java.stack.StackProbe.Observed;
import dev.xps.compiler.ir.ByteOrder;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.runtime.Bytes;
import dev.xps.runtime.Verdict;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How the differential observes one TCP payload on a target, exactly and without waiting for silence, the
 * same way on the java-stack and in the kernel. Every payload goes on a fresh connection (as in-language tests
 * do). The client writes the payload and, once the target shows it has taken that segment (the kernel's entry
 * counters, the stack's segment observer; so that the two cannot merge into one segment), a <em>sentinel</em>
 * segment the entry is known to pass (a dispatch selector no arm takes, with a {@code _ => pass} default),
 * then reads until the service's acknowledgement or a reset. The recording service records what it received
 * before the sentinel and only then writes the acknowledgement. A target delivers a connection's answers and
 * passed segments in order, so when the acknowledgement arrives every answer to the payload has arrived before
 * it and everything passed has reached the service: tx = the bytes before the acknowledgement, pass = what the
 * service received before the sentinel, drop = neither, reset = the client's read fails with ECONNRESET.
 * Anything else (both, an end of file, nothing within {@value #WAIT_MS} ms) is reported with a note.
 */
final class SentinelProtocol {
    static final int WAIT_MS = 10_000;

    final byte[] sentinel;
    final byte[] ack;
    private final Map<Integer, ServiceSaw> saw = new ConcurrentHashMap<>();
    /** What the service is doing (shown when a payload's outcome cannot be observed). */
    volatile String serviceState = "starting";

    /** What the service saw of one connection before the sentinel, or why it never saw the sentinel. */
    record ServiceSaw(byte[] passed, String problem) {}

    SentinelProtocol(IrEntryPoint entry, Random random) {
        this.sentinel = sentinel(entry, random);
        this.ack = nonce("\0xdiff-ack-", random);
    }

    private static byte[] nonce(String prefix, Random random) {
        byte[] tail = new byte[12];
        random.nextBytes(tail);
        return (prefix + HexFormat.of().formatHex(tail)).getBytes(StandardCharsets.ISO_8859_1);
    }

    /**
     * A segment the entry passes whatever the connection's state: a message whose dispatch selector no arm
     * takes, for a dispatch whose default arm is {@code pass} (such an arm takes the rest of the segment as
     * its message). An entry without one cannot be observed this way: the test says so rather than guess.
     */
    private static byte[] sentinel(IrEntryPoint e, Random random) {
        if (!(e instanceof IrEntryPoint.Dispatch d) || !(d.fallback() instanceof IrEntryPoint.Target.ToVerdict(
                dev.xps.compiler.ir.Verdict v) && v == dev.xps.compiler.ir.Verdict.PASS)) {
            throw new AssertionError("TCP entry " + e.name() + " is not a dispatch with a '_ => pass' arm: the"
                    + " differential needs a segment the entry always passes to mark the end of each payload");
        }
        byte[] s = nonce("\0xdiff-sentinel-", random);
        // Longer than any answer the kernel target sends for one segment (16,384 bytes, docs/ebpf-target.md).
        // Found here on 6.18: after a tx whose answer is longer than its request, a next segment of at most
        // (answer - request) bytes that arrives while the answer is still being sent is not handed to the
        // verdict program (nor to the service) until more bytes arrive, and is then handled together with
        // them as one segment; a longer one is handled at once. (Consistent with the kernel advancing
        // copied_seq by the rewritten skb's length, so the socket does not look readable.) A short sentinel
        // would then wait forever. That concerns later segments of a connection, which this differential
        // does not compare (one payload per connection): the IT counts the payloads that would trigger it.
        s = Arrays.copyOf(s, Math.max(16_384 + 64, d.offset() + d.length() + 8));
        while (true) {
            byte[] selector = new byte[d.length()];
            random.nextBytes(selector);
            boolean taken = false;
            for (IrEntryPoint.Arm arm : d.arms()) {
                taken |= switch (arm.selector()) {
                    case IrEntryPoint.Selector.BytesValue b -> Arrays.equals(b.value(), selector);
                    case IrEntryPoint.Selector.IntValue i -> i.value() == integer(selector, d.order());
                };
            }
            if (!taken) {
                System.arraycopy(selector, 0, s, d.offset(), selector.length);
                return s;
            }
        }
    }

    private static long integer(byte[] b, ByteOrder order) {
        long v = 0;
        for (int i = 0; i < b.length; i++) {
            int k = order == ByteOrder.LITTLE ? b.length - 1 - i : i;
            v = v << 8 | (b[k] & 255);
        }
        return v;
    }

    // ------------------------------------------------------------------ the service's side

    /** One connection as the recording service sees it. */
    final class Connection {
        private final int clientPort;
        private final ByteArrayOutputStream got = new ByteArrayOutputStream();
        private boolean acknowledged;

        Connection(int clientPort) {
            this.clientPort = clientPort;
        }

        /** Bytes the service received; the acknowledgement to send once they end with the sentinel, else null. */
        synchronized byte[] received(byte[] bytes, int offset, int length) {
            got.write(bytes, offset, length);
            serviceState = "reading the connection from port " + clientPort + ", " + got.size() + " bytes so far";
            if (acknowledged || !endsWith(got, sentinel)) {
                return null;
            }
            byte[] all = got.toByteArray();
            saw.put(clientPort, new ServiceSaw(Arrays.copyOf(all, all.length - sentinel.length), null));
            acknowledged = true;
            return ack;
        }

        /**
         * The connection ended (an end of file, an error) before the sentinel: recorded for a client still
         * waiting, never over the record of a later connection from the same port.
         */
        synchronized void ended(String problem) {
            if (!acknowledged) {
                saw.putIfAbsent(clientPort, new ServiceSaw(got.toByteArray(), problem));
            }
        }
    }

    Connection connection(int clientPort) {
        return new Connection(clientPort);
    }

    // ------------------------------------------------------------------ the client's side

    /**
     * Sends one payload on {@code ch} (connected, fresh) and observes its outcome; {@code taken} waits until the
     * target has taken the payload's segment and returns null, or says what happened instead.
     */
    Observed exchange(SocketChannel ch, byte[] payload, Callable<String> taken) throws Exception {
        ByteArrayOutputStream back = new ByteArrayOutputStream();
        int port = ((InetSocketAddress) ch.getLocalAddress()).getPort();
        Socket s = ch.socket();
        s.setSoTimeout(WAIT_MS);
        OutputStream out = s.getOutputStream();
        InputStream in = s.getInputStream();
        out.write(payload); // one write: one segment
        String ending = taken.call();
        if (ending == null) {
            try {
                out.write(sentinel);
                ending = read(in, back);
            } catch (IOException e) {
                if (!isReset(e)) {
                    throw e;
                }
                // The reset arrived first; this write consumed the error, so a read now sees an end of file.
                // Whatever was received before it is still read.
                ending = "reset";
                read(in, back);
            }
        }
        ch.setOption(StandardSocketOptions.SO_LINGER, 0); // an RST: no TIME_WAIT for 100,000 connections
        byte[] received = back.toByteArray();
        if (ending.equals("reset")) {
            saw.remove(port);
            return new Observed(Verdict.RESET, received,
                    received.length == 0 ? "" : received.length + " bytes arrived before the reset");
        }
        if (!ending.equals("ack")) {
            saw.remove(port);
            return new Observed(null, received, ending + " (client port " + port + "; the service: " + serviceState + ")");
        }
        byte[] tx = Arrays.copyOf(received, received.length - ack.length);
        ServiceSaw service = awaitService(port);
        if (service == null) {
            return new Observed(null, tx, "acknowledged, but the service recorded nothing");
        }
        if (service.problem() != null) {
            return new Observed(null, tx, service.problem());
        }
        if (tx.length > 0 && service.passed().length > 0) {
            return new Observed(Verdict.TX, tx, "the service also received \"" + Bytes.escape(service.passed()) + "\"");
        }
        if (tx.length > 0) {
            return new Observed(Verdict.TX, tx, "");
        }
        if (service.passed().length > 0) {
            return new Observed(Verdict.PASS, service.passed(), "");
        }
        return new Observed(Verdict.DROP, new byte[0], "");
    }

    /** Reads until the acknowledgement ("ack"), a reset ("reset"), or says what happened instead. */
    private String read(InputStream in, ByteArrayOutputStream back) throws IOException {
        byte[] buf = new byte[1 << 16];
        try {
            while (true) {
                int n = in.read(buf);
                if (n < 0) {
                    return "the connection closed (FIN) without the service's acknowledgement";
                }
                back.write(buf, 0, n);
                if (endsWith(back, ack)) {
                    return "ack";
                }
            }
        } catch (SocketTimeoutException e) {
            return "neither the service's acknowledgement nor a reset came within " + WAIT_MS + " ms";
        } catch (IOException e) {
            if (isReset(e)) {
                return "reset";
            }
            throw e;
        }
    }

    private ServiceSaw awaitService(int port) {
        long deadline = System.nanoTime() + WAIT_MS * 1_000_000L;
        ServiceSaw s;
        while ((s = saw.remove(port)) == null && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        return s;
    }

    /** ECONNRESET, as the JDK words it ("Connection reset", "Connection reset by peer"). */
    static boolean isReset(IOException e) {
        return !(e instanceof SocketTimeoutException)
                && String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT).contains("connection reset");
    }

    private static boolean endsWith(ByteArrayOutputStream b, byte[] suffix) {
        if (b.size() < suffix.length) {
            return false;
        }
        byte[] all = b.toByteArray();
        return Arrays.equals(all, all.length - suffix.length, all.length, suffix, 0, suffix.length);
    }
}
