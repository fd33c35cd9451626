package dev.xps.compiler.sema;

import dev.xps.compiler.ast.Ast.*;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.IpPrefix;
import dev.xps.compiler.ir.IrConsensus;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrHandler;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.PortRange;
import dev.xps.compiler.ir.Predicate;
import dev.xps.compiler.ir.Verdict;
import dev.xps.runtime.MapLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Semantic analysis of one file: declarations, predicates and their conflicts, dispatch,
 * consensus and tests, with handler bodies delegated to {@link HandlerAnalyzer}. Produces the
 * typed IR when the file has no errors. All checks run even after an error, so one run reports
 * as many problems as it can.
 */
public final class Analyzer {
    private final Program program;
    private final Diagnostics diagnostics;
    private final Map<String, SourceLocation> topLevelNames = new HashMap<>();
    private final Map<String, IrMap> maps = new LinkedHashMap<>();
    private final Set<String> usedMaps = new HashSet<>();
    private final Map<String, HandlerDecl> handlerDecls = new LinkedHashMap<>();
    private final Map<String, IrHandler> handlers = new LinkedHashMap<>();
    private final Set<String> dispatched = new HashSet<>();

    private Analyzer(Program program, Diagnostics diagnostics) {
        this.program = program;
        this.diagnostics = diagnostics;
    }

    /** The IR of {@code program}, or empty when it has errors (reported to {@code diagnostics}). */
    public static Optional<IrModule> analyze(Program program, Diagnostics diagnostics) {
        int before = diagnostics.errorCount();
        IrModule module = new Analyzer(program, diagnostics).run();
        return diagnostics.errorCount() == before ? Optional.of(module) : Optional.empty();
    }

    private IrModule run() {
        for (Item item : program.items()) {
            switch (item) {
                case MapDecl m -> declareName(m.name(), "map").ifPresent(n -> mapDecl(m));
                case HandlerDecl h -> declareName(h.name(), "handler").ifPresent(n -> handlerDecls.put(n, h));
                case DispatchDecl d -> declareName(d.name(), "dispatch");
                case ConsensusDecl c -> declareName(c.name(), "consensus block");
                case TestDecl t -> { }
            }
        }
        for (HandlerDecl h : handlerDecls.values()) {
            handlers.put(h.name().text(), new HandlerAnalyzer(h, maps, usedMaps, diagnostics).analyze());
        }
        List<IrEntryPoint> entryPoints = new ArrayList<>();
        List<IrConsensus> consensus = new ArrayList<>();
        for (Item item : program.items()) {
            switch (item) {
                case HandlerDecl h when h.predicate().isPresent() -> predicate(h.predicate().get()).ifPresent(p ->
                        entryPoints.add(new IrEntryPoint.Direct(h.name().text(), p, handlers.get(h.name().text()),
                                h.location())));
                case DispatchDecl d -> dispatch(d).ifPresent(entryPoints::add);
                case ConsensusDecl c -> consensus(c).ifPresent(consensus::add);
                default -> { }
            }
        }
        checkConflicts(entryPoints, consensus);
        for (HandlerDecl h : handlerDecls.values()) {
            if (h.predicate().isEmpty() && !dispatched.contains(h.name().text())) {
                diagnostics.warning(h.name().location(), "handler '" + h.name().text()
                        + "' has no predicate and no dispatch uses it, so it never runs");
            }
        }
        List<IrTest> tests = tests(entryPoints);
        for (IrMap m : maps.values()) {
            if (!usedMaps.contains(m.name())) {
                diagnostics.warning(m.location(), "map '" + m.name() + "' is never used by a handler");
            }
        }
        return new IrModule(program.file(), List.copyOf(maps.values()), List.copyOf(handlers.values()),
                List.copyOf(entryPoints), List.copyOf(consensus), tests);
    }

    private Optional<String> declareName(Name name, String what) {
        SourceLocation earlier = topLevelNames.putIfAbsent(name.text(), name.location());
        if (earlier != null) {
            diagnostics.error(name.location(), name.text().length(), "'" + name.text()
                    + "' is already declared at line " + earlier.line() + " (maps, handlers, dispatches and "
                    + "consensus blocks share one namespace)");
            return Optional.empty();
        }
        return Optional.of(name.text());
    }

    // ------------------------------------------------------------------ maps

