package dev.xps.consensus.wire;

import java.nio.ByteBuffer;
import java.util.Optional;

/**
 * The byte format of {@link VrMessage}s, big-endian, as specified in docs/consensus.md. The eBPF data plane
 * reads and writes the same bytes, so this class and the generated C must change together.
 *
 * <p>{@link #decode} never throws on bad input: a datagram that is not a well-formed message of this version
 * yields {@link Optional#empty()} (the data plane counts it as {@code bad} and drops it).
 */
public final class Wire {
    public static final int MAGIC = 0x5856; // "XV"
    public static final int VERSION = 1;
    public static final int HEADER_BYTES = 12;
    public static final int TYPE_PREPARE = 1;
    public static final int TYPE_PREPARE_OK = 2;
    public static final int TYPE_COMMIT = 3;
    /** State transfer (recovery): types 4 and 5; docs/consensus.md, "State transfer". */
    public static final int TYPE_STATE_REQUEST = 4;
    public static final int TYPE_STATE_CHUNK = 5;
    /**
     * View change between data-plane members' host libraries (types 6 to 9; the XDP program passes every type
     * above 3 to the stack): DO_VIEW_CHANGE, START_VIEW (u64 contiguous, u64 commit), LOG_REQUEST (u64 from,
     * u64 to), LOG_COPY (u64 op, u32 client IPv4, u16 client port, u16 length, bytes).
     */
    public static final int TYPE_DO_VIEW_CHANGE = 6;
    public static final int TYPE_START_VIEW = 7;
    public static final int TYPE_LOG_REQUEST = 8;
    public static final int TYPE_LOG_COPY = 9;
    public static final int TYPE_REJOIN = 10;
    public static final int LOG_COPY_FIXED_BYTES = 8 + 4 + 2 + 2;
    /** DO_VIEW_CHANGE and START_VIEW body: a view (the sender's latest normal one / the log's), contiguous, commit. */
    public static final int VIEW_CHANGE_BYTES = 4 + 8 + 8;
    /** STATE_REQUEST body: applied, nonce, offset. */
    public static final int STATE_REQUEST_BYTES = 8 + 4 + 4;
    /** STATE_CHUNK body before the data: op, nonce, total, offset, length. */
    public static final int STATE_CHUNK_FIXED_BYTES = 8 + 4 + 4 + 4 + 2;
    /** The most snapshot bytes one STATE_CHUNK carries (fits one datagram at MTU 1500). */
    public static final int MAX_CHUNK = 1024;
    /** PREPARE body before the request bytes: op, commit, client IPv4, client port, length. */
    public static final int PREPARE_FIXED_BYTES = 8 + 8 + 4 + 2 + 2;
    /** The largest request a PREPARE can carry in one UDP/IPv4 datagram without fragmentation at MTU 1500. */
    public static final int MAX_REQUEST = 1500 - 20 - 8 - HEADER_BYTES - PREPARE_FIXED_BYTES;
    /** Members are indexed 0 .. 62 (the language allows at most 63 replicas). */
    public static final int MAX_MEMBERS = 63;

    private Wire() {}

    public static byte[] encode(VrMessage m) {
        ByteBuffer b = switch (m) {
            case VrMessage.Prepare p -> {
                byte[] req = p.request();
                yield header(TYPE_PREPARE, p, PREPARE_FIXED_BYTES + req.length).putLong(p.op()).putLong(p.commit())
                        .putInt(p.clientIpv4()).putShort((short) p.clientPort()).putShort((short) req.length)
                        .put(req);
            }
            case VrMessage.PrepareOk ok -> header(TYPE_PREPARE_OK, ok, 8).putLong(ok.op());
            case VrMessage.Commit c -> header(TYPE_COMMIT, c, 8).putLong(c.commit());
            case VrMessage.StateRequest r -> header(TYPE_STATE_REQUEST, r, STATE_REQUEST_BYTES).putLong(r.applied())
                    .putInt(r.nonce()).putInt(r.offset());
            case VrMessage.StateChunk c -> {
                byte[] data = c.data();
                yield header(TYPE_STATE_CHUNK, c, STATE_CHUNK_FIXED_BYTES + data.length).putLong(c.op())
                        .putInt(c.nonce()).putInt(c.total()).putInt(c.offset()).putShort((short) data.length)
                        .put(data);
            }
            case VrMessage.DoViewChange d -> header(TYPE_DO_VIEW_CHANGE, d, VIEW_CHANGE_BYTES).putInt(d.normalView())
                    .putLong(d.contiguous()).putLong(d.commit());
            case VrMessage.StartView v -> header(TYPE_START_VIEW, v, VIEW_CHANGE_BYTES).putInt(v.logView())
                    .putLong(v.contiguous()).putLong(v.commit());
            case VrMessage.LogRequest r -> header(TYPE_LOG_REQUEST, r, 16).putLong(r.from()).putLong(r.to());
            case VrMessage.Rejoin r -> header(TYPE_REJOIN, r, 8).putLong(r.contiguous());
            case VrMessage.LogCopy c -> {
                byte[] req = c.request();
                yield header(TYPE_LOG_COPY, c, LOG_COPY_FIXED_BYTES + req.length).putLong(c.op())
                        .putInt(c.clientIpv4()).putShort((short) c.clientPort()).putShort((short) req.length).put(req);
            }
        };
        return b.array();
    }

