package dev.xps.stack.sample;

import dev.xps.runtime.MapStore;
import dev.xps.runtime.ValueType;
import dev.xps.runtime.XpsMap;
import dev.xps.stack.ConnectionInfo;
import dev.xps.stack.Service;
import dev.xps.stack.ServiceReply;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A small Redis-protocol key-value service behind {@code samples/redis-get.xps}. Its store IS the
 * handlers' map ({@code cache}): GETs the fast path misses and every SET/DEL come here, and SET
 * stores into the same map the write handler already updated, so the fast path and the service
 * always answer alike. Keys or values too large for the map's declared types live in a side
 * table (and are removed from the map, so the fast path passes them here).
 *
 * <p>Commands: GET, SET (NX/XX honoured; EX/PX/KEEPTTL accepted and ignored: no expiry), DEL,
 * EXISTS, PING, ECHO, DBSIZE, FLUSHALL/FLUSHDB, SELECT, QUIT, and what redis-cli and
 * redis-benchmark send on connect (CONFIG GET, COMMAND, CLIENT, INFO). Others get
 * {@code -ERR unknown command}.
 */
public final class KvService implements Service {
    private final MapStore maps;
    private final String mapName;
    private volatile XpsMap cache;
    private final ConcurrentHashMap<ByteBuffer, byte[]> overflow = new ConcurrentHashMap<>();
    /**
     * The keys the service holds. The write handlers have already removed a key from the map when
     * a DEL reaches the service, so the map alone cannot say whether DEL deleted something.
     */
    private final java.util.Set<ByteBuffer> present = ConcurrentHashMap.newKeySet();

    public KvService(MapStore maps, String mapName) {
        this.maps = maps;
        this.mapName = mapName;
    }

    private XpsMap cache() {
        XpsMap m = cache;
        if (m == null) {
            m = maps.get(mapName);
            cache = m;
        }
        return m;
    }

    @Override
    public Session open(ConnectionInfo connection) {
        return new KvSession();
    }

    private final class KvSession implements Session {
        private final StreamBuffer in = new StreamBuffer();

        @Override
        public CompletionStage<ServiceReply> received(byte[] bytes) {
            in.append(bytes);
            Resp.Out out = new Resp.Out();
            int at = 0;
            boolean close = false;
            try {
                while (!close) {
                    Resp.Command c = Resp.parse(in.array(), at, in.length());
                    if (c == null) {
                        break;
                    }
                    at = c.next();
                    if (!c.args().isEmpty()) {
                        close = execute(c, out);
                    }
                }
            } catch (Resp.ProtocolError e) {
                Resp.error(out, "ERR Protocol error: " + e.getMessage());
                in.consume(in.length());
                return CompletableFuture.completedFuture(new ServiceReply(out.toByteArray(), true, true));
            }
            in.consume(at);
            return CompletableFuture.completedFuture(new ServiceReply(out.toByteArray(), in.isEmpty(), close));
        }
    }

