package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.SampleFiles;
import dev.xps.testing.GoldenFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.AssertionFailedError;

/**
 * The generated C and manifest of every sample against {@code src/test/resources/golden/<base>/}
 * ({@code <base>.bpf.c}, {@code <base>.manifest.json}). {@code xps_runtime.h} is emitted verbatim from
 * the backend's resources, so it has no golden copy (it would only compare the file with itself); every
 * clang build and kernel load exercises it. The object file is not compared (it depends on clang's
 * version); {@link LoadSamplesTest} proves it loads.
 *
 * <p>To accept a change to the generated code, regenerate ("bless") and review the diff:
 * <pre>
 *   ./mvnw -B -pl backends-ebpf -am test -Dxps.bless=true -Dtest=GoldenFilesTest -Dsurefire.failIfNoSpecifiedTests=false
 *   git diff backends-ebpf/src/test/resources/golden
 * </pre>
 * Blessing also writes golden files for new samples and deletes those of removed ones.
 */
class GoldenFilesTest {
    private static final GoldenFiles GOLDEN = GoldenFiles.ofModule("./mvnw -B -pl backends-ebpf test "
            + "-Dxps.bless=true -Dtest=GoldenFilesTest -Dsurefire.failIfNoSpecifiedTests=false");

    @TestFactory
    Stream<DynamicTest> samples() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Path> samples = SampleFiles.all();
        for (Path sample : samples) {
            String base = SampleFiles.base(sample);
            tests.add(DynamicTest.dynamicTest(sample.getFileName() + ": " + base + ".bpf.c and manifest", () -> {
                List<GeneratedFile> files = generate(sample);
                GOLDEN.compare(base + "/" + base + ".bpf.c", text(files, base + ".bpf.c"));
                GOLDEN.compare(base + "/" + base + ".manifest.json", text(files, base + ".manifest.json"));
            }));
        }
        tests.add(DynamicTest.dynamicTest("no golden directory without a sample", () -> GOLDEN.noStale(goldenNames(samples))));
        return tests.stream();
    }

    static List<GeneratedFile> generate(Path sample) {
        Diagnostics diagnostics = new Diagnostics();
        List<GeneratedFile> files = new EbpfBackend().generate(SampleFiles.compile(sample), diagnostics);
        assertFalse(diagnostics.hasErrors(), () -> "ebpf generation failed for " + sample + ": " + diagnostics.sorted());
        return files;
    }

    static String text(List<GeneratedFile> files, String suffix) {
        return files.stream().filter(f -> f.relativePath().endsWith("/" + suffix)).findFirst()
                .map(f -> new String(f.content(), StandardCharsets.UTF_8))
                .orElseThrow(() -> new AssertionFailedError("no generated file " + suffix + " in "
                        + files.stream().map(GeneratedFile::relativePath).toList()));
    }

    /** One golden directory per sample. */
    private static Set<String> goldenNames(List<Path> samples) {
        Set<String> names = samples.stream().map(SampleFiles::base).collect(Collectors.toSet());
        return names;
    }
}
