package dev.xps.compiler.driver;

import dev.xps.compiler.ast.Ast.Program;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.parse.SourceParser;
import dev.xps.compiler.sema.Analyzer;
import java.util.Optional;

/** The front end in one call: source text → AST → checked, typed IR. */
public final class Compiler {
    private Compiler() {}

    /** The IR of {@code source}, or empty when it has errors (all reported to {@code diagnostics}). */
    public static Optional<IrModule> compile(SourceFile source, Diagnostics diagnostics) {
        try {
            Optional<Program> program = SourceParser.parse(source, diagnostics);
            return program.flatMap(p -> Analyzer.analyze(p, diagnostics));
        } catch (StackOverflowError e) {
            // Expressions like 1+1+...+1 with a million terms are legal syntax but not a handler anyone
            // writes; the passes are recursive, so such input ends here instead of in a stack trace.
            diagnostics.error(source.at(1, 1), "input is nested too deeply to compile");
            return Optional.empty();
        }
    }

    /** Parses only (for formatting and AST tests). */
    public static Optional<Program> parse(SourceFile source, Diagnostics diagnostics) {
        try {
            return SourceParser.parse(source, diagnostics);
        } catch (StackOverflowError e) {
            diagnostics.error(source.at(1, 1), "input is nested too deeply to parse");
            return Optional.empty();
        }
    }
}
