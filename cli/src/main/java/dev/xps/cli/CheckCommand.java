package dev.xps.cli;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Parses and checks .xps files; prints diagnostics. Exit 1 if any file has errors.")
final class CheckCommand implements Callable<Integer> {
    @Parameters(arity = "1..*", paramLabel = "FILE", description = ".xps files to check")
    List<Path> files;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        Inputs inputs = new Inputs(err);
        int ok = 0;
        for (Path file : files) {
            if (inputs.compile(file).isPresent()) {
                ok++;
            }
        }
        boolean errors = inputs.flush();
        err.println(ok + " of " + files.size() + " file" + (files.size() == 1 ? "" : "s") + " checked without errors");
        return errors ? Xpsc.EXIT_ERRORS : Xpsc.EXIT_OK;
    }
}
