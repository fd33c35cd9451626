package dev.xps.cli;

import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Backends;
import dev.xps.compiler.target.Capabilities;
import dev.xps.compiler.target.Feature;
import java.io.PrintWriter;
import java.util.Arrays;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(name = "targets", mixinStandardHelpOptions = true,
        description = "Lists the targets, what each can express, and whether its tests run on this machine.")
final class TargetsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        for (Backend b : Backends.all()) {
            Capabilities c = b.capabilities();
            out.println(b.name() + " - " + b.description());
            out.println("  generates code: " + (b.generatesCode() ? "yes" : "not yet"));
            String tests = b.testRunner().map(r -> r.unavailableReason().map(why -> "no (" + why + ")")
                    .orElse("yes")).orElse("no");
            out.println("  runs tests here: " + tests);
            String missing = Arrays.stream(Feature.values()).filter(f -> !c.supports(f)).map(Feature::construct)
                    .collect(Collectors.joining("; "));
            out.println("  cannot express: " + (missing.isEmpty() ? "-" : missing));
            out.println("  limits: message " + c.maxMessageBytes() + " B, response " + c.maxResponseBytes()
                    + " B, key " + c.maxKeyBytes() + " B, value " + c.maxValueBytes() + " B, map capacity "
                    + c.maxMapCapacity());
        }
        return Xpsc.EXIT_OK;
    }
}
