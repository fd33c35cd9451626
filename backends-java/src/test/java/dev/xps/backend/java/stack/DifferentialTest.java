package dev.xps.backend.java.stack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.runtime.Bytes;
import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.SegmentProcessor;
import dev.xps.runtime.XpsMap;
import dev.xps.runtime.XpsProgram;
import dev.xps.stack.XpsStack;
import dev.xps.testing.DifferentialPayloads;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Differential test: the same random and mutated payloads (valid requests from the samples' own
 * tests, truncations, the two halves of a split, pipelines of up to 40 requests, byte flips,
 * garbage: {@link DifferentialPayloads}) go through two targets for the same handler, in the same
 * order and over maps set up alike, and must come out with the same verdict and the same bytes
 * (the response for tx, the bytes the service received for pass), and with the same map contents
 * at the end.
 *
 * <p>The two targets are the in-process Java target ({@link SegmentProcessor}, the reference) and
 * the java-stack over real loopback sockets. The kernel target is compared with the java-stack the
 * same way by integration-tests' {@code KernelDifferentialIT} (it needs the packaged agent and a
 * kernel with BPF).
 *
 * <p>Default: {@value #DEFAULT_COUNT} payloads per sample, at most {@value #DEFAULT_SECONDS} s per
 * sample (about 35 s for all samples). Full run: {@code -Dxps.differential.count=100000} (the time
 * bound becomes count/100 s per sample unless {@code -Dxps.differential.seconds} says otherwise;
 * about 3 minutes per sample); the seed is {@code -Dxps.differential.seed} (printed with every
 * mismatch). Each payload goes on a fresh connection, as in-language tests do.
 */
class DifferentialTest {
    static final int DEFAULT_COUNT = 2_000;
    static final int DEFAULT_SECONDS = 60;

    /** A target that takes one segment for an entry point and says what came of it. */
    interface Target extends AutoCloseable {
        String name();

        StackProbe.Observed send(EntryPoint entry, byte[] payload) throws Exception;

        MapStore maps();

        @Override
        default void close() {}
    }

    /** The reference: the in-process Java target. */
    static final class InProcess implements Target {
        private final MapStore maps;
        private final XpsProgram program;
        private final SegmentProcessor processor = new SegmentProcessor();

        InProcess(MapStore maps, Function<MapStore, XpsProgram> factory) {
            this.maps = maps;
            this.program = factory.apply(maps);
        }

        @Override
        public String name() {
            return "java";
        }

        @Override
        public StackProbe.Observed send(EntryPoint entry, byte[] payload) {
            EntryPoint mine = program.entryPoint(entry.name()).orElseThrow();
            return StackProbe.reference(processor.process(mine, payload), payload);
        }

        @Override
        public MapStore maps() {
            return maps;
        }
    }

    /** The user-space stack over loopback sockets. */
    static final class OnStack implements Target {
        private final MapStore maps;
        private final StackProbe probe;

        OnStack(MapStore maps, Function<MapStore, XpsProgram> factory) {
            this.maps = maps;
            this.probe = new StackProbe(maps, factory, group, executor, 3);
        }

        @Override
        public String name() {
            return "java-stack";
        }

        @Override
        public StackProbe.Observed send(EntryPoint entry, byte[] payload) throws Exception {
            return probe.send(entry, payload);
        }

        @Override
        public MapStore maps() {
            return maps;
        }

        @Override
        public void close() {
            probe.close();
        }
    }

    private static EventLoopGroup group;
    private static ExecutorService executor;

    @BeforeAll
    static void start() {
        group = XpsStack.newEventLoopGroup(1, Epoll.isAvailable());
        executor = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void stop() {
        executor.shutdownNow();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
    }

    @TestFactory
    List<DynamicTest> samplesAgreeOnBothTargets() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path sample : StackSamples.all()) {
            tests.add(DynamicTest.dynamicTest(sample.getFileName().toString(), () -> differential(sample)));
        }
        return tests;
    }

    private static void differential(Path sample) throws Exception {
        int count = Integer.getInteger("xps.differential.count", DEFAULT_COUNT);
        // About 2 ms a payload over loopback: the time bound grows with a larger count unless given.
        long seconds = Long.getLong("xps.differential.seconds", Math.max(DEFAULT_SECONDS, count / 100));
        long seed = Long.getLong("xps.differential.seed", 20_261_124L) ^ sample.getFileName().toString().hashCode();
        IrModule module = StackSamples.compile(sample);
        Function<MapStore, XpsProgram> factory = StackSamples.load(module);
        MapStore refMaps = StackSamples.store(module);
        MapStore stackMaps = StackSamples.store(module);
        // The maps every test sets up, in both stores, so that requests hit as well as miss.
        DifferentialPayloads payloads = DifferentialPayloads.of(module);
        for (IrTest.Step step : payloads.setup()) {
            if (step instanceof IrTest.Put p) {
                refMaps.get(p.map().name()).put(p.key(), p.value());
                stackMaps.get(p.map().name()).put(p.key(), p.value());
            } else if (step instanceof IrTest.Append a) {
                refMaps.get(a.map().name()).append(a.value());
                stackMaps.get(a.map().name()).append(a.value());
            }
        }
        List<String> mismatches = new ArrayList<>();
        int done = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        java.util.Map<String, Integer> verdicts = new java.util.TreeMap<>();
        try (InProcess reference = new InProcess(refMaps, factory); Target stack = new OnStack(stackMaps, factory)) {
            XpsProgram program = reference.program;
            Random random = new Random(seed);
            while (done < count && System.nanoTime() < deadline && mismatches.size() < 10) {
                DifferentialPayloads.Input input = payloads.next(random);
                EntryPoint entry = program.entryPoint(input.entry()).orElseThrow();
                byte[] payload = input.payload();
                StackProbe.Observed want = reference.send(entry, payload);
                StackProbe.Observed got = stack.send(entry, payload);
                verdicts.merge(String.valueOf(want.verdict()), 1, Integer::sum);
                if (want.verdict() != got.verdict() || !Arrays.equals(want.bytes(), got.bytes()) || !got.note().isEmpty()) {
                    mismatches.add("#" + done + " to " + entry.name() + " \"" + Bytes.escape(payload) + "\"\n    "
                            + reference.name() + ": " + show(want) + "\n    " + stack.name() + ": " + show(got));
                }
                done++;
            }
            for (XpsMap map : refMaps.all()) {
                String a = dump(map);
                String b = dump(stackMaps.get(map.spec().name()));
                if (!a.equals(b)) {
                    mismatches.add("map " + map.spec().name() + " differs after " + done + " payloads");
                }
            }
        }
        System.out.printf("differential %s: %d payloads %s, seed %d, %d mismatches%n", sample.getFileName(), done,
                verdicts, seed, mismatches.size());
        assertTrue(mismatches.isEmpty(), sample.getFileName() + " (seed " + seed + "): " + String.join("\n", mismatches));
        assertTrue(done >= Math.min(count, 200), "only " + done + " payloads ran within " + seconds + " s");
    }

    private static String show(StackProbe.Observed o) {
        return (o.verdict() == null ? "nothing" : o.verdict().name()) + " \"" + Bytes.escape(o.bytes()) + "\""
                + (o.note().isEmpty() ? "" : " (" + o.note() + ")");
    }

    private static String dump(XpsMap map) {
        HexFormat hex = HexFormat.of();
        return map.entries().stream().map(e -> hex.formatHex(e.key()) + "=" + hex.formatHex(e.value())).sorted()
                .reduce("", (x, y) -> x + y + ";");
    }
}