    /** The message in {@code datagram}, or empty when it is not one (wrong magic, version, type or length). */
    public static Optional<VrMessage> decode(byte[] datagram) {
        return decode(datagram, 0, datagram.length);
    }

    public static Optional<VrMessage> decode(byte[] buf, int offset, int length) {
        if (length < HEADER_BYTES || offset < 0 || offset + length > buf.length) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(buf, offset, length);
        if ((b.getShort() & 0xffff) != MAGIC || (b.get() & 0xff) != VERSION) {
            return Optional.empty();
        }
        int type = b.get() & 0xff;
        int view = b.getInt();
        int sender = b.get() & 0xff;
        if (b.get() != 0 || b.get() != 0 || b.get() != 0 || sender >= MAX_MEMBERS || view < 0) {
            return Optional.empty();
        }
        int body = length - HEADER_BYTES;
        try {
            return switch (type) {
                case TYPE_PREPARE -> {
                    if (body < PREPARE_FIXED_BYTES) {
                        yield Optional.empty();
                    }
                    long op = b.getLong();
                    long commit = b.getLong();
                    int ip = b.getInt();
                    int port = b.getShort() & 0xffff;
                    int len = b.getShort() & 0xffff;
                    if (len != body - PREPARE_FIXED_BYTES || len > MAX_REQUEST) {
                        yield Optional.empty();
                    }
                    byte[] req = new byte[len];
                    b.get(req);
                    yield Optional.of(new VrMessage.Prepare(view, sender, op, commit, ip, port, req));
                }
                case TYPE_PREPARE_OK -> body != 8 ? Optional.empty()
                        : Optional.of(new VrMessage.PrepareOk(view, sender, b.getLong()));
                case TYPE_COMMIT -> body != 8 ? Optional.empty()
                        : Optional.of(new VrMessage.Commit(view, sender, b.getLong()));
                case TYPE_STATE_REQUEST -> body != STATE_REQUEST_BYTES ? Optional.empty()
                        : Optional.of(new VrMessage.StateRequest(view, sender, b.getLong(), b.getInt(), b.getInt()));
                case TYPE_STATE_CHUNK -> {
                    if (body < STATE_CHUNK_FIXED_BYTES) {
                        yield Optional.empty();
                    }
                    long op = b.getLong();
                    int nonce = b.getInt();
                    int total = b.getInt();
                    int off = b.getInt();
                    int len = b.getShort() & 0xffff;
                    if (len != body - STATE_CHUNK_FIXED_BYTES || len > MAX_CHUNK) {
                        yield Optional.empty();
                    }
                    byte[] data = new byte[len];
                    b.get(data);
                    yield Optional.of(new VrMessage.StateChunk(view, sender, op, nonce, total, off, data));
                }
                case TYPE_DO_VIEW_CHANGE -> body != VIEW_CHANGE_BYTES ? Optional.empty()
                        : Optional.of(new VrMessage.DoViewChange(view, sender, b.getInt(), b.getLong(), b.getLong()));
                case TYPE_START_VIEW -> body != VIEW_CHANGE_BYTES ? Optional.empty()
                        : Optional.of(new VrMessage.StartView(view, sender, b.getInt(), b.getLong(), b.getLong()));
                case TYPE_LOG_REQUEST -> body != 16 ? Optional.empty()
                        : Optional.of(new VrMessage.LogRequest(view, sender, b.getLong(), b.getLong()));
                case TYPE_REJOIN -> body != 8 ? Optional.empty()
                        : Optional.of(new VrMessage.Rejoin(view, sender, b.getLong()));
                case TYPE_LOG_COPY -> {
                    if (body < LOG_COPY_FIXED_BYTES) {
                        yield Optional.empty();
                    }
                    long op = b.getLong();
                    int ip = b.getInt();
                    int port = b.getShort() & 0xffff;
                    int len = b.getShort() & 0xffff;
                    if (len != body - LOG_COPY_FIXED_BYTES || len > MAX_REQUEST) {
                        yield Optional.empty();
                    }
                    byte[] req = new byte[len];
                    b.get(req);
                    yield Optional.of(new VrMessage.LogCopy(view, sender, op, ip, port, req));
                }
                default -> Optional.empty();
            };
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // a field out of range (negative op): not a message of ours
        }
    }

    private static ByteBuffer header(int type, VrMessage m, int bodyBytes) {
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + bodyBytes);
        return b.putShort((short) MAGIC).put((byte) VERSION).put((byte) type).putInt(m.view())
                .put((byte) m.sender()).put((byte) 0).put((byte) 0).put((byte) 0);
    }

    static void checkHeader(int view, int sender) {
        if (view < 0) {
            throw new IllegalArgumentException("view must be >= 0, got " + view);
        }
        if (sender < 0 || sender >= MAX_MEMBERS) {
            throw new IllegalArgumentException("member index must be 0.." + (MAX_MEMBERS - 1) + ", got " + sender);
        }
    }

    static void checkView(int view) {
        if (view < 0) {
            throw new IllegalArgumentException("view must be >= 0, got " + view);
        }
    }

    static void checkOp(long op) {
        if (op < 0) {
            throw new IllegalArgumentException("op numbers are >= 0, got " + op);
        }
    }

    static void checkPort(int port) {
        if (port < 0 || port > 0xffff) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    static String ipv4(int ip) {
        return (ip >>> 24) + "." + ((ip >>> 16) & 0xff) + "." + ((ip >>> 8) & 0xff) + "." + (ip & 0xff);
    }
}
