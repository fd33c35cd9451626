package dev.xps.backend.java;

import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.compiler.ir.IrModule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * The generated Java of every sample, and of hand-built IR, against the files under
 * {@code src/test/resources/golden/}: {@code <sample base name>.java} for samples/*.xps and
 * {@code handbuilt/<name>.java} for {@link HandBuilt}.
 *
 * <p>To accept a change to the generated code, regenerate ("bless") the golden files and review
 * the diff before committing it:
 * <pre>
 *   ./mvnw -B -pl backends-java -am test -Dxps.bless=true
 *   git diff backends-java/src/test/resources/golden
 * </pre>
 * Blessing also creates golden files for new samples and deletes those of removed ones.
 */
class GoldenFilesTest {
    private static final boolean BLESS = Boolean.getBoolean("xps.bless");
    private static final String HOW_TO_BLESS = "./mvnw -B -pl backends-java -am test -Dxps.bless=true";

    static Path goldenDir() {
        return Samples.moduleDir().resolve("src/test/resources/golden");
    }

    @TestFactory
    Stream<DynamicTest> samples() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Path> samples = Samples.all();
        for (Path sample : samples) {
            String base = sample.getFileName().toString().replaceFirst("\\.xps$", "");
            tests.add(DynamicTest.dynamicTest(sample.getFileName().toString(),
                    () -> compare(base + ".java", Run.source(Samples.compile(sample)))));
        }
        tests.add(DynamicTest.dynamicTest("no golden file without a sample", () -> noStaleGoldens(samples)));
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> handBuilt() {
        return HandBuilt.all().stream().map(m -> DynamicTest.dynamicTest(m.baseName(),
                () -> compare("handbuilt/" + m.baseName() + ".java", Run.source(rebuilt(m)))));
    }

    /** Hand-built modules are rebuilt so their line numbers do not depend on what ran before. */
    private static IrModule rebuilt(IrModule m) {
        return HandBuilt.all().stream().filter(x -> x.baseName().equals(m.baseName())).findFirst().orElseThrow();
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
            // The first difference in the message; both texts in the error for an IDE's diff view.
            throw new AssertionFailedError("generated Java differs from " + golden + "\n" + firstDifference(expected, actual)
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
        Set<String> expected = samples.stream()
                .map(p -> p.getFileName().toString().replaceFirst("\\.xps$", ".java"))
                .collect(Collectors.toSet());
        List<Path> stale;
        try (Stream<Path> files = Files.list(goldenDir())) {
            stale = files.filter(p -> p.toString().endsWith(".java"))
                    .filter(p -> !expected.contains(p.getFileName().toString()))
                    .toList();
        }
        if (BLESS) {
            for (Path p : stale) {
                Files.delete(p);
            }
            return;
        }
        if (!stale.isEmpty()) {
            fail("golden files without a sample: " + stale + "\nRemove them with: " + HOW_TO_BLESS);
        }
    }
}
