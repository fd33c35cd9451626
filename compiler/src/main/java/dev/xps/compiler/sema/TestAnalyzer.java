package dev.xps.compiler.sema;

import dev.xps.compiler.ast.Ast.*;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.IrEntryPoint;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.MapKind;
import dev.xps.compiler.ir.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Checks one test block and lowers it. Every {@code send} is followed by exactly one
 * {@code expect <verdict>}; the pair becomes one {@link IrTest.Send} step.
 */
final class TestAnalyzer {
    private final TestDecl test;
    private final Map<String, IrMap> maps;
    private final Map<String, HandlerDecl> handlers;
    private final List<IrEntryPoint> entryPoints;
    private final Diagnostics diagnostics;

    TestAnalyzer(TestDecl test, Map<String, IrMap> maps, Map<String, HandlerDecl> handlers,
                 List<IrEntryPoint> entryPoints, Diagnostics diagnostics) {
        this.test = test;
        this.maps = maps;
        this.handlers = handlers;
        this.entryPoints = entryPoints;
        this.diagnostics = diagnostics;
    }

    Optional<IrTest> analyze() {
        int before = diagnostics.errorCount();
        List<IrTest.Step> steps = new ArrayList<>();
        List<TestStep> ast = test.steps();
        boolean sends = false;
        for (int i = 0; i < ast.size(); i++) {
            TestStep step = ast.get(i);
            switch (step) {
                case SetupStep s -> map(s.map()).ifPresent(m -> {
                    if (m.kind() == MapKind.LOG) {
                        diagnostics.error(s.location(), "fill a log map with 'append " + m.name() + " VALUE;'");
                        return;
                    }
                    Optional<byte[]> key = key(m, s.key(), s.location());
                    Optional<byte[]> value = Analyzer.encode(s.value(), m.valueType(), s.location(),
                            "value of map '" + m.name() + "'", diagnostics);
                    if (key.isPresent() && value.isPresent()) {
                        steps.add(new IrTest.Put(m, key.get(), value.get(), s.location()));
                    }
                });
                case AppendSetupStep a -> map(a.map()).ifPresent(m -> {
                    if (m.kind() != MapKind.LOG) {
                        diagnostics.error(a.location(), "'append' fills log maps; '" + m.name() + "' is not one "
                                + "(use " + m.name() + "[key] = value;)");
                        return;
                    }
                    Analyzer.encode(a.value(), m.valueType(), a.location(), "entry of log '" + m.name() + "'",
                            diagnostics).ifPresent(v -> steps.add(new IrTest.Append(m, v, a.location())));
                });
                case SendStep s -> {
                    sends = true;
                    Optional<IrEntryPoint> entry = entry(s);
                    if (s.payload().length > Limits.MAX_BYTES) {
                        diagnostics.error(s.location(), "a sent payload is limited to " + Limits.MAX_BYTES + " bytes");
                    }
                    if (i + 1 >= ast.size() || !(ast.get(i + 1) instanceof ExpectVerdictStep expect)) {
                        diagnostics.error(s.location(), "a send must be followed by 'expect tx \"...\";', "
                                + "'expect pass;', 'expect drop;' or 'expect reset;'");
                        continue;
                    }
                    i++;
                    Optional<byte[]> response = expect.response();
                    if (expect.verdict() == Verdict.TX && response.isEmpty()) {
                        diagnostics.error(expect.location(), "'expect tx' needs the exact response bytes: "
                                + "expect tx \"...\";");
                    } else if (expect.verdict() != Verdict.TX && response.isPresent()) {
                        diagnostics.error(expect.location(), "only 'expect tx' takes response bytes");
                    }
                    entry.ifPresent(e -> steps.add(new IrTest.Send(e, s.payload(), expect.verdict(), response,
                            s.location())));
                }
                case ExpectVerdictStep e -> diagnostics.error(e.location(),
                        "'expect " + e.verdict().keyword() + "' must follow a send");
                case ExpectEntryStep e -> map(e.map()).ifPresent(m -> {
                    Optional<byte[]> key = key(m, e.key(), e.location());
                    Optional<byte[]> value = Analyzer.encode(e.value(), m.valueType(), e.location(),
                            "value of map '" + m.name() + "'", diagnostics);
                    if (key.isPresent() && value.isPresent()) {
                        steps.add(new IrTest.ExpectEntry(m, key.get(), value.get(), e.location()));
                    }
                });
                case ExpectMissingStep e -> map(e.map()).ifPresent(m -> key(m, e.key(), e.location()).ifPresent(k -> {
                    // Every slot of an array exists (it starts zero): such an expectation could never hold.
                    if (m.kind() == MapKind.ARRAY) {
                        diagnostics.error(e.location(), "every slot of array '" + m.name() + "' exists (slots start"
                                + " zero), so it is never missing; check its value: 'expect " + m.name()
                                + "[...] == ...;'");
                        return;
                    }
                    steps.add(new IrTest.ExpectMissing(m, k, e.location()));
                }));
            }
        }
        if (!sends) {
            diagnostics.error(test.location(), "test \"" + test.name() + "\" sends nothing; add 'send \"...\";' "
                    + "and an expectation");
        }
        return diagnostics.errorCount() == before ? Optional.of(new IrTest(test.name(), List.copyOf(steps),
                test.location())) : Optional.empty();
    }

    private Optional<byte[]> key(IrMap m, TestValue key, SourceLocation at) {
        if (m.kind() == MapKind.ARRAY && key instanceof IntValue iv
                && Long.compareUnsigned(iv.value(), m.capacity()) >= 0) {
            diagnostics.error(at, "index " + Long.toUnsignedString(iv.value()) + " is outside array '" + m.name()
                    + "' (capacity " + m.capacity() + ")");
            return Optional.empty();
        }
        IrType keyType = m.keyType();
        return Analyzer.encode(key, keyType, at, "key of map '" + m.name() + "'", diagnostics);
    }

    private Optional<IrMap> map(Name name) {
        IrMap m = maps.get(name.text());
        if (m == null) {
            diagnostics.error(name.location(), name.text().length(), "unknown map '" + name.text() + "'"
                    + Suggestions.didYouMean(name.text(), maps.keySet()));
        }
        return Optional.ofNullable(m);
    }

    private Optional<IrEntryPoint> entry(SendStep s) {
        if (s.entry().isEmpty()) {
            if (entryPoints.size() == 1) {
                return Optional.of(entryPoints.getFirst());
            }
            diagnostics.error(s.location(), entryPoints.isEmpty()
                    ? "this file has no handler with a predicate (or dispatch) to send to"
                    : "this file has " + entryPoints.size() + " entry points; say which one: 'send to "
                            + entryPoints.getFirst().name() + " \"...\";'");
            return Optional.empty();
        }
        Name name = s.entry().get();
        for (IrEntryPoint e : entryPoints) {
            if (e.name().equals(name.text())) {
                return Optional.of(e);
            }
        }
        HandlerDecl handler = handlers.get(name.text());
        if (handler != null && handler.predicate().isEmpty()) {
            diagnostics.error(name.location(), name.text().length(), "handler '" + name.text()
                    + "' has no predicate; send to the dispatch that reaches it");
        } else {
            diagnostics.error(name.location(), name.text().length(), "unknown entry point '" + name.text() + "'"
                    + Suggestions.didYouMean(name.text(), entryPoints.stream().map(IrEntryPoint::name).toList()));
        }
        return Optional.empty();
    }
}
