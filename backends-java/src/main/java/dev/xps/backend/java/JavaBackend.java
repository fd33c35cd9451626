package dev.xps.backend.java;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Capabilities;
import dev.xps.compiler.target.Feature;
import dev.xps.compiler.target.GeneratedFile;
import java.util.List;
import java.util.Optional;

/**
 * {@code --target java}: one readable Java class per module for the user-space stack, linking
 * against {@code handler-runtime}. Software can express every construct; consensus blocks are
 * lowered by a later stage, so they are refused for now.
 */
public final class JavaBackend implements Backend {
    @Override
    public String name() {
        return "java";
    }

    @Override
    public String description() {
        return "Java source for the user-space stack (links against handler-runtime); tests run in-process";
    }

    @Override
    public Capabilities capabilities() {
        return Capabilities.allExcept(Feature.CONSENSUS);
    }

    @Override
    public List<GeneratedFile> generate(IrModule module, Diagnostics diagnostics) {
        JavaGenerator generator = new JavaGenerator(module);
        return List.of(GeneratedFile.text(generator.relativePath(), generator.generate()));
    }

    @Override
    public Optional<TestRunner> testRunner() {
        return Optional.of(new JavaTestRunner());
    }
}
