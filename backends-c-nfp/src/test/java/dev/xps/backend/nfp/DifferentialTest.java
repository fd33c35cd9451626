package dev.xps.backend.nfp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.xps.backend.java.JavaTestRunner;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.Verdict;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.MapKind;
import dev.xps.runtime.MapSpec;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.SegmentProcessor;
import dev.xps.runtime.SegmentResult;
import dev.xps.runtime.ValueType;
import dev.xps.runtime.XpsProgram;
import dev.xps.testing.SampleFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Differential test against the reference (the Java target over handler-runtime): for every
 * sample and program nfp accepts, every in-language test's map set-up followed by mutated and
 * random datagrams (truncated, extended, bytes flipped, random). The Java target decides the
 * expected verdict and exact response of each; the generated Micro-C, compiled by gcc, must
 * agree on every one, with the map contents evolving the same way on both.
 */
class DifferentialTest {
    private static final int SENDS_PER_TEST = 60;

    @TestFactory
    List<DynamicTest> microCAgreesWithTheJavaTarget() throws Exception {
        NfpBackend backend = new NfpBackend();
        Optional<String> unavailable = backend.testRunner().orElseThrow().unavailableReason();
        assumeTrue(unavailable.isEmpty(), () -> "skipped: " + unavailable.orElse(""));
        List<Path> inputs = new ArrayList<>(SampleFiles.all());
        inputs.addAll(NfpPrograms.all());
        List<DynamicTest> out = new ArrayList<>();
        for (Path file : inputs) {
            IrModule module = SampleFiles.compile(file);
            if (!CapabilityChecker.check(module, backend, new Diagnostics())) {
                continue;
            }
            IrModule differential = differential(module, new Random(file.getFileName().toString().hashCode()));
            out.add(DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
                List<TestOutcome> outcomes = backend.testRunner().orElseThrow().run(differential,
                        backend.generate(differential, new Diagnostics()));
                assertEquals(differential.tests().size(), outcomes.size());
                for (TestOutcome o : outcomes) {
                    assertTrue(o.passed(), o.testName() + ": " + o.detail());
                }
            }));
        }
        return out;
    }

    /** The module with each test replaced by its set-up plus sends whose outcomes the Java target decided. */
    static IrModule differential(IrModule module, Random random) throws Exception {
        Function<MapStore, XpsProgram> factory = JavaTestRunner.load(module, List.of());
        List<IrTest> tests = new ArrayList<>();
        for (IrTest t : module.tests()) {
            MapStore store = new MapStore();
            for (IrMap m : module.maps()) {
                store.open(spec(m));
            }
            XpsProgram program = factory.apply(store);
            SegmentProcessor processor = new SegmentProcessor();
            List<IrTest.Step> steps = new ArrayList<>();
            List<IrTest.Send> seeds = new ArrayList<>();
            for (IrTest.Step s : t.steps()) {
                switch (s) {
                    case IrTest.Put p -> {
                        if (seeds.isEmpty()) {
                            store.get(p.map().name()).put(p.key(), p.value());
                            steps.add(p);
                        }
                    }
                    case IrTest.Append a -> {
                        if (seeds.isEmpty()) {
                            store.get(a.map().name()).append(a.value());
                            steps.add(a);
                        }
                    }
                    case IrTest.Send send -> seeds.add(send);
                    default -> { }
                }
            }
            for (int i = 0; i < SENDS_PER_TEST; i++) {
                IrTest.Send seed = seeds.get(random.nextInt(seeds.size()));
                byte[] payload = mutate(seed.payload(), random);
                EntryPoint entry = program.entryPoint(seed.entry().name()).orElseThrow();
                SegmentResult r = processor.process(entry, payload);
                Verdict v = Verdict.valueOf(r.verdict().name());
                steps.add(new IrTest.Send(seed.entry(), payload, v,
                        v == Verdict.TX ? Optional.of(r.response()) : Optional.empty(), seed.location()));
            }
            tests.add(new IrTest(t.name() + " (mutated)", steps, t.location()));
        }
        return new IrModule(module.sourceFile(), module.maps(), module.handlers(), module.entryPoints(),
                module.consensus(), tests);
    }

    static byte[] mutate(byte[] seed, Random random) {
        byte[] b = seed.clone();
        switch (random.nextInt(7)) {
            case 0 -> { }
            case 1 -> b = Arrays.copyOf(b, random.nextInt(b.length + 1));
            case 2 -> {
                b = Arrays.copyOf(b, b.length + 1 + random.nextInt(16));
                for (int i = seed.length; i < b.length; i++) {
                    b[i] = (byte) random.nextInt(256);
                }
            }
            case 3, 4 -> {
                if (b.length > 0) {
                    int flips = 1 + random.nextInt(3);
                    for (int i = 0; i < flips; i++) {
                        b[random.nextInt(b.length)] = (byte) (random.nextBoolean() ? random.nextInt(256)
                                : "0123456789 \r\n:$*"
                                .charAt(random.nextInt(16)));
                    }
                }
            }
            case 5 -> {
                if (b.length > 0) {
                    b[random.nextInt(b.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
            default -> {
                b = new byte[random.nextInt(48)];
                random.nextBytes(b);
            }
        }
        return b;
    }

    private static MapSpec spec(IrMap map) {
        return new MapSpec(map.name(), MapKind.valueOf(map.kind().name()), type(map.keyType()),
                type(map.valueType()), map.capacity(), map.stats());
    }

    private static ValueType type(IrType t) {
        return switch (t) {
            case IrType.Int i -> new ValueType.UInt(i.byteWidth());
            case IrType.Bytes b -> new ValueType.Bytes(b.maxLength());
            case IrType.Bool b -> throw new IllegalArgumentException("bool map slot");
        };
    }
}
