package dev.xps.backend.java;

import dev.xps.compiler.diag.SourceLocation;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.runtime.Bytes;
import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.MapKind;
import dev.xps.runtime.MapSpec;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.SegmentProcessor;
import dev.xps.runtime.SegmentResult;
import dev.xps.runtime.ValueType;
import dev.xps.runtime.Verdict;
import dev.xps.runtime.XpsMap;
import dev.xps.runtime.XpsProgram;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Runs a module's in-language tests on the Java target, in this JVM: compiles the generated class
 * in memory, and for every test builds fresh in-memory maps from the module's declarations, a
 * fresh program and a fresh {@link SegmentProcessor}, then plays the steps in order. A test stops
 * at its first failing step; the outcome's detail names that step's line and shows expected and
 * actual bytes escaped the way the source writes them.
 */
public final class JavaTestRunner implements Backend.TestRunner {

    /** The generated code did not compile or load: always a bug in xpsc, never in the user's handler. */
    public static final class GeneratedCodeException extends Exception {
        private static final long serialVersionUID = 1L;

        GeneratedCodeException(String message) {
            super(message);
        }
    }

    @Override
    public Optional<String> unavailableReason() {
        return InMemoryJavaCompiler.unavailableReason();
    }

    @Override
    public List<TestOutcome> run(IrModule module, List<GeneratedFile> files) {
        Function<MapStore, XpsProgram> factory;
        try {
            factory = load(module, files);
        } catch (GeneratedCodeException e) {
            return module.tests().stream()
                    .map(t -> new TestOutcome(t.name(), t.location(), false, e.getMessage()))
                    .toList();
        }
        List<TestOutcome> outcomes = new ArrayList<>();
        for (IrTest test : module.tests()) {
            outcomes.add(run(module, test, factory));
        }
        return outcomes;
    }

