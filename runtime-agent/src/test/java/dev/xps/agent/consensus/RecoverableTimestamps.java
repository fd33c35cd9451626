package dev.xps.agent.consensus;

import dev.xps.consensus.LogEntry;
import dev.xps.consensus.RecoverableService;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The timestamp service with state: its state is the list of entries applied so far ({@link #executed}, in op
 * order), so a snapshot, a restore and the entries executed after it can be compared with the log entry by entry
 * (an entry lost or applied twice shows). {@link #delayNanos} makes each execution take that long (a host RTT well
 * above the JVM's jitter); {@link #outOfOrder} counts entries that did not follow the last one applied.
 */
final class RecoverableTimestamps extends ConsensusEndToEndTest.Timestamps implements RecoverableService {
    volatile long delayNanos;
    volatile long outOfOrder;
    /** The op this instance was executing when {@link #hang} was found set (-1: none). */
    volatile long hungOp = -1;

    RecoverableTimestamps(long delayNanos) {
        this.delayNanos = delayNanos;
    }

    @Override
    public byte[] execute(long op, InetSocketAddress client, byte[] request) {
        long last = executed.isEmpty() ? 0 : executed.getLast().op();
        if (op != last + 1) {
            outOfOrder++;
        }
        long d = delayNanos;
        if (d > 0) {
            long until = System.nanoTime() + d;
            for (int i = 0; i < 1000 && System.nanoTime() < until; i++) {
                LockSupport.parkNanos(until - System.nanoTime());
            }
        }
        CountDownLatch h = hang;
        if (h != null && op >= hangFrom) {
            if (hungOp < 0) {
                hungOp = op;
            }
            try {
                h.await(30, TimeUnit.SECONDS); // a host that stopped answering
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return super.execute(op, client, request); // the latch is open now: it does not wait again
    }

    @Override
    public byte[] snapshot() {
        List<LogEntry> all = new ArrayList<>(executed);
        int size = 4;
        for (LogEntry e : all) {
            size += 16 + e.request().length;
        }
        ByteBuffer b = ByteBuffer.allocate(size).putInt(all.size());
        for (LogEntry e : all) {
            byte[] r = e.request();
            b.putLong(e.op()).putInt(e.clientIpv4()).putShort((short) e.clientPort()).putShort((short) r.length).put(r);
        }
        return b.array();
    }

    @Override
    public void restore(byte[] snapshot) {
        ByteBuffer b = ByteBuffer.wrap(snapshot);
        int n = b.getInt();
        List<LogEntry> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            long op = b.getLong();
            int ip = b.getInt();
            int port = Short.toUnsignedInt(b.getShort());
            byte[] r = new byte[Short.toUnsignedInt(b.getShort())];
            b.get(r);
            all.add(new LogEntry(op, ip, port, r));
        }
        if (b.hasRemaining()) {
            throw new IllegalArgumentException("snapshot has " + b.remaining() + " trailing bytes");
        }
        executed.clear();
        executed.addAll(all);
    }
}
