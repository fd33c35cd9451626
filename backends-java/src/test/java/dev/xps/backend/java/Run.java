package dev.xps.backend.java;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

/** Generates, compiles and runs a module's in-language tests on the Java target. */
final class Run {
    private Run() {}

    static final JavaBackend BACKEND = new JavaBackend();

    static List<GeneratedFile> generate(IrModule module) {
        Diagnostics diagnostics = new Diagnostics();
        List<GeneratedFile> files = BACKEND.generate(module, diagnostics);
        assertEquals(0, diagnostics.errorCount(), "generation reported errors");
        return files;
    }

    static String source(IrModule module) {
        return new String(generate(module).getFirst().content(), StandardCharsets.UTF_8);
    }

    static List<TestOutcome> outcomes(IrModule module) {
        return BACKEND.testRunner().orElseThrow().run(module, generate(module));
    }

    /** Every test of {@code module} passes; on failure shows each failing test's detail and the source. */
    static void assertAllPass(IrModule module) {
        List<TestOutcome> outcomes = outcomes(module);
        assertEquals(module.tests().size(), outcomes.size(), "one outcome per test");
        List<TestOutcome> failed = outcomes.stream().filter(o -> !o.passed()).toList();
        if (!failed.isEmpty()) {
            fail(failed.stream().map(o -> "test \"" + o.testName() + "\": " + o.detail())
                    .collect(Collectors.joining("\n")) + "\n--- generated source ---\n" + source(module));
        }
    }
}