    private void mapDecl(MapDecl m) {
        List<TypeRef> types = m.types();
        int expectedTypes = m.kind() == MapKind.LOG ? 1 : 2;
        String kind = m.kind().name().toLowerCase(java.util.Locale.ROOT);
        if (types.size() != expectedTypes) {
            diagnostics.error(m.location(), m.kind() == MapKind.LOG
                    ? "a log map has one type, its entry: log<bytes[64]>"
                    : "a " + kind + " map has a key and a value type: " + kind + "<u32, bytes[64]>");
            // Still declared (first type as key, last as value), so its uses are not reported as unknown.
        }
        IrType key = m.kind() == MapKind.LOG ? IrType.U64 : type(types.get(0));
        IrType value = type(types.getLast());
        if (m.kind() == MapKind.ARRAY && !(key instanceof IrType.Int)) {
            diagnostics.error(types.get(0).location(), "an array map is indexed by an integer (u8, u16 or u32)");
        }
        if (m.kind() == MapKind.ARRAY && key instanceof IrType.Int i && i.bits() == 64) {
            diagnostics.error(types.get(0).location(), "an array map is indexed by u8, u16 or u32, not u64");
        }
        long capacity = m.capacity();
        if (capacity < 1 || Long.compareUnsigned(capacity, Limits.MAX_CAPACITY) > 0) {
            diagnostics.error(m.location(), "capacity must be between 1 and " + Limits.MAX_CAPACITY + ", not "
                    + Long.toUnsignedString(capacity));
        } else if (m.kind() == MapKind.ARRAY && key instanceof IrType.Int i && i.bits() < 32
                && capacity > (1L << i.bits())) {
            diagnostics.error(m.location(), "capacity " + capacity + " has indexes that do not fit in the key type "
                    + i);
        }
        if (m.stats() && m.kind() == MapKind.LOG) {
            diagnostics.error(m.location(), "per-key stats are not kept for log maps");
        }
        maps.put(m.name().text(), new IrMap(m.name().text(), m.kind(), key, value, capacity, m.stats(), m.location()));
    }

    private IrType type(TypeRef t) {
        return switch (t) {
            case IntTypeRef i -> new IrType.Int(i.bits());
            case BytesTypeRef b -> {
                if (b.size() < 1 || Long.compareUnsigned(b.size(), Limits.MAX_BYTES) > 0) {
                    diagnostics.error(b.location(), "bytes[N] needs 1 <= N <= " + Limits.MAX_BYTES + ", not "
                            + Long.toUnsignedString(b.size()));
                    yield new IrType.Bytes(1);
                }
                yield new IrType.Bytes((int) b.size());
            }
        };
    }

    // ------------------------------------------------------------------ predicates

    private Optional<Predicate> predicate(PredicateAst p) {
        PortRange dst = null;
        PortRange src = null;
        IpPrefix from = null;
        IpPrefix to = null;
        boolean ok = true;
        for (Clause c : p.clauses()) {
            switch (c) {
                case DstPortClause d -> {
                    ok &= once(dst, c, "port");
                    dst = ports(d.ports());
                }
                case SrcPortClause s -> {
                    ok &= once(src, c, "sport");
                    src = ports(s.ports());
                }
                case SrcAddressClause s -> {
                    ok &= once(from, c, "from");
                    from = s.prefix();
                }
                case DstAddressClause d -> {
                    ok &= once(to, c, "to");
                    to = d.prefix();
                }
            }
        }
        if (from != null && to != null && from.isIpv6() != to.isIpv6()) {
            SourceLocation at = p.clauses().stream().filter(c -> c instanceof DstAddressClause).findFirst()
                    .map(Clause::location).orElse(p.location());
            diagnostics.error(at, "'from " + from + "' is " + family(from) + " and 'to " + to + "' is "
                    + family(to) + ": no connection matches both");
            ok = false;
        }
        if (dst == null) {
            diagnostics.error(p.location(), "the predicate needs the service's port: 'on "
                    + p.protocol().name().toLowerCase(java.util.Locale.ROOT) + " port N'");
            return Optional.empty();
        }
        return ok ? Optional.of(new Predicate(p.protocol(), dst, Optional.ofNullable(src), Optional.ofNullable(from),
                Optional.ofNullable(to))) : Optional.empty();
    }

    private static String family(IpPrefix p) {
        return p.isIpv6() ? "IPv6" : "IPv4";
    }

    private boolean once(Object previous, Clause c, String keyword) {
        if (previous != null) {
            diagnostics.error(c.location(), "'" + keyword + "' is given twice in one predicate");
            return false;
        }
        return true;
    }

