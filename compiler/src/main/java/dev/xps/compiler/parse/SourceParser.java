package dev.xps.compiler.parse;

import dev.xps.compiler.ast.Ast.Program;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.grammar.XpsLexer;
import dev.xps.grammar.XpsParser;
import java.util.Optional;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.atn.PredictionMode;

/**
 * Source text to AST. Hostile input is bounded before ANTLR sees it: file size, token count and
 * bracket nesting are limited, so a huge or pathological file gives a diagnostic, not a stack
 * overflow or minutes of parsing.
 */
public final class SourceParser {
    public static final int MAX_SOURCE_CHARS = 4 << 20;
    public static final int MAX_TOKENS = 1_000_000;
    public static final int MAX_NESTING = 64;

    private SourceParser() {}

    /**
     * The AST, or empty when the file has syntax errors or malformed literals (they are in
     * {@code diagnostics}).
     */
    public static Optional<Program> parse(SourceFile source, Diagnostics diagnostics) {
        if (source.text().length() > MAX_SOURCE_CHARS) {
            diagnostics.error(source.at(1, 1), "file is too large (" + source.text().length()
                    + " characters; the limit is " + MAX_SOURCE_CHARS + ")");
            return Optional.empty();
        }
        SyntaxErrorListener listener = new SyntaxErrorListener(source, diagnostics);
        XpsLexer lexer = new XpsLexer(CharStreams.fromString(source.text(), source.name()));
        lexer.removeErrorListeners();
        CommonTokenStream tokens = new CommonTokenStream(lexer);
        tokens.fill();
        if (!withinLimits(tokens, source, diagnostics)) {
            return Optional.empty();
        }
        XpsParser parser = new XpsParser(tokens);
        parser.removeErrorListeners();
        parser.addErrorListener(listener);
        parser.getInterpreter().setPredictionMode(PredictionMode.LL);
        int before = diagnostics.errorCount();
        XpsParser.ProgramContext tree;
        try {
            tree = parser.program();
        } catch (StackOverflowError e) {
            // The nesting limit should make this unreachable; it stays as the last line of defence.
            diagnostics.error(source.at(1, 1), "input is nested too deeply to parse");
            return Optional.empty();
        }
        if (diagnostics.errorCount() > before) {
            return Optional.empty();
        }
        Program program = new AstBuilder(source, diagnostics).program(tree);
        // A bad literal (number out of range, bad escape, bad address) was replaced by a neutral value
        // (0, empty bytes): checking further would report that value's consequences, not the user's
        // mistake, and the file must not produce IR. Same contract as for syntax errors.
        if (diagnostics.errorCount() > before) {
            return Optional.empty();
        }
        return Optional.of(program);
    }

    private static boolean withinLimits(CommonTokenStream tokens, SourceFile source, Diagnostics diagnostics) {
        if (tokens.size() > MAX_TOKENS) {
            diagnostics.error(source.at(1, 1), "file has too many tokens (" + tokens.size() + "; the limit is "
                    + MAX_TOKENS + ")");
            return false;
        }
        int depth = 0;
        for (Token t : tokens.getTokens()) {
            switch (t.getType()) {
                case XpsLexer.LPAREN, XpsLexer.LBRACE, XpsLexer.LBRACK -> {
                    if (++depth > MAX_NESTING) {
                        diagnostics.error(source.at(t.getLine(), t.getCharPositionInLine() + 1),
                                "brackets are nested more than " + MAX_NESTING + " deep");
                        return false;
                    }
                }
                case XpsLexer.RPAREN, XpsLexer.RBRACE, XpsLexer.RBRACK -> depth = Math.max(0, depth - 1);
                default -> { }
            }
        }
        return true;
    }
}
