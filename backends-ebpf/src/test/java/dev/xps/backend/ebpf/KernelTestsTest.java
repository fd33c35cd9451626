package dev.xps.backend.ebpf;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import dev.xps.testing.SampleFiles;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/** Every sample's in-language tests, run in this machine's kernel by the ebpf test runner. */
class KernelTestsTest {
    @TestFactory
    Stream<DynamicNode> samplesInTheKernel() {
        KernelAssumptions.requireKernel();
        List<DynamicNode> out = new ArrayList<>();
        for (Path sample : SampleFiles.all()) {
            IrModule module = SampleFiles.compile(sample);
            List<GeneratedFile> files = GoldenFilesTest.generate(sample);
            List<TestOutcome> outcomes = new EbpfTestRunner().run(module, files);
            assertEquals(module.tests().size(), outcomes.size());
            out.add(DynamicContainer.dynamicContainer(sample.getFileName().toString(), outcomes.stream().map(o ->
                    DynamicTest.dynamicTest(o.testName(), () -> assertTrue(o.passed(), o.location() + ": " + o.detail())))));
        }
        return out.stream();
    }
}
