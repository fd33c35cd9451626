package dev.xps.compiler.parse;

import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.grammar.XpsLexer;
import dev.xps.grammar.XpsParser;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.NoViableAltException;
import org.antlr.v4.runtime.Parser;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.TokenStream;
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
    /** Token index of the last reported error, or -1. */
    private int lastErrorToken = -1;

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
        boolean leftover = isLeftoverOfBrokenDeclaration(parser, token);
        // Advanced even when suppressed, so each token is scanned once however many errors follow.
        lastErrorToken = token.getTokenIndex();
        if (leftover) {
            return;
        }
        Token previous = previousToken(parser, token);
        // The file ended inside a block: point at the bracket that is still open, which is on a line the
        // user can see, rather than at the end of the file.
        if (token.getType() == Token.EOF) {
            Token open = innermostUnclosedBracket(parser);
            if (open != null && !expectsOnlyTerminator(parser)) {
                linesWithErrors.add(open.getLine());
                diagnostics.error(source.at(open.getLine(), open.getCharPositionInLine() + 1), 1,
                        "this '" + open.getText() + "' is never closed: the file ends first");
                return;
            }
        }
        Message message = message(parser, token, antlrMessage);
        // No viable alternative: the decision began earlier than the offending token, so ANTLR's
        // expectation set describes the start of the construct; say what follows what instead.
        if (e instanceof NoViableAltException nva && nva.getStartToken() != null
                && nva.getStartToken().getTokenIndex() < token.getTokenIndex()) {
            message = noViableAlternative(parser, nva.getStartToken(), token);
        }
        // "expected ';'" belongs after the previous token when the offending one starts a new line,
        // the way people read a missing terminator. Only for a single expected token: "expected a
        // declaration" is about the offending token itself, wherever it is.
        if (message.afterPrevious() && previous != null && previous.getLine() < token.getLine()) {
            int end = previous.getCharPositionInLine() + previous.getText().length() + 1;
            linesWithErrors.add(previous.getLine());
            diagnostics.error(source.at(previous.getLine(), end), 1, message.text().replaceFirst(
                    " but found .*| before .*", "") + " after '" + shorten(previous.getText()) + "'");
            return;
        }
        int length = token.getType() == Token.EOF ? 1 : Math.max(1, token.getText().length());
        diagnostics.error(source.at(line, column), length, message.text());
    }

    /**
     * After an error inside a declaration, ANTLR's recovery often closes the declaration early and then
     * finds the rest of it at the top level: "expected a declaration" there repeats the first error.
     * It is reported only when a declaration keyword came between the two.
     */
    private boolean isLeftoverOfBrokenDeclaration(Parser parser, Token token) {
        if (lastErrorToken < 0 || token.getTokenIndex() <= lastErrorToken) {
            return false;
        }
        IntervalSet expected = expectedTokens(parser);
        if (!(expected.contains(XpsLexer.MAP) && expected.contains(XpsLexer.HANDLER))) {
            return false;
        }
        TokenStream tokens = parser.getTokenStream();
        for (int i = lastErrorToken + 1; i < token.getTokenIndex(); i++) {
            switch (tokens.get(i).getType()) {
                case XpsLexer.MAP, XpsLexer.HANDLER, XpsLexer.WRITE, XpsLexer.DISPATCH, XpsLexer.CONSENSUS,
                     XpsLexer.TEST -> {
                    return false;
                }
                default -> { }
            }
        }
        return true;
    }

    /** A message, and whether it may move to the end of the previous token (a missing terminator). */
    private record Message(String text, boolean afterPrevious) {
        static Message of(String text) {
            return new Message(text, false);
        }
    }

    private static Message noViableAlternative(Parser parser, Token start, Token token) {
        String text = "unexpected " + describe(token) + " after '" + shorten(start.getText()) + "'";
        if (start.getType() != XpsLexer.IDENT) {
            return Message.of(text);
        }
        Token next = parser.getTokenStream().get(start.getTokenIndex() + 1);
        if (next.getType() == XpsLexer.ASSIGN && next.getTokenIndex() + 1 == token.getTokenIndex()) {
            // 'x = a + 1;' : only lookup and append assign without 'let'.
            return Message.of("unexpected " + describe(token) + " after '" + start.getText() + " =': to compute "
                    + "a value write 'let " + start.getText() + " = ...;' (without 'let', '=' only takes "
                    + "'lookup' or 'append')");
        }
        return Message.of(text + " (a statement that starts with a name assigns to it: 'NAME = ...')");
    }

    private static Token previousToken(Parser parser, Token token) {
        int index = token.getTokenIndex();
        if (index <= 0) {
            return null;
        }
        Token previous = parser.getTokenStream().get(index - 1);
        return previous.getChannel() == Token.DEFAULT_CHANNEL ? previous : null;
    }

    /** The last opening bracket without its closing one, or null when all are closed. */
    private static Token innermostUnclosedBracket(Parser parser) {
        Deque<Token> open = new ArrayDeque<>();
        TokenStream tokens = parser.getTokenStream();
        for (int i = 0; i < tokens.size(); i++) {
            Token t = tokens.get(i);
            switch (t.getType()) {
                case XpsLexer.LPAREN, XpsLexer.LBRACE, XpsLexer.LBRACK -> open.push(t);
                case XpsLexer.RPAREN, XpsLexer.RBRACE, XpsLexer.RBRACK -> open.poll();
                default -> { }
            }
        }
        return open.peek();
    }

    private static boolean expectsOnlyTerminator(Parser parser) {
        IntervalSet expected = expectedTokens(parser);
        return expected.size() == 1 && expected.contains(XpsLexer.SEMI);
    }

    private static IntervalSet expectedTokens(Parser parser) {
        try {
            return parser.getExpectedTokens();
        } catch (RuntimeException ex) {
            return new IntervalSet();
        }
    }

    private static Message message(Parser parser, Token token, String antlrMessage) {
        switch (token.getType()) {
            case XpsLexer.BAD_CHAR:
                return Message.of("unexpected character '" + printable(token.getText()) + "'");
            case XpsLexer.UNTERMINATED_STRING:
                return Message.of("unterminated string literal (a string must close on the line it starts)");
            default:
                break;
        }
        TokenStream tokens = parser.getTokenStream();
        String found = describe(token);
        // x"cafg": not a hex string, so the lexer saw the name 'x' and then a string.
        if (token.getType() == XpsLexer.IDENT && token.getText().equals("x")
                && token.getTokenIndex() + 1 < tokens.size()) {
            Token next = tokens.get(token.getTokenIndex() + 1);
            if (next.getType() == XpsLexer.STRING && next.getStartIndex() == token.getStopIndex() + 1) {
                return Message.of("bad hex string x" + shorten(next.getText())
                        + ": it may contain only hex digits (0-9, a-f), spaces and '_'");
            }
        }
        IntervalSet expected = expectedTokens(parser);
        Set<String> names = new LinkedHashSet<>();
        for (int type : expected.toArray()) {
            names.add(displayName(parser.getVocabulary(), type));
        }
        String hint = "";
        if (token.getType() == XpsLexer.ASSIGN && !expected.contains(XpsLexer.ASSIGN)) {
            hint = " (to compare, use '==')";
        }
        if (antlrMessage.startsWith("missing ")) {
            String what = names.isEmpty() || names.size() > MAX_LISTED_EXPECTATIONS
                    ? antlrMessage.substring("missing ".length(), antlrMessage.indexOf(" at ")).strip()
                    : String.join(" or ", names);
            return new Message("missing " + what + " before " + found + hint, true);
        }
        if (expected.contains(XpsLexer.MAP) && expected.contains(XpsLexer.HANDLER)) {
            return Message.of("expected a declaration (map, handler, write handler, dispatch, consensus or test) "
                    + "but found " + found);
        }
        if (expected.contains(XpsLexer.RETURN) && expected.contains(XpsLexer.ENCODE)) {
            return Message.of("expected a statement (decode, let, lookup, append, update, delete, if, encode, "
                    + "return) or '}' but found " + found);
        }
        // let v = lookup m[k] else pass;
        int index = token.getTokenIndex();
        if ((token.getType() == XpsLexer.LOOKUP || token.getType() == XpsLexer.APPEND) && index >= 3
                && tokens.get(index - 1).getType() == XpsLexer.ASSIGN
                && tokens.get(index - 3).getType() == XpsLexer.LET) {
            String target = tokens.get(index - 2).getText();
            return Message.of("'" + token.getText() + "' is not an expression: drop the 'let' and write '"
                    + target + " = " + token.getText() + " ...'");
        }
        if (expected.contains(XpsLexer.IDENT) && isKeyword(token)) {
            boolean expression = expected.contains(XpsLexer.INT) && expected.contains(XpsLexer.LPAREN);
            return Message.of(expression ? "expected an expression but found keyword '" + token.getText() + "'"
                    : "expected a name but found keyword '" + token.getText() + "' (keywords cannot be names)");
        }
        if (names.isEmpty() || names.size() > MAX_LISTED_EXPECTATIONS) {
            return Message.of("unexpected " + found + hint);
        }
        if (names.size() == 1) {
            return new Message("expected " + names.iterator().next() + " but found " + found + hint, true);
        }
        return Message.of("expected one of " + String.join(", ", names) + " but found " + found + hint);
    }

    /** A reserved word, such as 'map' or 'lookup' (not a soft keyword, which the ident rule accepts). */
    private static boolean isKeyword(Token token) {
        String literal = XpsParser.VOCABULARY.getLiteralName(token.getType());
        return literal != null && Character.isLetter(literal.charAt(1));
    }

    private static String describe(Token token) {
        if (token.getType() == Token.EOF) {
            return "end of file";
        }
        return switch (token.getType()) {
            case XpsLexer.IDENT -> "name '" + shorten(token.getText()) + "'";
            case XpsLexer.INT -> "number " + shorten(token.getText());
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
            case XpsLexer.IPV6 -> "an IPv6 address";
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
