package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.GoldenFiles;
import dev.xps.testing.SampleFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The generic composite object ({@code xpsc composite}): its C and manifest against
 * {@code src/test/resources/golden-composite/} (not under {@code golden/}, which holds one directory per
 * sample), and the object loads into this kernel (the verifier accepts every program).
 *
 * <pre>
 *   ./mvnw -B -pl backends-ebpf test -Dxps.bless=true -Dtest=CompositeGeneratorTest -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
class CompositeGeneratorTest {
    private static final GoldenFiles GOLDEN = new GoldenFiles(
            SampleFiles.moduleDir().resolve("src/test/resources/golden-composite"),
            "./mvnw -B -pl backends-ebpf test -Dxps.bless=true -Dtest=CompositeGeneratorTest "
                    + "-Dsurefire.failIfNoSpecifiedTests=false");

    @Test
    void sourceAndManifestMatchTheGoldenFiles() throws Exception {
        GOLDEN.compare("xps-composite.bpf.c", CompositeGenerator.source());
        GOLDEN.compare("xps-composite.manifest.json", CompositeGenerator.manifest());
    }

    @Test
    void filesAreWrittenUnderEbpfXpsComposite() {
        CompositeGenerator.Result r = CompositeGenerator.generate();
        assertTrue(r.error().isEmpty(), () -> r.error().orElse(""));
        List<String> paths = r.files().stream().map(GeneratedFile::relativePath).toList();
        assertTrue(paths.containsAll(List.of("ebpf/xps-composite/xps-composite.bpf.c",
                "ebpf/xps-composite/xps_runtime.h", "ebpf/xps-composite/xps-composite.manifest.json")), paths::toString);
    }

    @Test
    void theObjectLoadsInTheKernel() throws Exception {
        KernelAssumptions.requireKernel();
        CompositeGenerator.Result r = CompositeGenerator.generate();
        assertTrue(r.error().isEmpty(), () -> r.error().orElse(""));
        GeneratedFile object = r.files().stream().filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst()
                .orElseThrow(() -> new AssertionError("no object: " + r.warning().orElse("")));
        Path dir = Files.createTempDirectory("xpsebpf-composite-");
        try {
            Path obj = dir.resolve("xps-composite.bpf.o");
            Files.write(obj, object.content());
            String name = "xpsebpf-test-composite-" + ProcessHandle.current().pid();
            try (Bpftool.Pins pins = Bpftool.load(obj, name, true)) {
                TreeSet<String> pinned = new TreeSet<>();
                try (Stream<Path> progs = Files.list(pins.progs)) {
                    progs.forEach(p -> pinned.add(p.getFileName().toString()));
                }
                assertEquals(new TreeSet<>(List.of("comp_egress", "comp_sockops", "comp_verdict")), pinned);
                for (String m : List.of("comp_config", "comp_selectors", "comp_socks", "comp_handlers", "xps_conns",
                        "xps_resets", "xps_scratch", "xps_nest", "xps_counters")) {
                    assertTrue(Files.exists(pins.map(m)), "map " + m + " is pinned");
                }
                StringBuilder stats = new StringBuilder("verified instructions, composite:");
                for (Map.Entry<String, Long> e : pins.verifiedInsns.entrySet()) {
                    stats.append(' ').append(e.getKey()).append('=').append(e.getValue());
                }
                System.out.println(stats);
            }
        } finally {
            Clang.deleteTree(dir);
        }
        String manifest = new String(r.files().stream().filter(f -> f.relativePath().endsWith(".manifest.json"))
                .findFirst().orElseThrow().content(), StandardCharsets.UTF_8);
        assertTrue(manifest.contains("\"kind\": \"composite\""), manifest);
    }
}
