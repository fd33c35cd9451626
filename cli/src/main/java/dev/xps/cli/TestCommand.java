package dev.xps.cli;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.GeneratedFile;
import dev.xps.compiler.target.TestOutcome;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "test", mixinStandardHelpOptions = true,
        description = "Runs the in-language tests of .xps files on each target that can run them here. Prints one "
                + "line per test and a final 'N passed, N failed'; exit 1 on any failure.")
final class TestCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = ".xps files whose tests to run")
    List<Path> files;

    @Option(names = {"-t", "--target"}, paramLabel = "TARGET", defaultValue = "all",
            description = "targets to test on (default: all that can run tests on this machine)")
    List<String> targets;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Backend> backends = TargetSelection.resolve(spec.commandLine(), targets, true);
        Inputs inputs = new Inputs(err);
        Diagnostics diagnostics = inputs.diagnostics();
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        boolean skipAll = TargetSelection.includesAll(targets);
        for (Path file : files) {
            Optional<IrModule> module = inputs.compile(file);
            if (module.isEmpty()) {
                continue;
            }
            for (Backend backend : backends) {
                Optional<Backend.TestRunner> runner = backend.testRunner();
                Optional<String> unavailable = runner.isEmpty() ? Optional.of("target has no test runner")
                        : runner.get().unavailableReason();
                if (unavailable.isPresent()) {
                    for (var test : module.get().tests()) {
                        out.println("SKIP " + test.location() + " \"" + test.name() + "\" [" + backend.name() + "]: "
                                + unavailable.get());
                        skipped++;
                    }
                    continue;
                }
                if (skipAll && !CompileCommand.fits(module.get(), backend, err)) {
                    for (var test : module.get().tests()) {
                        out.println("SKIP " + test.location() + " \"" + test.name() + "\" [" + backend.name()
                                + "]: the target cannot express this file");
                        skipped++;
                    }
                    continue;
                }
                List<GeneratedFile> generated = CompileCommand.generate(module.get(), backend, diagnostics);
                if (generated.isEmpty() && diagnostics.hasErrors()) {
                    continue;
                }
                for (TestOutcome outcome : runner.get().run(module.get(), generated)) {
                    out.println((outcome.passed() ? "PASS " : "FAIL ") + outcome.location() + " \""
                            + outcome.testName() + "\" [" + backend.name() + "]");
                    if (outcome.passed()) {
                        passed++;
                    } else {
                        failed++;
                        outcome.detail().lines().forEach(line -> out.println("     " + line));
                    }
                }
            }
            out.flush();
        }
        boolean errors = inputs.flush();
        out.println(passed + " passed, " + failed + " failed" + (skipped > 0 ? ", " + skipped + " skipped" : ""));
        return errors || failed > 0 ? Xpsc.EXIT_ERRORS : Xpsc.EXIT_OK;
    }
}
