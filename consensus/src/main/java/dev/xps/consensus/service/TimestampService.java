package dev.xps.consensus.service;

import dev.xps.consensus.OrderPredicate;
import dev.xps.consensus.RecoverableService;
import dev.xps.consensus.UnorderedHandler;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

/**
 * The replicated timestamp server of samples/timestamp-server.xps: the log's op number is the timestamp, so
 * timestamps are unique and strictly increasing across the run (and across view changes).
 *
 * <pre>
 * request: u8 op | u32 request id          op 1 = NEXT (ordered), op 2 = PROBE (unordered, answered by the leader)
 * NEXT reply:  u8 0x81 | u32 request id | u64 timestamp (= the entry's op)
 * PROBE reply: u8 0x82 | u32 request id
 * </pre>
 *
 * Anything else gets no reply (an ordered runt such as {@code 01 00} still takes an op, and is checked like any
 * other entry). The service also checks the protocol's promise: every {@code execute} must carry the op right after
 * the previous one; {@link #outOfOrder()} counts the violations (a gap or a repeat).
 */
public final class TimestampService implements RecoverableService {
    public static final int NEXT = 1;
    public static final int PROBE = 2;
    public static final int PORT = 9000;
    public static final int ENTRY_SIZE = 16;

    private volatile long last;
    private volatile long executed;
    private volatile long outOfOrder;

    /** {@code order when u8 at 0 in { 1 }}. */
    public static OrderPredicate order() {
        return OrderPredicate.u8At(0, NEXT);
    }

    /** PROBE, answered on the leader without consensus (the sample's handler). */
    public static UnorderedHandler probes() {
        return (client, req) -> req.length == 5 && req[0] == PROBE
                ? ByteBuffer.allocate(5).put((byte) 0x82).put(req, 1, 4).array()
                : null;
    }

    public static byte[] next(int requestId) {
        return ByteBuffer.allocate(5).put((byte) NEXT).putInt(requestId).array();
    }

    public static byte[] probe(int requestId) {
        return ByteBuffer.allocate(5).put((byte) PROBE).putInt(requestId).array();
    }

    /** The timestamp in a NEXT reply; -1 when {@code reply} is not one. */
    public static long timestamp(byte[] reply) {
        return reply.length == 13 && (reply[0] & 0xff) == 0x81 ? ByteBuffer.wrap(reply, 5, 8).getLong() : -1;
    }

    @Override
    public byte[] execute(long op, InetSocketAddress client, byte[] request) {
        if (op != last + 1) {
            outOfOrder++;
        }
        last = op;
        executed++;
        if (request.length != 5 || request[0] != NEXT) {
            return null;
        }
        return ByteBuffer.allocate(13).put((byte) 0x81).put(request, 1, 4).putLong(op).array();
    }

    /** The last op executed (the last timestamp issued). */
    public long last() {
        return last;
    }

    /** How many entries this state has executed, including those taken in by {@link #restore}. */
    public long executed() {
        return executed;
    }

    public long outOfOrder() {
        return outOfOrder;
    }

    @Override
    public byte[] snapshot() {
        return ByteBuffer.allocate(24).putLong(last).putLong(executed).putLong(outOfOrder).array();
    }

    @Override
    public void restore(byte[] snapshot) {
        ByteBuffer b = ByteBuffer.wrap(snapshot);
        last = b.getLong();
        executed = b.getLong();
        outOfOrder = b.getLong();
    }
}