    private PortRange ports(PortRangeAst r) {
        boolean lowBad = r.low() < 1 || r.low() > 65_535;
        if (lowBad || r.high() < 1 || r.high() > 65_535) {
            long bad = lowBad ? r.low() : r.high();
            diagnostics.error(r.location(), "port " + Long.toUnsignedString(bad) + " is out of range: ports are "
                    + "between 1 and 65535");
            return PortRange.single(1);
        }
        if (r.low() > r.high()) {
            diagnostics.error(r.location(), "port range " + r.low() + ".." + r.high() + " is empty");
            return PortRange.single((int) r.low());
        }
        return new PortRange((int) r.low(), (int) r.high());
    }

    private void checkConflicts(List<IrEntryPoint> entryPoints, List<IrConsensus> consensus) {
        for (int i = 0; i < entryPoints.size(); i++) {
            for (int j = 0; j < i; j++) {
                IrEntryPoint a = entryPoints.get(j);
                IrEntryPoint b = entryPoints.get(i);
                if (a.predicate().overlaps(b.predicate())) {
                    diagnostics.error(b.location(), "'" + b.name() + "' and '" + a.name() + "' (line "
                            + a.location().line() + ") both match " + b.predicate()
                            + "; one entry point per port: combine them with a dispatch");
                }
            }
        }
        // A handler may share a consensus block's port (it runs first; what it passes is ordered), but
        // two consensus blocks on the same packets would order them twice.
        for (int i = 0; i < consensus.size(); i++) {
            for (int j = 0; j < i; j++) {
                IrConsensus a = consensus.get(j);
                IrConsensus b = consensus.get(i);
                if (a.predicate().overlaps(b.predicate())) {
                    diagnostics.error(b.location(), "consensus blocks '" + b.name() + "' and '" + a.name()
                            + "' (line " + a.location().line() + ") both match " + b.predicate()
                            + "; a request can be ordered by only one");
                }
            }
        }
    }

    // ------------------------------------------------------------------ dispatch

    private Optional<IrEntryPoint> dispatch(DispatchDecl d) {
        Optional<Predicate> predicate = predicate(d.predicate());
        int before = diagnostics.errorCount();
        boolean integerSelectors = d.arms().stream().anyMatch(a -> a.selector() instanceof IntSelector);
        boolean bytesSelectors = d.arms().stream().anyMatch(a -> a.selector() instanceof BytesSelector);
        long length = d.length();
        if (d.offset() < 0 || d.offset() > Limits.MAX_BYTES) {
            diagnostics.error(d.location(), "dispatch offset must be between 0 and " + Limits.MAX_BYTES);
        }
        if (integerSelectors && bytesSelectors) {
            diagnostics.error(d.location(), "a dispatch compares either integers or byte strings, not both");
        } else if (integerSelectors && length != 1 && length != 2 && length != 4 && length != 8) {
            diagnostics.error(d.location(), "integer dispatch reads 1, 2, 4 or 8 bytes, not "
                    + Long.toUnsignedString(length));
        } else if (length < 1 || length > Limits.MAX_DISPATCH_BYTES) {
            diagnostics.error(d.location(), "dispatch length must be between 1 and " + Limits.MAX_DISPATCH_BYTES);
        }
        List<IrEntryPoint.Arm> arms = new ArrayList<>();
        IrEntryPoint.Target fallback = null;
        List<Object> seen = new ArrayList<>();
        for (Arm arm : d.arms()) {
            if (fallback != null) {
                diagnostics.error(arm.location(), "unreachable arm: it comes after the default arm '_'");
                armTarget(arm);
                continue;
            }
            Optional<IrEntryPoint.Target> target = armTarget(arm);
            switch (arm.selector()) {
                case WildcardSelector w -> fallback = target.orElse(new IrEntryPoint.Target.ToVerdict(Verdict.PASS));
                case IntSelector i -> {
                    if (length < 8 && length >= 1 && Long.compareUnsigned(i.value(), (1L << (8 * length)) - 1) > 0) {
                        diagnostics.error(arm.location(), Long.toUnsignedString(i.value()) + " does not fit in "
                                + length + " byte" + (length == 1 ? "" : "s"));
                    }
                    if (seen.contains(i.value())) {
                        diagnostics.error(arm.location(), "duplicate arm for " + Long.toUnsignedString(i.value()));
                    }
                    seen.add(i.value());
                    target.ifPresent(t -> arms.add(new IrEntryPoint.Arm(
                            new IrEntryPoint.Selector.IntValue(i.value()), t, arm.location())));
                }
                case BytesSelector b -> {
                    if (b.value().length != length) {
                        diagnostics.error(arm.location(), "this selector has " + b.value().length
                                + " bytes but the dispatch compares " + length);
                    }
                    String key = Arrays.toString(b.value());
                    if (seen.contains(key)) {
                        diagnostics.error(arm.location(), "duplicate arm for this selector");
                    }
                    seen.add(key);
                    target.ifPresent(t -> arms.add(new IrEntryPoint.Arm(
                            new IrEntryPoint.Selector.BytesValue(b.value()), t, arm.location())));
                }
            }
        }
        if (fallback == null) {
            diagnostics.error(d.location(), "dispatch '" + d.name().text()
                    + "' needs a default arm, e.g. '_ => pass;'");
        }
        if (predicate.isEmpty() || diagnostics.errorCount() > before) {
            return Optional.empty();
        }
        return Optional.of(new IrEntryPoint.Dispatch(d.name().text(), predicate.get(), (int) d.offset(),
                (int) length, d.order(), List.copyOf(arms), fallback, d.location()));
    }