    /**
     * Compiles the module's generated Java ({@code files}, or freshly generated when they hold no
     * Java source) and returns a way to build the program over a map store.
     */
    public static Function<MapStore, XpsProgram> load(IrModule module, List<GeneratedFile> files)
            throws GeneratedCodeException {
        Map<String, String> sources = new LinkedHashMap<>();
        for (GeneratedFile f : files) {
            if (f.relativePath().endsWith(".java")) {
                sources.put(className(f.relativePath()), new String(f.content(), StandardCharsets.UTF_8));
            }
        }
        JavaGenerator generator = new JavaGenerator(module);
        if (sources.isEmpty()) {
            sources.put(generator.qualifiedClassName(), generator.generate());
        }
        String what = "the generated Java for " + Comments.fileName(module.sourceFile());
        Optional<String> unavailable = InMemoryJavaCompiler.unavailableReason();
        if (unavailable.isPresent()) {
            throw new GeneratedCodeException("cannot run Java tests: " + unavailable.get());
        }
        ClassLoader loader = switch (InMemoryJavaCompiler.compile(sources)) {
            case InMemoryJavaCompiler.Result.Failed f -> throw new GeneratedCodeException(
                    what + " does not compile (a bug in xpsc, please report it):\n" + f.diagnostics());
            case InMemoryJavaCompiler.Result.Loaded l -> l.loader();
        };
        try {
            Class<? extends XpsProgram> type = Class.forName(generator.qualifiedClassName(), true, loader)
                    .asSubclass(XpsProgram.class);
            Constructor<? extends XpsProgram> constructor = type.getConstructor(MapStore.class);
            return store -> {
                try {
                    return constructor.newInstance(store);
                } catch (InvocationTargetException e) {
                    throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            };
        } catch (ReflectiveOperationException | ClassCastException e) {
            throw new GeneratedCodeException(what + " does not load (a bug in xpsc, please report it): " + e);
        }
    }

    /** {@code java/xps/generated/RedisGet.java} → {@code xps.generated.RedisGet}. */
    private static String className(String relativePath) {
        String path = relativePath.replace('\\', '/');
        path = path.startsWith("java/") ? path.substring("java/".length()) : path;
        return path.substring(0, path.length() - ".java".length()).replace('/', '.');
    }

    /** The runtime declaration of a map, for the store the test's program opens its maps in. */
    static MapSpec mapSpec(IrMap map) {
        return new MapSpec(map.name(), MapKind.valueOf(map.kind().name()), valueType(map.keyType()),
                valueType(map.valueType()), map.capacity(), map.stats());
    }

    private static ValueType valueType(IrType type) {
        return switch (type) {
            case IrType.Int i -> new ValueType.UInt(i.byteWidth());
            case IrType.Bytes b -> new ValueType.Bytes(b.maxLength());
            case IrType.Bool b -> throw new IllegalArgumentException("a map cannot hold bool");
        };
    }

    // ------------------------------------------------------------------ one test

    /** A step that did not go as the test says. */
    private static final class StepFailed extends Exception {
        private static final long serialVersionUID = 1L;

        StepFailed(SourceLocation at, String message) {
            super(Comments.at(at) + ": " + message, null, false, false);
        }
    }

    private static TestOutcome run(IrModule module, IrTest test, Function<MapStore, XpsProgram> factory) {
        try {
            MapStore store = new MapStore();
            for (IrMap map : module.maps()) {
                store.open(mapSpec(map));
            }
            XpsProgram program = factory.apply(store);
            SegmentProcessor processor = new SegmentProcessor();
            for (IrTest.Step step : test.steps()) {
                try {
                    step(step, store, program, processor);
                } catch (RuntimeException e) {
                    throw new StepFailed(step.location(), "the generated code threw " + e);
                }
            }
            return new TestOutcome(test.name(), test.location(), true, "");
        } catch (StepFailed e) {
            return new TestOutcome(test.name(), test.location(), false, e.getMessage());
        } catch (RuntimeException e) {
            return new TestOutcome(test.name(), test.location(), false,
                    "building the program over fresh maps failed: " + e);
        }
    }

    private static void step(IrTest.Step step, MapStore store, XpsProgram program, SegmentProcessor processor)
            throws StepFailed {
        switch (step) {
            case IrTest.Put p -> {
                if (!store.get(p.map().name()).put(p.key(), p.value())) {
                    throw new StepFailed(p.location(), "map '" + p.map().name() + "' has no room for key "
                            + quoted(p.key()));
                }
            }
            case IrTest.Append a -> {
                if (store.get(a.map().name()).append(a.value()) == XpsMap.FULL) {
                    throw new StepFailed(a.location(), "log '" + a.map().name() + "' is full");
                }
            }
            case IrTest.Send s -> send(s, program, processor);
            case IrTest.ExpectEntry e -> {
                byte[] actual = store.get(e.map().name()).get(e.key());
                if (actual == null) {
                    throw new StepFailed(e.location(), "expected " + e.map().name() + "[" + quoted(e.key()) + "] == "
                            + quoted(e.value()) + ", but the key is missing");
                }
                if (!Arrays.equals(actual, e.value())) {
                    throw new StepFailed(e.location(), "expected " + e.map().name() + "[" + quoted(e.key()) + "] == "
                            + quoted(e.value()) + ", got " + quoted(actual));
                }
            }
            case IrTest.ExpectMissing e -> {
                byte[] actual = store.get(e.map().name()).get(e.key());
                if (actual != null) {
                    throw new StepFailed(e.location(), "expected " + e.map().name() + "[" + quoted(e.key())
                            + "] to be missing, but it holds " + quoted(actual));
                }
            }
        }
    }

    private static void send(IrTest.Send s, XpsProgram program, SegmentProcessor processor) throws StepFailed {
        EntryPoint entry = program.entryPoint(s.entry().name()).orElseThrow(() -> new StepFailed(s.location(),
                "the generated program has no entry point '" + s.entry().name() + "'"));
        SegmentResult result = processor.process(entry, s.payload());
        String expectedVerdict = s.verdict().keyword();
        boolean verdictOk = result.verdict().name().equals(s.verdict().name());
        boolean responseOk = s.response().isEmpty() || Arrays.equals(s.response().get(), result.response());
        if (verdictOk && responseOk) {
            return;
        }
        String expected = expectedVerdict + s.response().map(r -> " " + quoted(r)).orElse("");
        String actual = keyword(result.verdict()) + (result.verdict() == Verdict.TX ? " " + quoted(result.response()) : "")
                + why(result);
        throw new StepFailed(s.location(), "sent " + quoted(s.payload()) + "\n  expected " + expected + "\n  got      "
                + actual);
    }

    /** Why a segment came out the way it did, when that is not obvious from the verdict. */
    private static String why(SegmentResult result) {
        return switch (result.ending()) {
            case INCOMPLETE -> " (message " + (result.messages().size() + 1) + " is incomplete)";
            case TOO_MANY_MESSAGES -> " (more than " + SegmentProcessor.MAX_MESSAGES_PER_SEGMENT + " messages)";
            case EMPTY -> " (nothing was sent)";
            case RESET -> result.messages().size() > 1 ? " (message " + result.messages().size() + " said reset)" : "";
            case COMPLETE -> {
                List<String> notes = new ArrayList<>();
                List<SegmentResult.MessageResult> messages = result.messages();
                for (int i = 0; i < messages.size(); i++) {
                    SegmentResult.MessageResult m = messages.get(i);
                    if (m.malformed()) {
                        notes.add("message " + (i + 1) + " is malformed");
                    }
                    if (messages.size() > 1) {
                        notes.add("message " + (i + 1) + ": " + keyword(m.verdict()));
                    }
                }
                yield notes.isEmpty() ? "" : " (" + String.join(", ", notes) + ")";
            }
        };
    }

    private static String keyword(Verdict v) {
        return v.name().toLowerCase(Locale.ROOT);
    }

    private static String quoted(byte[] bytes) {
        return "\"" + Bytes.escape(bytes) + "\"";
    }
}
