package dev.xps.compiler.parse;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.grammar.XpsLexer;
import dev.xps.grammar.XpsParser;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.NoViableAltException;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.Vocabulary;
import org.antlr.v4.runtime.misc.IntervalSet;

/**
 * Turns ANTLR's syntax errors into diagnostics written for people: it names the offending token
 * as the user wrote it and lists what was expected instead of quoting ANTLR's internal messages.
 * Only the first error per line is kept, since ANTLR's recovery often cascades on one line.
 */
final class SyntaxErrorListener extends BaseErrorListener {
    private static final int MAX_LISTED_EXPECTATIONS = 6;

    private final SourceFile source;
    private final Diagnostics diagnostics;
    private final Set<Integer> linesWithErrors = new HashSet<>();

    SyntaxErrorListener(SourceFile source, Diagnostics diagnostics) {
        this.source = source;
        this.diagnostics = diagnostics;
    }

    @Override
    public void syntaxError(Recognizer<?, ?> recognizer, Object offendingSymbol, int line, int charPositionInLine,
                            String antlrMessage, RecognitionException e) {
        if (!linesWithErrors.add(line)) {
            return;
        }
        int column = charPositionInLine + 1;
        if (!(offendingSymbol instanceof Token token)) {
            diagnostics.error(source.at(line, column), "unexpected character");
            return;
        }
        Parser parser = (Parser) recognizer;
        String message = message(parser, token, antlrMessage);
        // No viable alternative: the decision began earlier than the offending token, so ANTLR's
        // expectation set describes the start of the construct; say what follows what instead.
        if (e instanceof NoViableAltException nva && nva.getStartToken() != null
                && nva.getStartToken().getTokenIndex() < token.getTokenIndex()) {
            Token start = nva.getStartToken();
            message = "unexpected " + describe(token) + " after '" + shorten(start.getText()) + "'";
            if (start.getType() == XpsLexer.IDENT) {
                message += " (a statement that starts with a name assigns to it: 'NAME = ...')";
            }
        }
        // "expected ';'" belongs after the previous token when the offending one starts a new line,
        // the way people read a missing terminator.
        Token previous = previousToken(parser, token);
        if (previous != null && previous.getLine() < token.getLine() && message.startsWith("expected")
                || previous != null && previous.getLine() < token.getLine() && message.startsWith("missing")) {
            int end = previous.getCharPositionInLine() + previous.getText().length() + 1;
            linesWithErrors.add(previous.getLine());
            diagnostics.error(source.at(previous.getLine(), end), 1, message.replaceFirst(" but found .*| before .*",
                    "") + " after '" + shorten(previous.getText()) + "'");
            return;
        }
        int length = token.getType() == Token.EOF ? 1 : Math.max(1, token.getText().length());
        diagnostics.error(source.at(line, column), length, message);
    }

    private static Token previousToken(Parser parser, Token token) {
        int index = token.getTokenIndex();
        if (index <= 0) {
            return null;
        }
        Token previous = parser.getTokenStream().get(index - 1);
        return previous.getChannel() == Token.DEFAULT_CHANNEL ? previous : null;
    }

    private static String message(Parser parser, Token token, String antlrMessage) {
        switch (token.getType()) {
            case XpsLexer.BAD_CHAR:
                return "unexpected character '" + printable(token.getText()) + "'";
            case XpsLexer.UNTERMINATED_STRING:
                return "unterminated string literal (a string must close on the line it starts)";
            default:
                break;
        }
        String found = describe(token);
        if (antlrMessage.startsWith("missing ")) {
            return "missing " + antlrMessage.substring("missing ".length(), antlrMessage.indexOf(" at ")).strip()
                    + " before " + found;
        }
        IntervalSet expected;
        try {
            expected = parser.getExpectedTokens();
        } catch (RuntimeException ex) {
            expected = new IntervalSet();
        }
        List<String> names = new ArrayList<>();
        for (int type : expected.toArray()) {
            names.add(displayName(parser.getVocabulary(), type));
        }
        if (expected.contains(XpsLexer.MAP) && expected.contains(XpsLexer.HANDLER)) {
            return "expected a declaration (map, handler, write handler, dispatch, consensus or test) but found "
                    + found;
        }
        if (expected.contains(XpsLexer.RETURN) && expected.contains(XpsLexer.ENCODE)) {
            return "expected a statement (decode, let, lookup, append, update, delete, if, encode, return) or '}' "
                    + "but found " + found;
        }
        if (names.isEmpty() || names.size() > MAX_LISTED_EXPECTATIONS) {
            return "unexpected " + found;
        }
        if (names.size() == 1) {
            return "expected " + names.get(0) + " but found " + found;
        }
        return "expected one of " + String.join(", ", names) + " but found " + found;
    }

    private static String describe(Token token) {
        if (token.getType() == Token.EOF) {
            return "end of file";
        }
        return switch (token.getType()) {
            case XpsLexer.IDENT -> "name '" + token.getText() + "'";
            case XpsLexer.INT -> "number " + token.getText();
            case XpsLexer.STRING, XpsLexer.HEXSTRING -> "string " + shorten(token.getText());
            default -> "'" + printable(shorten(token.getText())) + "'";
        };
    }

    static String displayName(Vocabulary vocabulary, int type) {
        if (type == Token.EOF) {
            return "end of file";
        }
        return switch (type) {
            case XpsLexer.IDENT -> "a name";
            case XpsLexer.INT -> "a number";
            case XpsLexer.STRING, XpsLexer.HEXSTRING -> "a string";
            case XpsLexer.IPV4 -> "an IPv4 address";
            default -> {
                String literal = vocabulary.getLiteralName(type);
                yield literal != null ? literal : vocabulary.getDisplayName(type);
            }
        };
    }

    private static String shorten(String text) {
        return text.length() > 40 ? text.substring(0, 37) + "..." : text;
    }

    private static String printable(String text) {
        StringBuilder out = new StringBuilder();
        text.codePoints().forEach(c -> {
            if (c < 0x20 || c == 0x7f) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    static boolean isKnownTokenType(int type) {
        return type >= 0 && type <= XpsParser.VOCABULARY.getMaxTokenType();
    }
}