    private Optional<IrEntryPoint.Target> armTarget(Arm arm) {
        switch (arm.target()) {
            case VerdictTarget v -> {
                if (v.verdict() == Verdict.TX) {
                    diagnostics.error(arm.location(), "an arm cannot answer 'tx' itself; name a handler that encodes "
                            + "the response");
                }
                return Optional.of(new IrEntryPoint.Target.ToVerdict(v.verdict()));
            }
            case HandlerTarget h -> {
                HandlerDecl decl = handlerDecls.get(h.handler().text());
                if (decl == null) {
                    diagnostics.error(h.handler().location(), h.handler().text().length(), "unknown handler '"
                            + h.handler().text() + "'" + Suggestions.didYouMean(h.handler().text(),
                            handlerDecls.keySet()));
                    return Optional.empty();
                }
                if (decl.predicate().isPresent()) {
                    diagnostics.error(h.handler().location(), h.handler().text().length(), "handler '"
                            + h.handler().text() + "' has its own predicate (line " + decl.location().line()
                            + "); a handler reached through a dispatch is declared without 'on ...'");
                    return Optional.empty();
                }
                dispatched.add(decl.name().text());
                return Optional.of(new IrEntryPoint.Target.ToHandler(handlers.get(decl.name().text())));
            }
        }
    }

    // ------------------------------------------------------------------ consensus

