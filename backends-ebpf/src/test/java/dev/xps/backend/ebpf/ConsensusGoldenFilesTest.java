package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.GoldenFiles;
import dev.xps.testing.SampleFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The generated consensus data plane ({@code <base>.consensus.bpf.c}) of every sample with a consensus block,
 * against {@code src/test/resources/golden/<base>/<base>.consensus.bpf.c}; the manifest's consensus section is
 * compared by {@link GoldenFilesTest} with the rest of the manifest. Bless with
 * <pre>
 *   ./mvnw -B -pl backends-ebpf test -Dxps.bless=true -Dtest='ConsensusGoldenFilesTest,GoldenFilesTest'
 * </pre>
 */
class ConsensusGoldenFilesTest {
    private static final GoldenFiles GOLDEN = GoldenFiles.ofModule("./mvnw -B -pl backends-ebpf test "
            + "-Dxps.bless=true -Dtest='ConsensusGoldenFilesTest,GoldenFilesTest'");

    @TestFactory
    Stream<DynamicTest> samples() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Path sample : SampleFiles.all()) {
            IrModule module = SampleFiles.compile(sample);
            if (module.consensus().isEmpty()) {
                continue;
            }
            String base = SampleFiles.base(sample);
            tests.add(DynamicTest.dynamicTest(sample.getFileName() + ": " + base + ".consensus.bpf.c", () -> {
                List<GeneratedFile> files = GoldenFilesTest.generate(sample);
                GOLDEN.compare(base + "/" + base + ".consensus.bpf.c",
                        GoldenFilesTest.text(files, base + ".consensus.bpf.c"));
                assertTrue(GoldenFilesTest.text(files, base + ".manifest.json").contains("\"consensus\": {"),
                        "the manifest has a consensus section");
            }));
        }
        return tests.stream();
    }

    @Test
    void aModuleWithoutConsensusBlocksGetsNoConsensusFiles() {
        Path sample = SampleFiles.dir().resolve("memcached-udp.xps");
        List<GeneratedFile> files = GoldenFilesTest.generate(sample);
        assertTrue(files.stream().noneMatch(f -> f.relativePath().contains(".consensus.")), files.toString());
        assertFalse(GoldenFilesTest.text(files, "memcached-udp.manifest.json").contains("\"consensus\""));
    }

    @Test
    void theBackendNowLowersConsensusBlocks() {
        Diagnostics d = new Diagnostics();
        assertTrue(new EbpfBackend().capabilities().supports(dev.xps.compiler.target.Feature.CONSENSUS));
        List<GeneratedFile> files = new EbpfBackend().generate(SampleFiles.compile(
                SampleFiles.dir().resolve("timestamp-server.xps")), d);
        assertFalse(d.hasErrors(), d.sorted().toString());
        Optional<GeneratedFile> object = files.stream()
                .filter(f -> f.relativePath().equals("ebpf/timestamp-server/timestamp-server.consensus.bpf.o"))
                .findFirst();
        assertTrue(object.isPresent(), "the consensus object is built: " + files);
        assertEquals("xps_consensus.h", files.stream().map(GeneratedFile::relativePath)
                .filter(p -> p.endsWith(".h") && p.contains("consensus")).map(p -> Path.of(p).getFileName().toString())
                .findFirst().orElseThrow());
        String c = new String(files.stream().filter(f -> f.relativePath().endsWith(".consensus.bpf.c")).findFirst()
                .orElseThrow().content(), StandardCharsets.UTF_8);
        assertTrue(c.contains("SEC(\"xdp\")") && c.contains("int vr_timestamps_ingress(struct __sk_buff *skb)"));
    }
}
