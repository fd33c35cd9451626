package dev.xps.compiler.target;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.DecodeOp;
import dev.xps.compiler.ir.EncodeItem;
import dev.xps.compiler.ir.IrConsensus;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrExpr;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrStmt;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Predicate;
import dev.xps.compiler.ir.Protocol;
import dev.xps.compiler.ir.Verdict;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Refuses, with one diagnostic per construct and line, whatever a target cannot express. Runs on
 * the IR, after semantic analysis, so every location is a real source position.
 */
public final class CapabilityChecker {
    private final String target;
    private final Capabilities caps;
    private final Diagnostics diagnostics;
    /** One report per construct and line is enough; a loop over arms must not repeat it. */
    private final Set<String> reported = new HashSet<>();

    private CapabilityChecker(String target, Capabilities caps, Diagnostics diagnostics) {
        this.target = target;
        this.caps = caps;
        this.diagnostics = diagnostics;
    }

    /** Returns true when the module fits the target. */
    public static boolean check(IrModule module, Backend backend, Diagnostics diagnostics) {
        int before = diagnostics.errorCount();
        new CapabilityChecker(backend.name(), backend.capabilities(), diagnostics).module(module);
        return diagnostics.errorCount() == before;
    }

    private void module(IrModule m) {
        for (IrMap map : m.maps()) {
            if (map.kind() == MapKind.LOG) {
                require(Feature.LOG_MAPS, map.location());
            }
            if (map.stats()) {
                require(Feature.MAP_STATS, map.location());
            }
            if (map.valueType() instanceof IrType.Bytes) {
                require(Feature.BYTES_MAP_VALUES, map.location());
            }
            limit(size(map.keyType()), caps.maxKeyBytes(), "key of map '" + map.name() + "'", map.location());
            limit(size(map.valueType()), caps.maxValueBytes(), "value of map '" + map.name() + "'", map.location());
            if (map.capacity() > caps.maxMapCapacity()) {
                refuse(map.location(), "map '" + map.name() + "' has capacity " + map.capacity()
                        + " but target '" + target + "' holds at most " + caps.maxMapCapacity() + " entries");
            }
        }
        for (IrEntryPoint e : m.entryPoints()) {
            predicate(e.predicate(), e.location());
            if (e instanceof IrEntryPoint.Dispatch d) {
                require(Feature.DISPATCH, d.location());
            }
        }
        for (IrHandler h : m.handlers()) {
            handler(h);
        }
        // A consensus block is a separate data plane beside the handlers: a target that does not
        // lower it still serves the file's handlers, so this is a warning, not a refusal.
        for (IrConsensus c : m.consensus()) {
            if (!caps.supports(Feature.CONSENSUS)) {
                diagnostics.warning(c.location(), "target '" + target + "' does not lower consensus blocks; '"
                        + c.name() + "' is checked but not compiled for it");
            }
        }
    }

    private void predicate(Predicate p, SourceLocation at) {
        require(p.protocol() == Protocol.TCP ? Feature.TCP : Feature.UDP, at);
        if (p.srcAddress().isPresent() || p.dstAddress().isPresent()) {
            require(Feature.ADDRESS_MATCH, at);
            if (p.isIpv6()) {
                require(Feature.IPV6_ADDRESS_MATCH, at);
            }
        }
        if (p.srcPort().isPresent()) {
            require(Feature.SOURCE_PORT_MATCH, at);
        }
    }

    private void handler(IrHandler h) {
        if (h.write()) {
            require(Feature.WRITE_HANDLERS, h.location());
        }
        limit(h.maxMessageBytes(), caps.maxMessageBytes(), "a message of handler '" + h.name() + "'", h.location());
        limit(h.maxResponseBytes(), caps.maxResponseBytes(), "the response of handler '" + h.name() + "'",
                h.location());
        lengths.clear();
        statements(h.body());
        positions(h.body(), Len.known(0));
    }