    /** Runs one command; true when the connection should close after the reply. */
    private boolean execute(Resp.Command c, Resp.Out out) {
        List<byte[]> a = c.args();
        switch (c.name()) {
            case "GET" -> {
                if (a.size() != 2) {
                    return arity(out, "get");
                }
                Resp.bulk(out, get(a.get(1)));
            }
            case "SET" -> {
                if (a.size() < 3) {
                    return arity(out, "set");
                }
                boolean nx = false;
                boolean xx = false;
                for (int i = 3; i < a.size(); i++) {
                    String opt = new String(a.get(i), StandardCharsets.ISO_8859_1).toUpperCase(Locale.ROOT);
                    switch (opt) {
                        case "NX" -> nx = true;
                        case "XX" -> xx = true;
                        case "EX", "PX", "EXAT", "PXAT" -> i++;
                        default -> { }
                    }
                }
                boolean exists = get(a.get(1)) != null;
                if ((nx && exists) || (xx && !exists)) {
                    Resp.bulk(out, null);
                } else {
                    set(a.get(1), a.get(2));
                    Resp.simple(out, "OK");
                }
            }
            case "DEL" -> {
                long n = 0;
                for (int i = 1; i < a.size(); i++) {
                    n += delete(a.get(i)) ? 1 : 0;
                }
                Resp.integer(out, n);
            }
            case "EXISTS" -> {
                long n = 0;
                for (int i = 1; i < a.size(); i++) {
                    n += get(a.get(i)) != null ? 1 : 0;
                }
                Resp.integer(out, n);
            }
            case "PING" -> {
                if (a.size() > 1) {
                    Resp.bulk(out, a.get(1));
                } else {
                    Resp.simple(out, "PONG");
                }
            }
            case "ECHO" -> {
                if (a.size() != 2) {
                    return arity(out, "echo");
                }
                Resp.bulk(out, a.get(1));
            }
            case "DBSIZE" -> Resp.integer(out, present.size());
            case "FLUSHALL", "FLUSHDB" -> {
                for (XpsMap.Entry e : cache().entries()) {
                    cache().delete(e.key());
                }
                overflow.clear();
                present.clear();
                Resp.simple(out, "OK");
            }
            case "SELECT", "CLIENT", "RESET" -> Resp.simple(out, "OK");
            case "QUIT" -> {
                Resp.simple(out, "OK");
                return true;
            }
            case "CONFIG" -> config(a, out);
            case "COMMAND" -> Resp.array(out, 0);
            case "INFO" -> Resp.bulk(out, ("# Server\r\nredis_version:7.0.0-xps\r\nredis_mode:standalone\r\n"
                    + "# Keyspace\r\n").getBytes(StandardCharsets.ISO_8859_1));
            default -> Resp.error(out, "ERR unknown command '" + new String(a.get(0), StandardCharsets.ISO_8859_1) + "'");
        }
        return false;
    }

    /** redis-benchmark asks for "save" and "appendonly" before it starts. */
    private static void config(List<byte[]> a, Resp.Out out) {
        if (a.size() == 3 && new String(a.get(1), StandardCharsets.ISO_8859_1).equalsIgnoreCase("GET")) {
            String p = new String(a.get(2), StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
            String value = switch (p) {
                case "save" -> "";
                case "appendonly" -> "no";
                case "databases" -> "1";
                default -> null;
            };
            if (value == null) {
                Resp.array(out, 0);
            } else {
                Resp.array(out, 2);
                Resp.bulk(out, p.getBytes(StandardCharsets.ISO_8859_1));
                Resp.bulk(out, value.getBytes(StandardCharsets.ISO_8859_1));
            }
            return;
        }
        Resp.simple(out, "OK");
    }

    private static boolean arity(Resp.Out out, String command) {
        Resp.error(out, "ERR wrong number of arguments for '" + command + "' command");
        return false;
    }

    private boolean fitsKey(byte[] key) {
        return cache().spec().keyType().accepts(key) && (cache().spec().keyType() instanceof ValueType.Bytes);
    }

    private byte[] get(byte[] key) {
        if (fitsKey(key)) {
            byte[] v = cache().get(key);
            if (v != null) {
                return v;
            }
        }
        return overflow.get(ByteBuffer.wrap(key));
    }

    private void set(byte[] key, byte[] value) {
        present.add(ByteBuffer.wrap(key.clone()));
        if (fitsKey(key) && cache().spec().valueType().accepts(value) && cache().put(key, value)) {
            overflow.remove(ByteBuffer.wrap(key));
            return;
        }
        if (fitsKey(key)) {
            cache().delete(key);
        }
        overflow.put(ByteBuffer.wrap(key.clone()), value.clone());
    }

    private boolean delete(byte[] key) {
        boolean inMap = fitsKey(key) && cache().delete(key);
        boolean inOverflow = overflow.remove(ByteBuffer.wrap(key)) != null;
        return present.remove(ByteBuffer.wrap(key)) | inMap | inOverflow;
    }
}