    private Optional<IrConsensus> consensus(ConsensusDecl c) {
        Optional<Predicate> predicate = predicate(c.predicate());
        int before = diagnostics.errorCount();
        Set<Class<?>> given = new HashSet<>();
        long replicas = -1;
        long logCapacity = -1;
        long entryBytes = -1;
        IrConsensus.Ordering ordering = null;
        long threshold = 5;
        for (Setting s : c.settings()) {
            Class<?> kind = s instanceof OrderWhenSetting ? OrderAllSetting.class : s.getClass();
            if (!given.add(kind)) {
                diagnostics.error(s.location(), "this setting is given twice");
                continue;
            }
            switch (s) {
                case ReplicasSetting r -> {
                    replicas = r.count();
                    if (replicas < 3 || replicas > Limits.MAX_REPLICAS) {
                        diagnostics.error(s.location(), "replicas must be between 3 and " + Limits.MAX_REPLICAS
                                + " (2f+1 replicas tolerate f failures)");
                    } else if (replicas % 2 == 0) {
                        diagnostics.warning(s.location(), replicas + " replicas tolerate no more failures than "
                                + (replicas - 1) + "; use an odd number");
                    }
                }
                case LogSetting l -> {
                    logCapacity = l.capacity();
                    entryBytes = l.entryBytes();
                    if (logCapacity < 1 || Long.compareUnsigned(logCapacity, Limits.MAX_CAPACITY) > 0) {
                        diagnostics.error(s.location(), "log capacity must be between 1 and " + Limits.MAX_CAPACITY);
                    }
                    if (entryBytes < 1 || entryBytes > Limits.MAX_BYTES) {
                        diagnostics.error(s.location(), "log entry size must be between 1 and " + Limits.MAX_BYTES);
                    }
                }
                case OrderAllSetting o -> ordering = IrConsensus.Ordering.all();
                case OrderWhenSetting o -> {
                    if (o.offset() < 0 || o.offset() > Limits.MAX_BYTES) {
                        diagnostics.error(s.location(), "offset must be between 0 and " + Limits.MAX_BYTES);
                    }
                    for (long v : o.values()) {
                        if (o.byteWidth() < 8 && Long.compareUnsigned(v, (1L << (8 * o.byteWidth())) - 1) > 0) {
                            diagnostics.error(s.location(), Long.toUnsignedString(v) + " does not fit in "
                                    + o.byteWidth() + " byte" + (o.byteWidth() == 1 ? "" : "s"));
                        }
                    }
                    ordering = new IrConsensus.Ordering(Optional.of(new IrConsensus.Field((int) o.offset(),
                            o.byteWidth(), o.order())), List.copyOf(o.values()));
                }
                case FailureThresholdSetting f -> {
                    threshold = f.multiple();
                    if (threshold < 2 || threshold > 1000) {
                        diagnostics.error(s.location(), "failure_threshold is a multiple of the host RTT average "
                                + "between 2 and 1000");
                    } else if (threshold < 5) {
                        diagnostics.warning(s.location(), "thresholds below 5x the RTT average gave false failure "
                                + "detections in the measurements this design is based on");
                    }
                }
            }
        }
        // Whether a setting was given, not its value: an out-of-range 2^64-1 reads as -1 here.
        if (!given.contains(ReplicasSetting.class)) {
            diagnostics.error(c.location(), "consensus '" + c.name().text() + "' needs 'replicas N;'");
        }
        if (!given.contains(LogSetting.class)) {
            diagnostics.error(c.location(), "consensus '" + c.name().text()
                    + "' needs 'log capacity N entry BYTES;'");
        }
        if (ordering == null) {
            diagnostics.error(c.location(), "consensus '" + c.name().text()
                    + "' needs to say which requests are ordered: 'order all;' or 'order when u8 at 0 in { 1 };'");
        }
        if (predicate.isEmpty() || diagnostics.errorCount() > before) {
            return Optional.empty();
        }
        return Optional.of(new IrConsensus(c.name().text(), predicate.get(), (int) replicas, logCapacity,
                (int) entryBytes, ordering, (int) threshold, c.location()));
    }

    // ------------------------------------------------------------------ tests

    private List<IrTest> tests(List<IrEntryPoint> entryPoints) {
        List<IrTest> out = new ArrayList<>();
        Map<String, SourceLocation> names = new HashMap<>();
        for (Item item : program.items()) {
            if (item instanceof TestDecl t) {
                SourceLocation earlier = names.putIfAbsent(t.name(), t.location());
                if (earlier != null) {
                    diagnostics.error(t.location(), "a test named \"" + t.name() + "\" already exists at line "
                            + earlier.line());
                }
                new TestAnalyzer(t, maps, handlerDecls, entryPoints, diagnostics).analyze().ifPresent(out::add);
            }
        }
        return List.copyOf(out);
    }

    /** Exposed to {@link TestAnalyzer}: a test value in the canonical layout of a map slot. */
    static Optional<byte[]> encode(TestValue value, IrType slot, SourceLocation at, String what,
                                   Diagnostics diagnostics) {
        switch (slot) {
            case IrType.Int i -> {
                if (!(value instanceof IntValue iv)) {
                    diagnostics.error(at, "the " + what + " is " + i + "; give a number");
                    return Optional.empty();
                }
                if (i.bits() < 64 && Long.compareUnsigned(iv.value(), (1L << i.bits()) - 1) > 0) {
                    diagnostics.error(at, Long.toUnsignedString(iv.value()) + " does not fit in the " + what
                            + " (" + i + ")");
                    return Optional.empty();
                }
                return Optional.of(MapLayout.encodeInt(iv.value(), i.byteWidth()));
            }
            case IrType.Bytes b -> {
                if (!(value instanceof BytesValue bv)) {
                    diagnostics.error(at, "the " + what + " is " + b + "; give a string");
                    return Optional.empty();
                }
                if (bv.value().length > b.maxLength()) {
                    diagnostics.error(at, "this is " + bv.value().length + " bytes but the " + what
                            + " holds at most " + b.maxLength());
                    return Optional.empty();
                }
                return Optional.of(bv.value());
            }
            case IrType.Bool b -> throw new IllegalStateException("bool map slot");
        }
    }
}
