package dev.xps.backend.java;


import dev.xps.compiler.ir.IrModule;
import dev.xps.testing.SampleFiles;
import dev.xps.testing.GoldenFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

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
    private static final GoldenFiles GOLDEN = GoldenFiles.ofModule("./mvnw -B -pl backends-java test -Dxps.bless=true");

    @TestFactory
    Stream<DynamicTest> samples() {
        List<DynamicTest> tests = new ArrayList<>();
        List<Path> samples = SampleFiles.all();
        for (Path sample : samples) {
            String base = sample.getFileName().toString().replaceFirst("\\.xps$", "");
            tests.add(DynamicTest.dynamicTest(sample.getFileName().toString(),
                    () -> GOLDEN.compare(base + ".java", Run.source(SampleFiles.compile(sample)))));
        }
        tests.add(DynamicTest.dynamicTest("no golden file without a sample", () -> GOLDEN.noStale(goldenNames(samples))));
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> handBuilt() {
        return HandBuilt.all().stream().map(m -> DynamicTest.dynamicTest(m.baseName(),
                () -> GOLDEN.compare("handbuilt/" + m.baseName() + ".java", Run.source(rebuilt(m)))));
    }

    /** Hand-built modules are rebuilt so their line numbers do not depend on what ran before. */
    private static IrModule rebuilt(IrModule m) {
        return HandBuilt.all().stream().filter(x -> x.baseName().equals(m.baseName())).findFirst().orElseThrow();
    }

    /** One golden per sample, plus the directory of hand-built cases. */
    private static Set<String> goldenNames(List<Path> samples) {
        Set<String> names = samples.stream().map(p -> SampleFiles.base(p) + ".java").collect(Collectors.toSet());
        names.add("handbuilt");
        return names;
    }
}
