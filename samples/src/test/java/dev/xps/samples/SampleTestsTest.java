package dev.xps.samples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.compiler.diag.DiagnosticPrinter;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.driver.Compiler;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Backends;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Runs every sample's in-language tests on every target that can run tests on this machine,
 * one JUnit test per in-language test and target, so a failure names the sample, the test and
 * the target.
 */
class SampleTestsTest {
    private static final Path SAMPLES = Path.of(System.getProperty("xps.samples.dir", "."));

    /** The use cases the samples must cover (issue #2); a missing file fails here, not silently. */
    private static final List<String> REQUIRED = List.of("redis-get.xps", "memcached-udp.xps", "http-block.xps",
            "redis-cluster-bus.xps", "raft-append.xps", "timestamp-server.xps", "kv-replicated.xps");

    static List<Path> sampleFiles() throws IOException {
        try (Stream<Path> files = Files.list(SAMPLES)) {
            return files.filter(p -> p.toString().endsWith(".xps")).sorted().toList();
        }
    }

    private static IrModule compile(Path file) throws IOException {
        SourceFile source = new SourceFile(SAMPLES.relativize(file).toString(), Files.readString(file));
        Diagnostics diagnostics = new Diagnostics();
        IrModule module = Compiler.compile(source, diagnostics).orElse(null);
        assertFalse(diagnostics.hasErrors(), () -> new DiagnosticPrinter(Map.of(source.name(), source))
                .renderAll(diagnostics));
        return module;
    }

    private static List<Backend> testableBackends() {
        return Backends.all().stream().filter(b -> b.testRunner().isPresent()
                && b.testRunner().get().unavailableReason().isEmpty()).toList();
    }

    @Test
    void everyUseCaseHasASample() throws IOException {
        List<String> names = sampleFiles().stream().map(p -> p.getFileName().toString()).toList();
        assertTrue(names.containsAll(REQUIRED), "samples present: " + names + ", required: " + REQUIRED);
    }

    @Test
    void theJavaTargetCanRunTestsHere() {
        assertTrue(testableBackends().stream().anyMatch(b -> b.name().equals("java")),
                "the java target must run the samples' tests on every machine");
    }

    @Test
    void everySampleHasTestsAndCompilesWithoutWarnings() throws IOException {
        for (Path file : sampleFiles()) {
            SourceFile source = new SourceFile(file.getFileName().toString(), Files.readString(file));
            Diagnostics diagnostics = new Diagnostics();
            IrModule module = Compiler.compile(source, diagnostics).orElseThrow();
            assertEquals("", new DiagnosticPrinter(Map.of(source.name(), source)).renderAll(diagnostics),
                    file + " has diagnostics");
            assertTrue(module.tests().size() >= 3, file + " has only " + module.tests().size() + " tests");
        }
    }

    @TestFactory
    List<DynamicNode> inLanguageTests() throws IOException {
        List<DynamicNode> perSample = new ArrayList<>();
        for (Path file : sampleFiles()) {
            IrModule module = compile(file);
            List<DynamicNode> perTarget = new ArrayList<>();
            for (Backend backend : testableBackends()) {
                Diagnostics diagnostics = new Diagnostics();
                if (!CapabilityChecker.check(module, backend, diagnostics)) {
                    continue; // the target refuses this sample; its capability tests cover that
                }
                List<GeneratedFile> generated = backend.generate(module, diagnostics);
                List<TestOutcome> outcomes = backend.testRunner().orElseThrow().run(module, generated);
                assertEquals(module.tests().size(), outcomes.size(), "every test of " + file + " must run on "
                        + backend.name());
                perTarget.add(DynamicContainer.dynamicContainer(backend.name(), outcomes.stream().map(o ->
                        DynamicTest.dynamicTest(o.testName(), () -> assertTrue(o.passed(),
                                o.location() + ": " + o.detail())))));
            }
            perSample.add(DynamicContainer.dynamicContainer(file.getFileName().toString(), perTarget));
        }
        return perSample;
    }
}
