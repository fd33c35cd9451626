package dev.xps.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.agent.bpf.Preflight;
import dev.xps.agent.bpf.PreflightException;
import dev.xps.backend.java.JavaTestRunner;
import dev.xps.backend.java.stack.StackProbe;
import dev.xps.backend.java.stack.StackProbe.Observed;
import dev.xps.backend.java.stack.StackTestRunner;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.ir.IrTest;
import dev.xps.runtime.Bytes;
import dev.xps.runtime.EntryPoint;
import dev.xps.runtime.MapKind;
import dev.xps.runtime.MapLayout;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.SegmentProcessor;
import dev.xps.runtime.XpsMap;
import dev.xps.runtime.XpsProgram;
import dev.xps.stack.XpsStack;
import dev.xps.testing.DifferentialPayloads;
import dev.xps.testing.SampleFiles;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.Epoll;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Differential test of the kernel target against the java-stack: for every sample, the same random and
 * mutated payloads ({@link DifferentialPayloads}: the samples' own sends, truncations, the halves of splits,
 * pipelines of up to 40 requests, byte and case flips, garbage) go, in the same order and over maps set up
 * alike, through the java-stack (Netty on loopback) and through the eBPF artifact the shipped {@code bin/xpsc}
 * builds, loaded by the runtime agent ({@link KernelTarget}: XDP test runs for UDP, real sockets in a cgroup
 * for TCP). TCP payloads are observed the same way on both ({@link SentinelProtocol}, {@link StackTcpTarget}:
 * no quiet-time waits); UDP payloads on the java-stack by {@link StackProbe} (its quiet time only bounds how
 * long it looks for a datagram that should not come). Each payload must come out with the same verdict and the same bytes
 * (the response for tx, the exact bytes the service received for pass), with nothing odd noted by either
 * observer, and at the end every map must hold the same entries (and hit counts, for maps with stats). The
 * in-process Java target runs alongside as the reference and is shown with every mismatch.
 *
 * <p>Each payload goes on a fresh connection, as in-language tests do (per-connection state, e.g. a
 * connection out of step after an incomplete message, then cannot leak from one payload into the next).
 *
 * <p>Default: {@value #DEFAULT_COUNT} payloads per sample. Full run: {@code -Dxps.differential.count=100000};
 * the seed is {@code -Dxps.differential.seed} (printed with every mismatch); {@code
 * -Dxps.differential.samples=redis-get,http-block} runs only those samples. Needs root and a kernel with BPF;
 * it creates only {@code xdiff-*} things ({@link XdiffHost}) and removes them.
 */
class KernelDifferentialIT {
    static final int DEFAULT_COUNT = 2_000;
    private static final int MAX_REPORTED = 20;
    private static final Path ROOT = Path.of(System.getProperty("xps.root.dir", "..")).toAbsolutePath().normalize();

    private static XdiffHost host;
    private static Path artifacts;
    private static EventLoopGroup group;
    private static ExecutorService executor;

    @BeforeAll
    static void start() throws Exception {
        try {
            Preflight.requirePrivileges();
            Preflight.requireLibbpf();
            Preflight.requireBpfSyscall();
        } catch (PreflightException e) {
            fail("the kernel differential needs root and BPF: " + e.getMessage());
        }
        host = new XdiffHost();
        artifacts = host.stateRoot.resolve("artifacts");
        List<String> command = new ArrayList<>(List.of(ROOT.resolve("bin/xpsc").toString(), "compile"));
        SampleFiles.all().forEach(p -> command.add(p.toString()));
        command.addAll(List.of("--target", "ebpf", "-o", artifacts.toString()));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("XPSC_NO_BUILD", "1");
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), "xpsc timed out");
        assertEquals(0, p.exitValue(), String.join(" ", command) + "\n" + out);
        group = XpsStack.newEventLoopGroup(1, Epoll.isAvailable());
        executor = Executors.newFixedThreadPool(2);
    }

    @AfterAll
    static void stop() {
        if (executor != null) {
            executor.shutdownNow();
        }
        if (group != null) {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(10, TimeUnit.SECONDS);
        }
        if (host != null) {
            host.close();
        }
    }

    @TestFactory
    List<DynamicTest> kernelAgreesWithJavaStack() {
        List<DynamicTest> tests = new ArrayList<>();
        String only = System.getProperty("xps.differential.samples", "");
        for (Path sample : SampleFiles.all()) {
            if (!only.isEmpty() && !List.of(only.split(",")).contains(SampleFiles.base(sample))) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest(sample.getFileName().toString(), () -> differential(sample)));
        }
        return tests;
    }

    private static void differential(Path sample) throws Exception {
        int count = Integer.getInteger("xps.differential.count", DEFAULT_COUNT);
        long seed = Long.getLong("xps.differential.seed", 20_261_124L) ^ sample.getFileName().toString().hashCode();
        String base = SampleFiles.base(sample);
        Path artifact = artifacts.resolve("ebpf").resolve(base);
        assertTrue(Files.isRegularFile(artifact.resolve(base + ".bpf.o")), "xpsc wrote no object for " + base);
        IrModule module = SampleFiles.compile(sample);
        Function<MapStore, XpsProgram> factory = JavaTestRunner.load(module, List.of());
        DifferentialPayloads payloads = DifferentialPayloads.of(module);
        MapStore refMaps = store(module, payloads);
        MapStore stackMaps = store(module, payloads);
        XpsProgram reference = factory.apply(refMaps);
        SegmentProcessor processor = new SegmentProcessor();

        List<String> mismatches = new ArrayList<>();
        Map<String, Integer> verdicts = new TreeMap<>();
        int done = 0;
        int longer = 0;
        long started = System.nanoTime();
        long kernelNs = 0;
        try (StackProbe udpStack = new StackProbe(stackMaps, factory, group, executor, 3);
             StackTcpTarget tcpStack = new StackTcpTarget(module, stackMaps, factory, group, executor, new Random(seed));
             KernelTarget kernel = new KernelTarget(host, module, artifact, base)) {
            kernel.setUp(payloads.setup());
            Random random = new Random(seed);
            while (done < count && mismatches.size() < MAX_REPORTED) {
                DifferentialPayloads.Input input = payloads.next(random);
                byte[] payload = input.payload();
                EntryPoint entry = reference.entryPoint(input.entry()).orElseThrow();
                Observed want = StackProbe.reference(processor.process(entry, payload), payload);
                Observed onStack = input.tcp() ? tcpStack.send(input.entry(), payload) : udpStack.send(entry, payload);
                long t0 = System.nanoTime();
                Observed inKernel = kernel.send(input.entry(), payload);
                kernelNs += System.nanoTime() - t0;
                verdicts.merge(String.valueOf(onStack.verdict()), 1, Integer::sum);
                if (inKernel.verdict() == dev.xps.runtime.Verdict.TX && input.tcp() && inKernel.bytes().length > payload.length) {
                    longer++;
                }
                if (onStack.verdict() != inKernel.verdict() || !Arrays.equals(onStack.bytes(), inKernel.bytes())
                        || !onStack.note().isEmpty() || !inKernel.note().isEmpty()) {
                    String mismatch = "#" + done + " to " + input.entry() + ", payload hex "
                            + HexFormat.of().formatHex(payload) + "\n    \"" + Bytes.escape(payload) + "\"\n    java-stack: "
                            + show(onStack) + "\n    kernel:     " + show(inKernel) + "\n    (java reference: "
                            + show(want) + "; kernel counters: " + kernel.countersOfLastSend() + ")";
                    System.out.println(sample.getFileName() + " mismatch " + mismatch); // at once: a full run is long
                    mismatches.add(mismatch);
                }
                done++;
            }
            Map<String, Map<String, String>> inKernel = kernel.maps();
            Map<String, Map<String, String>> onStack = contents(module, stackMaps);
            for (String map : onStack.keySet()) {
                if (!onStack.get(map).equals(inKernel.get(map))) {
                    mismatches.add("map " + map + " differs after " + done + " payloads:\n    java-stack: "
                            + onStack.get(map) + "\n    kernel:     " + inKernel.get(map)
                            + "\n    (java reference: " + contents(module, refMaps).get(map) + ")");
                }
            }
        }
        long ms = (System.nanoTime() - started) / 1_000_000;
        System.out.printf("kernel differential %s: %d payloads %s, seed %d, %d mismatches, %d ms (kernel side %d ms)%s%n",
                sample.getFileName(), done, verdicts, seed, mismatches.size(), ms, kernelNs / 1_000_000,
                longer == 0 ? "" : "; " + longer + " TCP answers longer than their request (see SentinelProtocol#sentinel)");
        assertTrue(mismatches.isEmpty(), sample.getFileName() + " (seed " + seed + "), java-stack vs kernel:\n"
                + String.join("\n", mismatches));
        assertEquals(count, done, "payloads sent");
    }

    /** The module's maps, set up as every test sets them up. */
    private static MapStore store(IrModule module, DifferentialPayloads payloads) {
        MapStore store = new MapStore();
        for (IrMap map : module.maps()) {
            store.open(StackTestRunner.mapSpec(map));
        }
        for (IrTest.Step step : payloads.setup()) {
            switch (step) {
                case IrTest.Put p -> store.get(p.map().name()).put(p.key(), p.value());
                case IrTest.Append a -> store.get(a.map().name()).append(a.value());
                default -> throw new IllegalArgumentException("not a setup step: " + step);
            }
        }
        return store;
    }

    /** The same shape as {@link KernelTarget#maps()}: arrays without zero slots, logs by index, hit counts. */
    private static Map<String, Map<String, String>> contents(IrModule module, MapStore store) {
        HexFormat hex = HexFormat.of();
        Map<String, Map<String, String>> out = new TreeMap<>();
        for (IrMap m : module.maps()) {
            XpsMap map = store.get(m.name());
            Map<String, String> contents = new TreeMap<>();
            for (XpsMap.Entry e : map.entries()) {
                if (map.spec().kind() == MapKind.LOG) {
                    contents.put(Long.toString(MapLayout.decodeInt(e.key())), hex.formatHex(e.value()));
                } else if (map.spec().kind() == MapKind.HASH || !allZero(e.value())) {
                    contents.put(hex.formatHex(e.key()), hex.formatHex(e.value()));
                }
            }
            for (XpsMap.Stat s : map.stats()) {
                if (s.hits() != 0) {
                    contents.put("hits " + hex.formatHex(s.key()), Long.toString(s.hits()));
                }
            }
            out.put(m.name(), contents);
        }
        return out;
    }

    private static boolean allZero(byte[] b) {
        for (byte x : b) {
            if (x != 0) {
                return false;
            }
        }
        return true;
    }

    private static String show(Observed o) {
        return (o.verdict() == null ? "nothing" : o.verdict().name()) + " \"" + Bytes.escape(o.bytes()) + "\""
                + (o.note().isEmpty() ? "" : " (" + o.note() + ")");
    }
}