    private void statements(List<IrStmt> body) {
        for (IrStmt s : body) {
            switch (s) {
                case IrStmt.Decode d -> {
                    verdict(d.onMalformed(), d.location());
                    d.ops().forEach(this::decodeOp);
                }
                case IrStmt.Let l -> {
                    expr(l.value(), l.location());
                    if (l.target().type() instanceof IrType.Bytes) {
                        lengths.put(l.target().name(), length(l.value()));
                    }
                }
                case IrStmt.Lookup l -> {
                    expr(l.key(), l.location());
                    key(l.map(), l.key(), l.location());
                    verdict(l.onMiss(), l.location());
                    if (l.target().type() instanceof IrType.Bytes) {
                        // A bytes value in a map can be shorter than the declared maximum.
                        lengths.put(l.target().name(), Len.unknown(Feature.BYTES_MAP_VALUES));
                    }
                }
                case IrStmt.Update u -> {
                    mapWrite(u.map(), u.location());
                    expr(u.key(), u.location());
                    key(u.map(), u.key(), u.location());
                    expr(u.value(), u.location());
                    u.onFull().ifPresent(v -> verdict(v, u.location()));
                }
                case IrStmt.Delete d -> {
                    mapWrite(d.map(), d.location());
                    expr(d.key(), d.location());
                    key(d.map(), d.key(), d.location());
                }
                case IrStmt.Append a -> {
                    require(Feature.MAP_WRITES, a.location());
                    expr(a.value(), a.location());
                    verdict(a.onFull(), a.location());
                }
                case IrStmt.If i -> {
                    expr(i.condition(), i.location());
                    statements(i.then());
                    statements(i.otherwise());
                }
                case IrStmt.Encode e -> {
                    for (EncodeItem item : e.items()) {
                        switch (item) {
                            case EncodeItem.Decimal dec -> {
                                require(Feature.DECIMAL_TEXT, e.location());
                                expr(dec.value(), e.location());
                            }
                            case EncodeItem.IntBinary b -> expr(b.value(), e.location());
                            case EncodeItem.Value v -> expr(v.bytes(), e.location());
                            case EncodeItem.Literal l -> { }
                        }
                    }
                }
                case IrStmt.Return r -> verdict(r.verdict(), r.location());
            }
        }
    }

    private void decodeOp(DecodeOp op) {
        SourceLocation at = op.location();
        switch (op) {
            case DecodeOp.Expect e -> {
                if (e.caseInsensitive()) {
                    require(Feature.CASE_INSENSITIVE_MATCH, at);
                }
            }
            case DecodeOp.Decimal d -> require(Feature.DECIMAL_TEXT, at);
            case DecodeOp.VarBytes v -> {
                require(Feature.VARIABLE_LENGTH_FIELDS, at);
                expr(v.length(), at);
                lengths.put(v.target().name(), Len.unknown(Feature.VARIABLE_LENGTH_FIELDS));
            }
            case DecodeOp.Until u -> {
                require(Feature.VARIABLE_LENGTH_FIELDS, at);
                lengths.put(u.target().name(), Len.unknown(Feature.VARIABLE_LENGTH_FIELDS));
            }
            case DecodeOp.SkipVar s -> {
                require(Feature.VARIABLE_LENGTH_FIELDS, at);
                expr(s.count(), at);
            }
            case DecodeOp.SkipUntil s -> require(Feature.VARIABLE_LENGTH_FIELDS, at);
            case DecodeOp.Frame f -> {
                require(Feature.EXPLICIT_FRAME, at);
                expr(f.length(), at);
            }
            case DecodeOp.Require r -> expr(r.condition(), at);
            case DecodeOp.Skip s -> { }
            case DecodeOp.FixedBytes f -> lengths.put(f.target().name(), Len.known(f.size()));
            case DecodeOp.IntField f -> { }
        }
    }

    private void expr(IrExpr e, SourceLocation at) {
        switch (e) {
            case IrExpr.Binary b -> {
                if (b.op() == IrExpr.BinaryOp.MUL) {
                    require(Feature.MULTIPLICATION, at);
                }
                expr(b.left(), at);
                expr(b.right(), at);
            }
            case IrExpr.Not n -> expr(n.operand(), at);
            case IrExpr.Length l -> expr(l.operand(), at);
            case IrExpr.IntConst c -> { }
            case IrExpr.BoolConst c -> { }
            case IrExpr.BytesConst c -> { }
            case IrExpr.LocalRef r -> { }
        }
    }

    private void verdict(Verdict v, SourceLocation at) {
        if (v == Verdict.RESET) {
            require(Feature.RESET_VERDICT, at);
        }
    }

    /** An update or delete: a map write, and on a hash map a write the control plane may own. */
    private void mapWrite(IrMap map, SourceLocation at) {
        require(Feature.MAP_WRITES, at);
        if (map.kind() == MapKind.HASH && caps.supports(Feature.MAP_WRITES)) {
            require(Feature.HASH_MAP_WRITES, at);
        }
    }

