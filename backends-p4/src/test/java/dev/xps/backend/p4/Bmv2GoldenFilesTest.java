package dev.xps.backend.p4;

import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.testing.SampleFiles;
import dev.xps.testing.GoldenFiles;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The generated P4 and table-entries description of every sample p4-bmv2 accepts, against
 * {@code src/test/resources/golden/<base>.p4} and {@code <base>.entries.json}. To accept a
 * change: {@code ./mvnw -B -o -pl backends-p4 test -Dxps.bless=true}, then review the diff.
 */
class Bmv2GoldenFilesTest {
    private static final GoldenFiles GOLDEN = GoldenFiles.ofModule("./mvnw -B -pl backends-p4 test -Dxps.bless=true");

    /** Every generated file of every sample this target accepts. */
    static List<GeneratedFile> acceptedOutputs() {
        List<GeneratedFile> out = new ArrayList<>();
        Bmv2Backend backend = new Bmv2Backend();
        for (Path sample : SampleFiles.all()) {
            IrModule module = SampleFiles.compile(sample);
            Diagnostics d = new Diagnostics();
            if (CapabilityChecker.check(module, backend, d)) {
                List<GeneratedFile> files = backend.generate(module, d);
                assertFalse(d.hasErrors(), () -> sample + " passes the capability check but generate refuses it: "
                        + d.sorted());
                out.addAll(files);
            }
        }
        return out;
    }

    @TestFactory
    Stream<DynamicTest> samples() {
        List<DynamicTest> tests = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (GeneratedFile f : acceptedOutputs()) {
            String name = Path.of(f.relativePath()).getFileName().toString();
            if (name.equals("README.md")) {
                continue;
            }
            names.add(name);
            tests.add(DynamicTest.dynamicTest(f.relativePath(), () -> GOLDEN.compare(name,
                    new String(f.content(), StandardCharsets.UTF_8))));
        }
        tests.add(DynamicTest.dynamicTest("no golden file without a sample", () -> GOLDEN.noStale(names)));
        return tests.stream();
    }
}
