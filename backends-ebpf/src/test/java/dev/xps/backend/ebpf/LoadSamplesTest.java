package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.SampleFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every sample builds with clang and loads into this kernel: {@code bpftool prog loadall} pins
 * every program (the verifier accepted each one) and every map; then all is unpinned. The
 * verifier's instruction counts are printed (they are the programs' complexity budget: the limit
 * is 1,000,000 per program).
 */
class LoadSamplesTest {
    @TestFactory
    Stream<DynamicTest> everySampleLoads() {
        KernelAssumptions.requireKernel();
        List<DynamicTest> tests = new ArrayList<>();
        for (Path sample : SampleFiles.all()) {
            tests.add(DynamicTest.dynamicTest(sample.getFileName() + " builds with clang and loads in the kernel",
                    () -> load(sample)));
        }
        return tests.stream();
    }

    private static void load(Path sample) throws IOException, Bpftool.BpfException {
        IrModule module = SampleFiles.compile(sample);
        List<GeneratedFile> files = GoldenFilesTest.generate(sample);
        GeneratedFile object = files.stream().filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst()
                .orElseThrow(() -> new AssertionError("no .bpf.o generated for " + sample));
        Path dir = Files.createTempDirectory("xpsebpf-load-");
        try {
            Path obj = dir.resolve(module.baseName() + ".bpf.o");
            Files.write(obj, object.content());
            String name = "xpsebpf-test-load-" + ProcessHandle.current().pid() + "-" + module.baseName();
            try (Bpftool.Pins pins = Bpftool.load(obj, name, true)) {
                Plan plan = Plan.of(module);
                TreeSet<String> expected = new TreeSet<>();
                plan.programs().forEach(p -> expected.add(p.cName()));
                plan.entries().forEach(e -> expected.addAll(e.attachedPrograms()));
                TreeSet<String> pinned = new TreeSet<>();
                try (Stream<Path> progs = Files.list(pins.progs)) {
                    progs.forEach(p -> pinned.add(p.getFileName().toString()));
                }
                assertEquals(expected, pinned, "programs loaded for " + sample.getFileName());
                for (var m : plan.maps()) {
                    assertTrue(Files.exists(pins.map(m.cName())), "map " + m.cName() + " is pinned");
                }
                StringBuilder stats = new StringBuilder("verified instructions, " + sample.getFileName() + ":");
                for (Map.Entry<String, Long> e : pins.verifiedInsns.entrySet()) {
                    stats.append(' ').append(e.getKey()).append('=').append(e.getValue());
                }
                System.out.println(stats);
                assertEquals(expected, new TreeSet<>(pins.verifiedInsns.keySet()), "the verifier ran on every program");
            }
        } finally {
            Clang.deleteTree(dir);
        }
    }
}
