package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.backend.java.JavaBackend;
import dev.xps.backend.java.JavaTestRunner;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.compiler.ir.IrType;
import dev.xps.compiler.ir.Protocol;
import dev.xps.compiler.ir.Verdict;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Differential test against the reference: every sample's sent payloads, mutated (truncated, a byte
 * changed, inserted or removed; for TCP also pipelined), go through the Java target's
 * SegmentProcessor to find the expected outcome, then through the kernel, which must give the same
 * verdict and the same response bytes. The mutations are seeded, so a failure reproduces.
 */
class DifferentialTest {
    private static final int UDP_MUTANTS = 6;
    private static final int TCP_MUTANTS = 3;

    @TestFactory
    Stream<DynamicNode> kernelAgreesWithJava() throws Exception {
        KernelAssumptions.requireKernel();
        List<DynamicNode> out = new ArrayList<>();
        for (Path sample : SampleFiles.all()) {
            IrModule module = SampleFiles.compile(sample);
            Diagnostics d = new Diagnostics();
            List<GeneratedFile> javaFiles = new JavaBackend().generate(module, d);
            Function<MapStore, XpsProgram> reference = JavaTestRunner.load(module, javaFiles);
            List<IrTest> synthetic = mutants(module, reference, new Random(sample.getFileName().toString().hashCode()));
            IrModule variant = new IrModule(module.sourceFile(), module.maps(), module.handlers(), module.entryPoints(),
                    module.consensus(), synthetic);
            List<GeneratedFile> files = new EbpfBackend().generate(module, d);
            assertFalse(d.hasErrors(), () -> d.sorted().toString());
            List<TestOutcome> outcomes = new EbpfTestRunner().run(variant, files);
            assertEquals(synthetic.size(), outcomes.size());
            out.add(DynamicContainer.dynamicContainer(sample.getFileName().toString(), outcomes.stream().map(o ->
                    DynamicTest.dynamicTest(o.testName(), () -> assertTrue(o.passed(), o.detail())))));
        }
        return out.stream();
    }

    /** Tests whose sends are mutated payloads and whose expectations are what Java does with them. */
    private static List<IrTest> mutants(IrModule module, Function<MapStore, XpsProgram> reference, Random random) {
        List<IrTest> out = new ArrayList<>();
        List<byte[]> seeds = new ArrayList<>();
        for (IrTest t : module.tests()) {
            for (IrTest.Step s : t.steps()) {
                if (s instanceof IrTest.Send send) {
                    seeds.add(send.payload());
                }
            }
        }
        for (IrTest t : module.tests()) {
            List<IrTest.Step> setup = new ArrayList<>();
            for (IrTest.Step s : t.steps()) {
                if (s instanceof IrTest.Put || s instanceof IrTest.Append) {
                    setup.add(s);
                    continue;
                }
                if (!(s instanceof IrTest.Send send)) {
                    continue;
                }
                boolean tcp = send.entry().predicate().protocol() == Protocol.TCP;
                int count = tcp ? TCP_MUTANTS : UDP_MUTANTS;
                for (int i = 0; i < count; i++) {
                    byte[] payload = mutate(send.payload(), seeds, tcp, random);
                    if (tcp && payload.length == 0) {
                        continue; // an empty write sends no segment at all
                    }
                    SegmentResult r = javaResult(module, reference, setup, send.entry().name(), payload);
                    Verdict v = Verdict.valueOf(r.verdict().name());
                    List<IrTest.Step> steps = new ArrayList<>(setup);
                    steps.add(new IrTest.Send(send.entry(), payload, v,
                            v == Verdict.TX ? Optional.of(r.response()) : Optional.empty(), send.location()));
                    out.add(new IrTest(t.name() + " / mutant " + (i + 1) + ": " + EbpfTestRunner.quoted(payload)
                            + " → " + v.keyword(), steps, t.location()));
                }
                break; // the first send of each test is the seed; later ones depend on earlier state
            }
        }
        return out;
    }

    private static byte[] mutate(byte[] seed, List<byte[]> seeds, boolean tcp, Random random) {
        int kind = random.nextInt(tcp ? 6 : 4);
        byte[] b = seed.clone();
        switch (kind) {
            case 0 -> b = Arrays.copyOf(b, b.length == 0 ? 0 : random.nextInt(b.length));
            case 1 -> {
                if (b.length > 0) {
                    b[random.nextInt(b.length)] = interesting(seeds, random);
                }
            }
            case 2 -> {
                int at = random.nextInt(b.length + 1);
                byte[] c = new byte[b.length + 1];
                System.arraycopy(b, 0, c, 0, at);
                c[at] = interesting(seeds, random);
                System.arraycopy(b, at, c, at + 1, b.length - at);
                b = c;
            }
            case 3 -> {
                if (b.length > 0) {
                    int at = random.nextInt(b.length);
                    byte[] c = new byte[b.length - 1];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + 1, c, at, b.length - at - 1);
                    b = c;
                }
            }
            case 4 -> b = concat(b, seeds.get(random.nextInt(seeds.size())));
            default -> {
                byte[] other = seeds.get(random.nextInt(seeds.size()));
                b = concat(b, Arrays.copyOf(other, other.length == 0 ? 0 : random.nextInt(other.length)));
            }
        }
        return b;
    }

    /** A byte from some seed (digits, delimiters, letters the handlers look for), now and then any byte. */
    private static byte interesting(List<byte[]> seeds, Random random) {
        byte[] s = seeds.get(random.nextInt(seeds.size()));
        if (s.length == 0 || random.nextInt(4) == 0) {
            return (byte) random.nextInt(256);
        }
        return s[random.nextInt(s.length)];
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static SegmentResult javaResult(IrModule module, Function<MapStore, XpsProgram> reference,
                                            List<IrTest.Step> setup, String entry, byte[] payload) {
        MapStore store = new MapStore();
        for (IrMap m : module.maps()) {
            store.open(new MapSpec(m.name(), MapKind.valueOf(m.kind().name()), type(m.keyType()), type(m.valueType()),
                    m.capacity(), m.stats()));
        }
        for (IrTest.Step s : setup) {
            switch (s) {
                case IrTest.Put p -> store.get(p.map().name()).put(p.key(), p.value());
                case IrTest.Append a -> store.get(a.map().name()).append(a.value());
                default -> { }
            }
        }
        XpsProgram program = reference.apply(store);
        return new SegmentProcessor().process(program.entryPoint(entry).orElseThrow(), payload);
    }

    private static ValueType type(IrType t) {
        return switch (t) {
            case IrType.Int i -> new ValueType.UInt(i.byteWidth());
            case IrType.Bytes b -> new ValueType.Bytes(b.maxLength());
            case IrType.Bool b -> throw new IllegalArgumentException("bool map type");
        };
    }
}
