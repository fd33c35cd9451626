package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.target.GeneratedFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.opentest4j.AssertionFailedError;

/**
 * The generated C and manifest of every sample against {@code src/test/resources/golden/<base>/}
 * ({@code <base>.bpf.c}, {@code <base>.manifest.json}), and the emitted {@code xps_runtime.h}
 * against {@code golden/xps_runtime.h}. The object file is not compared (it depends on clang's
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
    private static final boolean BLESS = Boolean.getBoolean("xps.bless");
    private static final String HOW_TO_BLESS = "./mvnw -B -pl backends-ebpf -am test -Dxps.bless=true "
            + "-Dtest=GoldenFilesTest -Dsurefire.failIfNoSpecifiedTests=false";

    static Path goldenDir() {
        return Samples.moduleDir().resolve("src/test/resources/golden");
    }

    @TestFactory
    Stream<DynamicTest> samples() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Path> samples = Samples.all();
        for (Path sample : samples) {
            String base = Samples.base(sample);
            tests.add(DynamicTest.dynamicTest(sample.getFileName() + ": " + base + ".bpf.c and manifest", () -> {
                List<GeneratedFile> files = generate(sample);
                compare(base + "/" + base + ".bpf.c", text(files, base + ".bpf.c"));
                compare(base + "/" + base + ".manifest.json", text(files, base + ".manifest.json"));
            }));
        }
        tests.add(DynamicTest.dynamicTest("xps_runtime.h", () -> compare("xps_runtime.h",
                CGenerator.runtimeHeader())));
        tests.add(DynamicTest.dynamicTest("no golden directory without a sample", () -> noStaleGoldens(samples)));
        return tests.stream();
    }

    static List<GeneratedFile> generate(Path sample) {
        Diagnostics diagnostics = new Diagnostics();
        List<GeneratedFile> files = new EbpfBackend().generate(Samples.compile(sample), diagnostics);
        assertFalse(diagnostics.hasErrors(), () -> "ebpf generation failed for " + sample + ": " + diagnostics.sorted());
        return files;
    }

    static String text(List<GeneratedFile> files, String suffix) {
        return files.stream().filter(f -> f.relativePath().endsWith("/" + suffix)).findFirst()
                .map(f -> new String(f.content(), StandardCharsets.UTF_8))
                .orElseThrow(() -> new AssertionFailedError("no generated file " + suffix + " in "
                        + files.stream().map(GeneratedFile::relativePath).toList()));
    }

    private static void compare(String relative, String actual) throws IOException {
        Path golden = goldenDir().resolve(relative);
        if (BLESS) {
            Files.createDirectories(golden.getParent());
            Files.writeString(golden, actual, StandardCharsets.UTF_8);
            return;
        }
        if (!Files.exists(golden)) {
            fail("no golden file " + golden + "\nCreate it with: " + HOW_TO_BLESS + " (then review and commit it)");
        }
        String expected = Files.readString(golden, StandardCharsets.UTF_8);
        if (!expected.equals(actual)) {
            throw new AssertionFailedError("generated file differs from " + golden + "\n" + firstDifference(expected, actual)
                    + "If the change is intended: " + HOW_TO_BLESS + " and review the diff", expected, actual);
        }
    }

    private static String firstDifference(String expected, String actual) {
        List<String> e = expected.lines().toList();
        List<String> a = actual.lines().toList();
        int line = 0;
        while (line < e.size() && line < a.size() && e.get(line).equals(a.get(line))) {
            line++;
        }
        return "first difference at line " + (line + 1) + ":\n"
                + "  golden:    " + (line < e.size() ? e.get(line) : "<end of file>") + "\n"
                + "  generated: " + (line < a.size() ? a.get(line) : "<end of file>") + "\n";
    }

    private static void noStaleGoldens(List<Path> samples) throws IOException {
        Set<String> expected = samples.stream().map(Samples::base).collect(Collectors.toSet());
        List<Path> stale;
        try (Stream<Path> files = Files.list(goldenDir())) {
            stale = files.filter(Files::isDirectory).filter(p -> !expected.contains(p.getFileName().toString()))
                    .toList();
        }
        if (BLESS) {
            for (Path dir : stale) {
                try (Stream<Path> walk = Files.walk(dir)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            return;
        }
        if (!stale.isEmpty()) {
            fail("golden directories without a sample: " + stale + "\nRemove them with: " + HOW_TO_BLESS);
        }
    }
}
