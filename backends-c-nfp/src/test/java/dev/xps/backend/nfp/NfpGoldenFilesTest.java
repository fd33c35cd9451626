package dev.xps.backend.nfp;

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
 * The generated Micro-C and P4 of every sample nfp accepts, against
 * {@code src/test/resources/golden/<base>.c} and {@code <base>.p4}. To accept a change:
 * {@code ./mvnw -B -o -pl backends-c-nfp test -Dxps.bless=true}, then review the diff.
 */
class NfpGoldenFilesTest {
    private static final GoldenFiles GOLDEN = GoldenFiles.ofModule("./mvnw -B -pl backends-c-nfp test -Dxps.bless=true");

    @TestFactory
    Stream<DynamicTest> samples() {
        NfpBackend backend = new NfpBackend();
        List<DynamicTest> tests = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (Path sample : SampleFiles.all()) {
            IrModule module = SampleFiles.compile(sample);
            Diagnostics d = new Diagnostics();
            if (!CapabilityChecker.check(module, backend, d)) {
                continue;
            }
            List<GeneratedFile> files = backend.generate(module, d);
            assertFalse(d.hasErrors(), () -> d.sorted().toString());
            for (GeneratedFile f : files) {
                String name = Path.of(f.relativePath()).getFileName().toString();
                if (name.endsWith(".c") || name.endsWith(".p4")) {
                    names.add(name);
                    tests.add(DynamicTest.dynamicTest(f.relativePath(), () -> GOLDEN.compare(name,
                            new String(f.content(), StandardCharsets.UTF_8))));
                }
            }
        }
        tests.add(DynamicTest.dynamicTest("no golden file without a sample", () -> GOLDEN.noStale(names)));
        return tests.stream();
    }
}
