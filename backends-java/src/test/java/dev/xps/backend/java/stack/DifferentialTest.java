package dev.xps.backend.java.stack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.runtime.Bytes;
import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.Protocol;
import dev.xps.runtime.SegmentProcessor;
import dev.xps.runtime.XpsMap;
import dev.xps.runtime.XpsProgram;
import dev.xps.stack.XpsStack;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import java.io.ByteArrayOutputStream;
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
 * garbage) go through two targets for the same handler, in the same order and over maps set up
 * alike, and must come out with the same verdict and the same bytes (the response for tx, the
 * bytes the service received for pass), and with the same map contents at the end.
 *
 * <p>The two targets are the in-process Java target ({@link SegmentProcessor}, the reference) and
 * the java-stack over real loopback sockets. {@link Target} is the plug: when the kernel target
 * can run here, a third implementation (load the eBPF object, send through a socket in the cgroup)
 * is compared the same way.
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
        for (IrTest test : module.tests()) {
            for (IrTest.Step step : test.steps()) {
                if (step instanceof IrTest.Put p) {
                    refMaps.get(p.map().name()).put(p.key(), p.value());
                    stackMaps.get(p.map().name()).put(p.key(), p.value());
                } else if (step instanceof IrTest.Append a) {
                    refMaps.get(a.map().name()).append(a.value());
                    stackMaps.get(a.map().name()).append(a.value());
                }
            }
        }
        List<IrTest.Send> corpus = module.tests().stream().flatMap(t -> t.steps().stream())
                .filter(s -> s instanceof IrTest.Send).map(s -> (IrTest.Send) s).toList();
        assertTrue(!corpus.isEmpty(), sample + " has no sends to start from");
        List<String> mismatches = new ArrayList<>();
        int done = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        java.util.Map<String, Integer> verdicts = new java.util.TreeMap<>();
        try (InProcess reference = new InProcess(refMaps, factory); Target stack = new OnStack(stackMaps, factory)) {
            XpsProgram program = reference.program;
            Random random = new Random(seed);
            while (done < count && System.nanoTime() < deadline && mismatches.size() < 10) {
                IrTest.Send base = corpus.get(random.nextInt(corpus.size()));
                EntryPoint entry = program.entryPoint(base.entry().name()).orElseThrow();
                byte[] payload = mutate(random, base.payload(), corpus, base, entry.predicate().protocol());
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

    private static final byte[] NOISE = Bytes.ascii("\r\n $*:0123456789GETSETPOSTPUT /\0\u00ff");

    /** A payload derived from {@code base}: valid as is, or cut, split, pipelined, flipped, or garbage. */
    static byte[] mutate(Random r, byte[] base, List<IrTest.Send> corpus, IrTest.Send baseSend, Protocol protocol) {
        byte[] out = switch (r.nextInt(10)) {
            case 0, 1 -> base.clone();
            case 2 -> Arrays.copyOf(base, r.nextInt(base.length + 1));                        // truncation
            case 3 -> Arrays.copyOfRange(base, base.length == 0 ? 0 : r.nextInt(base.length), base.length); // second half of a split
            case 4, 5 -> {                                                                      // pipeline
                ByteArrayOutputStream p = new ByteArrayOutputStream();
                int n = 2 + (r.nextInt(4) == 0 ? r.nextInt(39) : r.nextInt(4));
                for (int i = 0; i < n; i++) {
                    IrTest.Send s = corpus.get(r.nextInt(corpus.size()));
                    p.writeBytes(s.entry().name().equals(baseSend.entry().name()) ? s.payload() : base);
                }
                if (r.nextBoolean()) {
                    byte[] tail = corpus.get(r.nextInt(corpus.size())).payload();
                    p.write(tail, 0, r.nextInt(tail.length + 1));                               // ends mid-request
                }
                yield p.toByteArray();
            }
            case 6, 7 -> {                                                                      // point mutations
                byte[] m = base.clone();
                int edits = 1 + r.nextInt(3);
                for (int i = 0; i < edits && m.length > 0; i++) {
                    int at = r.nextInt(m.length);
                    m[at] = r.nextBoolean() ? NOISE[r.nextInt(NOISE.length)] : (byte) r.nextInt(256);
                }
                yield m;
            }
            case 8 -> {                                                                         // case flips
                byte[] m = base.clone();
                for (int i = 0; i < m.length; i++) {
                    if (Character.isLetter(m[i]) && r.nextInt(4) == 0) {
                        m[i] ^= 0x20;
                    }
                }
                yield m;
            }
            default -> {                                                                        // garbage
                byte[] g = new byte[r.nextInt(80)];
                for (int i = 0; i < g.length; i++) {
                    g[i] = r.nextBoolean() ? NOISE[r.nextInt(NOISE.length)] : (byte) r.nextInt(256);
                }
                yield g;
            }
        };
        if (out.length == 0 && protocol == Protocol.TCP) {
            return base.length == 0 ? new byte[] {'x'} : base.clone();  // TCP has no empty segment
        }
        return out;
    }
}
