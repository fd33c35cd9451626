package dev.xps.stack;

import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.Malformed;
import dev.xps.runtime.MapKind;
import dev.xps.runtime.MapSpec;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.Message;
import dev.xps.runtime.Predicate;
import dev.xps.runtime.Response;
import dev.xps.runtime.ValueType;
import dev.xps.runtime.Verdict;
import dev.xps.runtime.XpsMap;
import dev.xps.runtime.XpsProgram;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A hand-written program (what xpsc would generate for a small line protocol), so the stack's
 * tests need no compiler: one message per line ({@code until "\n" max 200}).
 * {@code GET k} answers {@code <prefix>v\n} from map {@code kv} (a miss passes), {@code SET k v}
 * updates the map and passes (a write handler), {@code DROP} drops, {@code RESET} resets,
 * anything else passes.
 */
final class LineProgram implements XpsProgram {
    static final MapSpec KV = new MapSpec("kv", MapKind.HASH, new ValueType.Bytes(16), new ValueType.Bytes(64), 1000, true);
    static final int PORT = 7000;
    private static final byte[] NL = {'\n'};

    private final XpsMap kv;
    private final String prefix;
    private final List<EntryPoint> entries;

    LineProgram(MapStore store, String prefix) {
        this(store, prefix, Predicate.tcp(PORT));
    }

    /** With {@code line}, the TCP entry, on {@code tcp} (e.g. narrowed by an address prefix). */
    LineProgram(MapStore store, String prefix, Predicate tcp) {
        this.kv = store.open(KV);
        this.prefix = prefix;
        this.entries = List.of(new EntryPoint("line", tcp, this::handle),
                new EntryPoint("dgram", Predicate.udp(PORT), this::handle));
    }

    @Override
    public String sourceFile() {
        return "line.xps";
    }

    @Override
    public List<MapSpec> maps() {
        return List.of(KV);
    }

    @Override
    public List<EntryPoint> entryPoints() {
        return entries;
    }

    private Verdict handle(Message msg, Response out) {
        byte[] line;
        try {
            line = msg.until(NL, 200);
            msg.endDecode();
        } catch (Malformed m) {
            return msg.malformed(Verdict.PASS);
        }
        String[] words = new String(line, StandardCharsets.ISO_8859_1).split(" ");
        switch (words[0]) {
            case "GET" -> {
                if (words.length != 2) {
                    return Verdict.PASS;
                }
                byte[] v = kv.lookup(words[1].getBytes(StandardCharsets.ISO_8859_1));
                if (v == null) {
                    return Verdict.PASS;
                }
                out.append(prefix.getBytes(StandardCharsets.ISO_8859_1)).append(v).append(NL);
                return Verdict.TX;
            }
            case "SET" -> {
                if (words.length == 3) {
                    kv.put(words[1].getBytes(StandardCharsets.ISO_8859_1), words[2].getBytes(StandardCharsets.ISO_8859_1));
                }
                return Verdict.PASS;
            }
            case "DROP" -> {
                return Verdict.DROP;
            }
            case "RESET" -> {
                return Verdict.RESET;
            }
            default -> {
                return Verdict.PASS;
            }
        }
    }
}
