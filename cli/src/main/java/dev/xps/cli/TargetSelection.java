package dev.xps.cli;

import dev.xps.compiler.target.Backend;
import dev.xps.compiler.target.Backends;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine;

/** Resolves --target names (or "all") to backends, rejecting unknown names as usage errors. */
final class TargetSelection {
    private TargetSelection() {}

    /** Whether any of {@code names} is "all": then targets that refuse a file are skipped, not errors. */
    static boolean includesAll(List<String> names) {
        return names.stream().flatMap(n -> java.util.Arrays.stream(n.split(","))).anyMatch("all"::equals);
    }

    static List<Backend> resolve(CommandLine cli, List<String> names, boolean forTests) {
        List<Backend> all = Backends.all();
        Set<Backend> chosen = new LinkedHashSet<>();
        for (String name : names) {
            for (String part : name.split(",")) {
                if (part.equals("all")) {
                    all.stream().filter(b -> forTests ? b.testRunner().isPresent() : b.generatesCode())
                            .forEach(chosen::add);
                    continue;
                }
                Backend backend = all.stream().filter(b -> b.name().equals(part)).findFirst().orElseThrow(() ->
                        new CommandLine.ParameterException(cli, "unknown target '" + part + "' (known: "
                                + all.stream().map(Backend::name).collect(Collectors.joining(", ")) + ", all)"));
                chosen.add(backend);
            }
        }
        return new ArrayList<>(chosen);
    }
}
