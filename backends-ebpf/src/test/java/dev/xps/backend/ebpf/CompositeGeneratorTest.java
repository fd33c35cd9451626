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
 * The generic composite objects ({@code xpsc composite}, TCP, and {@code xpsc composite --protocol udp}, XDP):
 * their C and manifests against {@code src/test/resources/golden-composite/} (not under {@code golden/}, which
 * holds one directory per sample), and both objects load into this kernel (the verifier accepts every program).
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
    void udpSourceAndManifestMatchTheGoldenFiles() throws Exception {
        GOLDEN.compare("xps-composite-udp.bpf.c", CompositeGenerator.source(CompositeGenerator.Protocol.UDP));
        GOLDEN.compare("xps-composite-udp.manifest.json", CompositeGenerator.manifest(CompositeGenerator.Protocol.UDP));
    }

    @Test
    void filesAreWrittenUnderEbpfXpsComposite() {
        CompositeGenerator.Result r = CompositeGenerator.generate();
        assertTrue(r.error().isEmpty(), () -> r.error().orElse(""));
        List<String> paths = r.files().stream().map(GeneratedFile::relativePath).toList();
        assertTrue(paths.containsAll(List.of("ebpf/xps-composite/xps-composite.bpf.c",
                "ebpf/xps-composite/xps_runtime.h", "ebpf/xps-composite/xps-composite.manifest.json")), paths::toString);
        CompositeGenerator.Result u = CompositeGenerator.generate(CompositeGenerator.Protocol.UDP);
        assertTrue(u.error().isEmpty(), () -> u.error().orElse(""));
        List<String> udp = u.files().stream().map(GeneratedFile::relativePath).toList();
        assertTrue(udp.containsAll(List.of("ebpf/xps-composite-udp/xps-composite-udp.bpf.c",
                "ebpf/xps-composite-udp/xps_runtime.h", "ebpf/xps-composite-udp/xps-composite-udp.manifest.json")),
                udp::toString);
    }

    @Test
    void theUdpObjectLoadsInTheKernel() throws Exception {
        KernelAssumptions.requireKernel();
        CompositeGenerator.Result r = CompositeGenerator.generate(CompositeGenerator.Protocol.UDP);
        assertTrue(r.error().isEmpty(), () -> r.error().orElse(""));
        GeneratedFile object = r.files().stream().filter(f -> f.relativePath().endsWith(".bpf.o")).findFirst()
                .orElseThrow(() -> new AssertionError("no object: " + r.warning().orElse("")));
        Path dir = Files.createTempDirectory("xpsebpf-composite-udp-");
        try {
            Path obj = dir.resolve("xps-composite-udp.bpf.o");
            Files.write(obj, object.content());
            String name = "xpsebpf-test-compudp-" + ProcessHandle.current().pid();
            try (Bpftool.Pins pins = Bpftool.load(obj, name, true)) {
                TreeSet<String> pinned = new TreeSet<>();
                try (Stream<Path> progs = Files.list(pins.progs)) {
                    progs.forEach(p -> pinned.add(p.getFileName().toString()));
                }
                assertEquals(new TreeSet<>(List.of("comp_xdp")), pinned);
                for (String m : List.of("comp_config", "comp_selectors", "comp_handlers", "xps_scratch", "xps_nest",
                        "xps_counters")) {
                    assertTrue(Files.exists(pins.map(m)), "map " + m + " is pinned");
                }
                for (String m : List.of("comp_socks", "xps_conns", "xps_resets")) {
                    assertTrue(!Files.exists(pins.map(m)), "no TCP map " + m);
                }
                StringBuilder stats = new StringBuilder("verified instructions, UDP composite:");
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
        assertTrue(manifest.contains("\"protocol\": \"udp\"") && manifest.contains("\"kind\": \"composite\""),
                manifest);
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
