package dev.xps.cli;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.CapabilityChecker;
import dev.xps.compiler.target.GeneratedFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "compile", mixinStandardHelpOptions = true,
        description = "Compiles .xps files for one or more targets into an output directory. Nothing is written "
                + "for a file and target that have errors.")
final class CompileCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = ".xps files to compile")
    List<Path> files;

    @Option(names = {"-t", "--target"}, required = true, paramLabel = "TARGET",
            description = "target name (see 'xpsc targets'), comma-separated or repeated; 'all' for every target "
                    + "that generates code")
    List<String> targets;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "output directory")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Backend> backends = TargetSelection.resolve(spec.commandLine(), targets, false);
        Inputs inputs = new Inputs(err);
        Diagnostics diagnostics = inputs.diagnostics();
        int written = 0;
        boolean writeFailed = false;
        boolean skipAll = TargetSelection.includesAll(targets);
        for (Path file : files) {
            Optional<IrModule> module = inputs.compile(file);
            if (module.isEmpty()) {
                continue;
            }
            for (Backend backend : backends) {
                if (skipAll && !fits(module.get(), backend, err)) {
                    continue;
                }
                List<GeneratedFile> generated = generate(module.get(), backend, diagnostics);
                for (GeneratedFile g : generated) {
                    Path target = output.resolve(g.relativePath()).normalize();
                    if (write(target, g.content(), err)) {
                        out.println("wrote " + target);
                        written++;
                    } else {
                        writeFailed = true;
                    }
                }
            }
        }
        boolean errors = inputs.flush();
        err.println(written + " file" + (written == 1 ? "" : "s") + " written to " + output);
        return errors || writeFailed ? Xpsc.EXIT_ERRORS : Xpsc.EXIT_OK;
    }

    /**
     * With '--target all', a target that cannot express a file is skipped with a note naming the
     * first reason, instead of failing the run: "all" means every target the file fits.
     */
    static boolean fits(IrModule module, Backend backend, PrintWriter err) {
        Diagnostics scratch = new Diagnostics();
        if (CapabilityChecker.check(module, backend, scratch)) {
            return true;
        }
        scratch.sorted().stream().filter(d -> d.severity() == dev.xps.compiler.diag.Severity.ERROR).findFirst()
                .ifPresent(d -> err.println(d.location() + ": note: not compiled for target '" + backend.name()
                        + "': " + d.message()));
        return false;
    }

    /** The files for one module on one target, or none when the target refuses it. */
    static List<GeneratedFile> generate(IrModule module, Backend backend, Diagnostics diagnostics) {
        if (!CapabilityChecker.check(module, backend, diagnostics)) {
            return List.of();
        }
        if (!backend.generatesCode()) {
            diagnostics.error(new dev.xps.compiler.diag.SourceLocation(module.sourceFile(), 1, 1),
                    "target '" + backend.name() + "' checks capabilities but does not generate code yet");
            return List.of();
        }
        int before = diagnostics.errorCount();
        List<GeneratedFile> files = new ArrayList<>(backend.generate(module, diagnostics));
        return diagnostics.errorCount() == before ? files : List.of();
    }

    /** Writes through a temporary file so a reader never sees half a file. */
    private static boolean write(Path target, byte[] content, PrintWriter err) {
        try {
            Files.createDirectories(target.getParent());
            Path tmp = Files.createTempFile(target.getParent(), ".xpsc-", ".tmp");
            Files.write(tmp, content);
            Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (IOException e) {
            err.println("xpsc: cannot write " + target + ": " + e.getMessage());
            return false;
        }
    }
}
