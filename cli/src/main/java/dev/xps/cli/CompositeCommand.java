package dev.xps.cli;

import dev.xps.backend.ebpf.CompositeGenerator;
import dev.xps.compiler.target.GeneratedFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "composite", mixinStandardHelpOptions = true,
        description = {"Writes the generic composite context of the ebpf target into DIR/ebpf/xps-composite/ (TCP, "
                + "the default) or DIR/ebpf/xps-composite-udp/ (--protocol udp): a dispatcher whose port, selector "
                + "offset and length, and selector -> handler table the runtime agent sets at run time "
                + "(xps compcontext / xps subcontext). It depends on no .xps file.",
                "TCP: sock_ops + sk_skb stream verdict + sk_msg on a cgroup. UDP: one XDP program on an interface.",
                "Sub-contexts are ordinary handlers (one 'handler H on tcp|udp port P'): "
                        + "xpsc compile X.xps --target ebpf -o DIR."})
final class CompositeCommand implements Callable<Integer> {
    @Option(names = {"-t", "--target"}, paramLabel = "TARGET", defaultValue = "ebpf",
            description = "the target: only 'ebpf' has a composite object (default: ${DEFAULT-VALUE})")
    String target;

    @Option(names = {"-p", "--protocol"}, paramLabel = "PROTOCOL", defaultValue = "tcp",
            description = "tcp (sk_skb on a cgroup) or udp (XDP on an interface) (default: ${DEFAULT-VALUE})")
    String protocol;

    @Option(names = {"-o", "--output"}, required = true, paramLabel = "DIR", description = "output directory")
    Path output;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!target.equals("ebpf")) {
            throw new CommandLine.ParameterException(spec.commandLine(), "target '" + target
                    + "' has no composite object (only 'ebpf' has)");
        }
        CompositeGenerator.Protocol p = switch (protocol) {
            case "tcp" -> CompositeGenerator.Protocol.TCP;
            case "udp" -> CompositeGenerator.Protocol.UDP;
            default -> throw new CommandLine.ParameterException(spec.commandLine(), "protocol '" + protocol
                    + "' has no composite object (tcp or udp)");
        };
        CompositeGenerator.Result r = CompositeGenerator.generate(p);
        if (r.error().isPresent()) {
            err.println("xpsc: " + r.error().get());
            return Xpsc.EXIT_ERRORS;
        }
        int written = 0;
        for (GeneratedFile g : r.files()) {
            Path target = output.resolve(g.relativePath()).normalize();
            try {
                Files.createDirectories(target.getParent());
                Path tmp = Files.createTempFile(target.getParent(), ".xpsc-", ".tmp");
                Files.write(tmp, g.content());
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                err.println("xpsc: cannot write " + target + ": " + e.getMessage());
                return Xpsc.EXIT_ERRORS;
            }
            out.println("wrote " + target);
            written++;
        }
        r.warning().ifPresent(w -> err.println("xpsc: warning: " + w));
        err.println(written + " file" + (written == 1 ? "" : "s") + " written to " + output);
        return Xpsc.EXIT_OK;
    }
}
