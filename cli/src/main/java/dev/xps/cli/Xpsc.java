package dev.xps.cli;

import dev.xps.compiler.diag.Diagnostics;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The xpsc command. Exit codes: 0 success, 1 errors in the input (or failed tests), 2 usage
 * errors. No input, however malformed, produces a stack trace: only a compiler bug does, and
 * then only with XPSC_DEBUG=1.
 */
@Command(name = "xpsc", mixinStandardHelpOptions = true, versionProvider = Xpsc.Version.class,
        description = "Compiles .xps fast-path handlers for the kernel, NICs and user-space stacks.",
        subcommands = {CheckCommand.class, CompileCommand.class, TestCommand.class, TargetsCommand.class,
                CompositeCommand.class, CommandLine.HelpCommand.class})
public final class Xpsc implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_ERRORS = 1;
    public static final int EXIT_USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (check, compile, test, targets, composite)");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs xpsc in this process and returns its exit code (used by tests). */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        AtomicInteger code = new AtomicInteger(EXIT_ERRORS);
        // The front end is recursive; a big stack lets legal but deep files compile.
        Thread worker = new Thread(null, () -> code.set(execute(args, out, err)), "xpsc", 512L << 20);
        worker.start();
        try {
            worker.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        out.flush();
        err.flush();
        return code.get();
    }

    private static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = new CommandLine(new Xpsc());
        cli.setOut(out);
        cli.setErr(err);
        cli.setExitCodeExceptionMapper(e -> EXIT_ERRORS);
        cli.setParameterExceptionHandler((e, a) -> {
            String message = e.getMessage();
            if (e instanceof CommandLine.UnmatchedArgumentException u && e.getCommandLine() == cli
                    && !u.getUnmatched().isEmpty() && !u.getUnmatched().getFirst().startsWith("-")) {
                message = "unknown command '" + u.getUnmatched().getFirst()
                        + "' (commands: check, compile, test, targets, composite, help)";
            }
            err.println("xpsc: " + message);
            err.println("Try 'xpsc --help' for more information.");
            return EXIT_USAGE;
        });
        cli.setExecutionExceptionHandler((e, parsed, result) -> {
            err.println("xpsc: internal error: " + e + " (this is a bug in xpsc; please report it with the input "
                    + "file" + (System.getenv("XPSC_DEBUG") == null ? "; XPSC_DEBUG=1 shows the stack trace" : "")
                    + ")");
            if (System.getenv("XPSC_DEBUG") != null) {
                e.printStackTrace(err);
            }
            return EXIT_ERRORS;
        });
        return cli.execute(args);
    }

    static int exitCode(Diagnostics diagnostics) {
        return diagnostics.hasErrors() ? EXIT_ERRORS : EXIT_OK;
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            Properties p = new Properties();
            try (InputStream in = Xpsc.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            } catch (IOException e) {
                // fall through to "unknown"
            }
            return new String[] {"xpsc " + p.getProperty("version", "unknown"),
                    "Java " + Runtime.version()};
        }
    }
}
