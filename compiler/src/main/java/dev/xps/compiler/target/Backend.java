package dev.xps.compiler.target;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import java.util.List;
import java.util.Optional;

/**
 * A code generator for one target. Backends are found with {@link java.util.ServiceLoader}, so the
 * compiler never depends on them. {@link #generate} is only called for modules that passed the
 * capability check against {@link #capabilities()}.
 */
public interface Backend {
    /** The name users pass to {@code --target}. */
    String name();

    /** One line for {@code xpsc targets}. */
    String description();

    Capabilities capabilities();

    /** Whether this backend produces code yet (a declared-only target still checks capabilities). */
    default boolean generatesCode() {
        return true;
    }

    /** Generates the files for one module; reports problems it finds into {@code diagnostics}. */
    List<GeneratedFile> generate(IrModule module, Diagnostics diagnostics);

    /** How to run in-language tests on this target on this machine, if it can. */
    default Optional<TestRunner> testRunner() {
        return Optional.empty();
    }

    interface TestRunner {
        /** Why tests cannot run here (missing tool, not root), or empty when they can. */
        default Optional<String> unavailableReason() {
            return Optional.empty();
        }

        /** Runs every test of {@code module} on the generated {@code files}. */
        List<TestOutcome> run(IrModule module, List<GeneratedFile> files);
    }
}