    /** A key into a map with bytes[N] keys must be exactly N bytes on a target without the feature. */
    private void key(IrMap map, IrExpr key, SourceLocation at) {
        if (map.keyType() instanceof IrType.Bytes b) {
            Len n = length(key);
            if (n.exact() != b.maxLength() && !refusedElsewhere(n)) {
                require(Feature.BYTES_KEYS_OF_OTHER_LENGTHS, at);
            }
        }
    }

    // ------------------------------------------------------------------ lengths known at compile time

    /**
     * The length of a bytes value or a response position: {@code exact} when known at compile time,
     * else -1 with the feature that made it unknown ({@code null}: branches that differ).
     */
    private record Len(int exact, Feature cause) {
        static final Len RETURNED = new Len(-2, null);

        static Len known(int n) {
            return new Len(n, null);
        }

        static Len unknown(Feature cause) {
            return new Len(-1, cause);
        }

        boolean isKnown() {
            return exact >= 0;
        }
    }

    /** The bytes locals of the handler being checked: their lengths, as far as the compiler knows them. */
    private final Map<String, Len> lengths = new HashMap<>();

    /**
     * Whether an unknown length comes from a construct the target refuses where it is written: then
     * that refusal is the one to report, not a second one at every use of the value.
     */
    private boolean refusedElsewhere(Len n) {
        return !n.isKnown() && n.cause() != null && !caps.supports(n.cause());
    }

    private Len length(IrExpr e) {
        return switch (e) {
            case IrExpr.BytesConst c -> Len.known(c.value().length);
            case IrExpr.LocalRef r -> lengths.getOrDefault(r.local().name(), Len.unknown(null));
            default -> Len.unknown(null);
        };
    }

    /**
     * Walks the response positions: reports an encode that starts where the response length is not
     * known at compile time. Returns the length after {@code body}, or {@link Len#RETURNED} when every
     * path through it returned.
     */
    private Len positions(List<IrStmt> body, Len pos) {
        for (IrStmt s : body) {
            switch (s) {
                case IrStmt.Encode e -> {
                    for (EncodeItem item : e.items()) {
                        if (!pos.isKnown()) {
                            if (!refusedElsewhere(pos)) {
                                require(Feature.ENCODE_AT_VARIABLE_POSITION, e.location());
                            }
                            return Len.RETURNED;  // one report per path is enough
                        }
                        Len n = switch (item) {
                            case EncodeItem.Literal l -> Len.known(l.bytes().length);
                            case EncodeItem.IntBinary b -> Len.known(b.byteWidth());
                            case EncodeItem.Decimal d -> Len.unknown(Feature.DECIMAL_TEXT);
                            case EncodeItem.Value v -> length(v.bytes());
                        };
                        pos = n.isKnown() ? Len.known(pos.exact() + n.exact()) : n;
                    }
                }
                case IrStmt.If i -> {
                    Len a = positions(i.then(), pos);
                    Len b = positions(i.otherwise(), pos);
                    if (a == Len.RETURNED) {
                        pos = b;
                    } else if (b == Len.RETURNED) {
                        pos = a;
                    } else if (a.isKnown() && b.isKnown()) {
                        pos = a.exact() == b.exact() ? a : Len.unknown(null);
                    } else if (!a.isKnown() && !b.isKnown()) {
                        pos = a.cause() == null || b.cause() == null ? Len.unknown(null) : a;
                    } else {
                        pos = a.isKnown() ? b : a;
                    }
                    if (pos == Len.RETURNED) {
                        return pos;
                    }
                }
                case IrStmt.Return r -> {
                    return Len.RETURNED;
                }
                default -> { }
            }
        }
        return pos;
    }

    private void require(Feature f, SourceLocation at) {
        if (!caps.supports(f)) {
            refuse(at, "target '" + target + "' cannot express " + f.construct()
                    + caps.reason(f).map(r -> ": " + r).orElse(""));
        }
    }

    private void limit(int needed, int allowed, String what, SourceLocation at) {
        if (needed > allowed) {
            refuse(at, what + " can be " + needed + " bytes but target '" + target + "' allows at most " + allowed);
        }
    }

    private void refuse(SourceLocation at, String message) {
        if (reported.add(at + message)) {
            diagnostics.error(at, message);
        }
    }

    private static int size(IrType t) {
        return switch (t) {
            case IrType.Int i -> i.byteWidth();
            case IrType.Bytes b -> b.maxLength();
            case IrType.Bool b -> 1;
        };
    }
}
