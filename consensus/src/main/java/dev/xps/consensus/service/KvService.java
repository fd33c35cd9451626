package dev.xps.consensus.service;

import dev.xps.consensus.OrderPredicate;
import dev.xps.consensus.RecoverableService;
import dev.xps.consensus.UnorderedHandler;
import java.io.ByteArrayOutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The replicated key-value store of samples/kv-replicated.xps: PUT and DELETE are ordered and applied by every
 * member in log order; GET is served by the leader from its applied state, without consensus.
 *
 * <pre>
 * request: u8 op | u32 request id | u8 key length | key | (PUT only) u16 value length | value
 *          op 1 PUT, 2 GET, 3 DELETE; keys up to 64 bytes, values up to 512
 * PUT reply:    u8 0x81 | u32 request id
 * GET reply:    u8 0x82 | u32 request id | u16 length | value      (the sample's format)
 * GET miss:     u8 0xc2 | u32 request id
 * DELETE reply: u8 0x83 | u32 request id | u8 1 if the key was there, else 0
 * malformed:    u8 0xff | u32 request id   (an ordered request that does not parse; it still takes an op)
 * </pre>
 */
public final class KvService implements RecoverableService {
    public static final int PUT = 1;
    public static final int GET = 2;
    public static final int DELETE = 3;
    public static final int PORT = 9100;
    public static final int ENTRY_SIZE = 600;
    public static final int MAX_KEY = 64;
    public static final int MAX_VALUE = 512;

    private final ConcurrentHashMap<String, byte[]> map = new ConcurrentHashMap<>();
    private volatile long last;
    private volatile long executed;
    private volatile long outOfOrder;

    /** {@code order when u8 at 0 in { 1, 3 }}. */
    public static OrderPredicate order() {
        return OrderPredicate.u8At(0, PUT, DELETE);
    }

    /** GET on the leader, from the applied state. */
    public UnorderedHandler gets() {
        return (client, req) -> {
            ByteBuffer b = ByteBuffer.wrap(req);
            if (req.length < 6 || req[0] != GET) {
                return null;
            }
            b.get();
            int id = b.getInt();
            int klen = b.get() & 0xff;
            if (klen > MAX_KEY || b.remaining() != klen) {
                return null;
            }
            byte[] v = map.get(new String(req, 6, klen, StandardCharsets.ISO_8859_1));
            if (v == null) {
                return ByteBuffer.allocate(5).put((byte) 0xc2).putInt(id).array();
            }
            return ByteBuffer.allocate(7 + v.length).put((byte) 0x82).putInt(id).putShort((short) v.length).put(v)
                    .array();
        };
    }

    public static byte[] put(int id, String key, byte[] value) {
        byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
        return ByteBuffer.allocate(6 + k.length + 2 + value.length).put((byte) PUT).putInt(id).put((byte) k.length)
                .put(k).putShort((short) value.length).put(value).array();
    }

    public static byte[] get(int id, String key) {
        byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
        return ByteBuffer.allocate(6 + k.length).put((byte) GET).putInt(id).put((byte) k.length).put(k).array();
    }

    public static byte[] delete(int id, String key) {
        byte[] k = key.getBytes(StandardCharsets.ISO_8859_1);
        return ByteBuffer.allocate(6 + k.length).put((byte) DELETE).putInt(id).put((byte) k.length).put(k).array();
    }

    /** The value in a GET reply, null for a miss or anything else. */
    public static byte[] value(byte[] reply) {
        if (reply.length < 7 || (reply[0] & 0xff) != 0x82) {
            return null;
        }
        int len = ByteBuffer.wrap(reply, 5, 2).getShort() & 0xffff;
        return reply.length == 7 + len ? java.util.Arrays.copyOfRange(reply, 7, 7 + len) : null;
    }

    @Override
    public byte[] execute(long op, InetSocketAddress client, byte[] req) {
        if (op != last + 1) {
            outOfOrder++;
        }
        last = op;
        executed++;
        if (req.length < 5) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(req);
        int kind = b.get() & 0xff;
        int id = b.getInt();
        byte[] err = ByteBuffer.allocate(5).put((byte) 0xff).putInt(id).array();
        if (b.remaining() < 1) {
            return err;
        }
        int klen = b.get() & 0xff;
        if (klen > MAX_KEY || b.remaining() < klen) {
            return err;
        }
        String key = new String(req, 6, klen, StandardCharsets.ISO_8859_1);
        b.position(6 + klen);
        switch (kind) {
            case PUT -> {
                if (b.remaining() < 2) {
                    return err;
                }
                int vlen = b.getShort() & 0xffff;
                if (vlen > MAX_VALUE || b.remaining() != vlen) {
                    return err;
                }
                byte[] v = new byte[vlen];
                b.get(v);
                map.put(key, v);
                return ByteBuffer.allocate(5).put((byte) 0x81).putInt(id).array();
            }
            case DELETE -> {
                if (b.remaining() != 0) {
                    return err;
                }
                boolean had = map.remove(key) != null;
                return ByteBuffer.allocate(6).put((byte) 0x83).putInt(id).put((byte) (had ? 1 : 0)).array();
            }
            default -> {
                return err;
            }
        }
    }

    /** A copy of the applied state, for comparisons. */
    public Map<String, byte[]> contents() {
        return new TreeMap<>(map);
    }

    public long last() {
        return last;
    }

    public long executed() {
        return executed;
    }

    public long outOfOrder() {
        return outOfOrder;
    }

    @Override
    public byte[] snapshot() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteBuffer head = ByteBuffer.allocate(28).putLong(last).putLong(executed).putLong(outOfOrder);
        Map<String, byte[]> sorted = new TreeMap<>(map);
        head.putInt(sorted.size());
        out.writeBytes(head.array());
        sorted.forEach((k, v) -> {
            byte[] kb = k.getBytes(StandardCharsets.ISO_8859_1);
            out.write(kb.length);
            out.writeBytes(kb);
            out.write(v.length >>> 8);
            out.write(v.length & 0xff);
            out.writeBytes(v);
        });
        return out.toByteArray();
    }

    @Override
    public void restore(byte[] snapshot) {
        ByteBuffer b = ByteBuffer.wrap(snapshot);
        long l = b.getLong();
        long e = b.getLong();
        long o = b.getLong();
        int n = b.getInt();
        Map<String, byte[]> m = new java.util.HashMap<>();
        for (int i = 0; i < n; i++) {
            byte[] k = new byte[b.get() & 0xff];
            b.get(k);
            byte[] v = new byte[b.getShort() & 0xffff];
            b.get(v);
            m.put(new String(k, StandardCharsets.ISO_8859_1), v);
        }
        map.clear();
        map.putAll(m);
        last = l;
        executed = e;
        outOfOrder = o;
    }
}
