package dev.xps.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.ir.IrModule;
import dev.xps.testing.SampleFiles;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Every sample's generated Java compiles without a single javac lint warning and passes the
 * sample's in-language tests; so do the hand-built modules.
 */
class SamplesTest {
    @TestFactory
    Stream<DynamicTest> samplesCompileAndPassTheirTests() {
        List<Path> samples = SampleFiles.all();
        return samples.stream().map(sample -> DynamicTest.dynamicTest(sample.getFileName().toString(), () -> {
            IrModule module = SampleFiles.compile(sample);
            assertTrue(!module.tests().isEmpty(), "sample " + sample.getFileName() + " has no tests");
            compilesCleanly(module);
            Run.assertAllPass(module);
        }));
    }

    @TestFactory
    Stream<DynamicTest> handBuiltModulesCompileAndPassTheirTests() {
        return HandBuilt.all().stream().map(module -> DynamicTest.dynamicTest(module.baseName(), () -> {
            compilesCleanly(module);
            Run.assertAllPass(module);
        }));
    }

    private static void compilesCleanly(IrModule module) {
        JavaGenerator generator = new JavaGenerator(module);
        InMemoryJavaCompiler.Result result = InMemoryJavaCompiler.compile(
                Map.of(generator.qualifiedClassName(), generator.generate()));
        if (result instanceof InMemoryJavaCompiler.Result.Failed f) {
            throw new AssertionError("generated Java does not compile:\n" + f.diagnostics());
        }
        assertEquals("", assertInstanceOf(InMemoryJavaCompiler.Result.Loaded.class, result).warnings(),
                "javac -Xlint:all warnings in generated Java");
    }
}
