package dev.xps.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.xps.grammar.XpsLexer;
import dev.xps.grammar.XpsParser;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;
import org.antlr.v4.runtime.BaseErrorListener;
import org.antlr.v4.runtime.CharStreams;
import org.antlr.v4.runtime.CommonTokenStream;
import org.antlr.v4.runtime.ParserRuleContext;
import org.antlr.v4.runtime.RecognitionException;
import org.antlr.v4.runtime.Recognizer;
import org.antlr.v4.runtime.Token;
import org.antlr.v4.runtime.tree.ParseTree;
import org.antlr.v4.runtime.tree.TerminalNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The valid corpus ({@code src/test/resources/valid/ok-*.xps}) must exercise the whole grammar: every
 * rule alternative, every token (keywords, operators, literals), and the optional parts that the parse
 * tree alone does not name (else-if, 'send to', 'expect tx' with bytes, 'update ... else', 'at' offsets).
 * When the grammar grows, this test fails until a valid program uses the new construct.
 */
class GrammarCoverageTest {
    /** Tokens a valid program never contains: error tokens and the skipped ones. */
    static final Set<Integer> NEVER_IN_VALID = Set.of(XpsLexer.BAD_CHAR, XpsLexer.UNTERMINATED_STRING,
            XpsLexer.COMMENT, XpsLexer.WS);

    static final List<ParseTree> trees = new ArrayList<>();
    static final Set<Integer> tokenTypes = new HashSet<>();

    @BeforeAll
    static void parseCorpus() throws IOException {
        for (Path file : CorpusSupport.xpsFiles(ValidCorpusTest.CORPUS)) {
            XpsLexer lexer = new XpsLexer(CharStreams.fromString(Files.readString(file)));
            CommonTokenStream tokens = new CommonTokenStream(lexer);
            XpsParser parser = new XpsParser(tokens);
            parser.removeErrorListeners();
            parser.addErrorListener(new BaseErrorListener() {
                @Override
                public void syntaxError(Recognizer<?, ?> r, Object symbol, int line, int col, String msg,
                                        RecognitionException e) {
                    throw new AssertionError(file + ":" + line + ":" + (col + 1) + ": " + msg);
                }
            });
            trees.add(parser.program());
            for (Token t : tokens.getTokens()) {
                tokenTypes.add(t.getType());
            }
        }
    }

    @Test
    void everyRuleAlternativeIsUsed() {
        // Labelled alternatives are subclasses of their rule's context; only leaf classes are instantiated.
        List<Class<?>> contexts = Arrays.stream(XpsParser.class.getDeclaredClasses())
                .filter(ParserRuleContext.class::isAssignableFrom).toList();
        Set<String> required = new TreeSet<>();
        for (Class<?> c : contexts) {
            boolean hasSubclass = contexts.stream().anyMatch(o -> o != c && c.isAssignableFrom(o));
            if (!hasSubclass) {
                required.add(c.getSimpleName());
            }
        }
        Set<String> seen = new HashSet<>();
        for (ParseTree tree : trees) {
            walk(tree, t -> seen.add(t.getClass().getSimpleName()) || true);
        }
        required.removeAll(seen);
        assertEquals(Set.of(), required, "grammar alternatives no valid program uses");
    }

    @Test
    void everyTokenIsUsed() {
        Set<String> missing = new TreeSet<>();
        for (int type = 1; type <= XpsLexer.VOCABULARY.getMaxTokenType(); type++) {
            if (!NEVER_IN_VALID.contains(type) && !tokenTypes.contains(type)) {
                missing.add(XpsLexer.VOCABULARY.getDisplayName(type));
            }
        }
        assertEquals(Set.of(), missing, "tokens no valid program uses");
    }

    @Test
    void optionalPartsAreUsed() {
        assertUsed("else if", XpsParser.IfStatementContext.class, c -> c.elseIf != null);
        assertUsed("else { }", XpsParser.IfStatementContext.class, c -> c.otherwise != null);
        assertUsed("if without else", XpsParser.IfStatementContext.class, c -> c.ELSE() == null);
        assertUsed("send to ENTRY", XpsParser.SendStepContext.class, c -> c.entry != null);
        assertUsed("send without 'to'", XpsParser.SendStepContext.class, c -> c.entry == null);
        assertUsed("expect tx BYTES", XpsParser.ExpectVerdictStepContext.class, c -> c.response != null);
        assertUsed("expect VERDICT without bytes", XpsParser.ExpectVerdictStepContext.class, c -> c.response == null);
        assertUsed("update ... else", XpsParser.UpdateStmtContext.class, c -> c.verdict() != null);
        assertUsed("update without else", XpsParser.UpdateStmtContext.class, c -> c.verdict() == null);
        assertUsed("bytes[N] at OFFSET", XpsParser.FixedBytesFieldContext.class, c -> c.offset != null);
        assertUsed("bytes[N] without offset", XpsParser.FixedBytesFieldContext.class, c -> c.offset == null);
        assertUsed("integer field at OFFSET", XpsParser.IntFieldSourceContext.class, c -> c.offset != null);
        assertUsed("integer field without offset", XpsParser.IntFieldSourceContext.class, c -> c.offset == null);
        assertUsed("port range", XpsParser.PortRangeContext.class, c -> c.hi != null);
        assertUsed("single port", XpsParser.PortRangeContext.class, c -> c.hi == null);
        assertUsed("address with prefix", XpsParser.SrcAddrClauseContext.class, c -> c.address.getText().contains("/"));
        assertUsed("plain address", XpsParser.DstAddrClauseContext.class, c -> !c.address.getText().contains("/"));
        assertUsed("map with stats", XpsParser.MapDeclContext.class, c -> c.STATS() != null);
        assertUsed("write handler", XpsParser.HandlerDeclContext.class, c -> c.WRITE() != null);
        assertUsed("handler without predicate", XpsParser.HandlerDeclContext.class, c -> c.predicate() == null);
        assertUsed("dispatch with 'le'", XpsParser.DispatchDeclContext.class, c -> c.LE() != null);
        assertUsed("dispatch with 'be'", XpsParser.DispatchDeclContext.class, c -> c.BE() != null);
        assertUsed("dispatch with default order", XpsParser.DispatchDeclContext.class, c -> c.order == null);
        assertUsed("dispatch on integers", XpsParser.ArmSelectorContext.class, c -> c.INT() != null);
        assertUsed("dispatch on bytes", XpsParser.ArmSelectorContext.class, c -> c.bytesLiteral() != null);
        assertUsed("arm to a handler", XpsParser.ArmTargetContext.class, c -> c.ident() != null);
        assertUsed("arm to a verdict", XpsParser.ArmTargetContext.class, c -> c.verdict() != null);
        assertUsed("order when with several values", XpsParser.OrderWhenSettingContext.class,
                c -> c.values.size() > 1);
        assertUsed("concatenated literal", XpsParser.BytesLiteralContext.class, c -> c.getChildCount() > 1);
        assertUsed("test value: number", XpsParser.TestValueContext.class, c -> c.INT() != null);
        assertUsed("test value: bytes", XpsParser.TestValueContext.class, c -> c.bytesLiteral() != null);
        assertUsed("hex integer", XpsParser.IntLiteralContext.class, c -> c.getText().startsWith("0x"));
        assertUsed("integer with '_'", XpsParser.MapDeclContext.class, c -> c.capacity.getText().contains("_"));
        for (String verdict : List.of("tx", "drop", "pass", "reset")) {
            assertUsed("return " + verdict, XpsParser.ReturnStmtContext.class,
                    c -> c.verdict().getText().equals(verdict));
            assertUsed("expect " + verdict, XpsParser.ExpectVerdictStepContext.class,
                    c -> c.verdict().getText().equals(verdict));
        }
        for (String verdict : List.of("drop", "pass", "reset")) {
            assertUsed("decode ... else " + verdict, XpsParser.DecodeStmtContext.class,
                    c -> c.verdict().getText().equals(verdict));
        }
        for (String kind : List.of("hash", "array", "log")) {
            assertUsed(kind + " map", XpsParser.MapDeclContext.class, c -> c.kind.getText().equals(kind));
        }
        for (String proto : List.of("tcp", "udp")) {
            assertUsed("handler on " + proto, XpsParser.HandlerDeclContext.class,
                    c -> c.predicate() != null && c.predicate().proto.getText().equals(proto));
            assertUsed("dispatch on " + proto, XpsParser.DispatchDeclContext.class,
                    c -> c.predicate().proto.getText().equals(proto));
            assertUsed("consensus on " + proto, XpsParser.ConsensusDeclContext.class,
                    c -> c.predicate().proto.getText().equals(proto));
        }
        for (String field : List.of("u8", "u16be", "u16le", "u32be", "u32le", "u64be", "u64le")) {
            assertUsed("decode " + field, XpsParser.IntFieldSourceContext.class,
                    c -> c.fieldType.getText().equals(field));
            assertUsed("encode " + field + "(...)", XpsParser.IntItemContext.class,
                    c -> c.intField().getText().equals(field));
        }
    }

    private static <C extends ParseTree> void assertUsed(String what, Class<C> type, Predicate<C> test) {
        boolean[] found = {false};
        for (ParseTree tree : trees) {
            walk(tree, t -> {
                if (type.isInstance(t) && test.test(type.cast(t))) {
                    found[0] = true;
                }
                return !found[0];
            });
        }
        assertTrue(found[0], "no valid program uses " + what);
    }

    /** Pre-order walk; stops early when {@code visit} returns false. Iterative: trees can be deep. */
    private static void walk(ParseTree root, Predicate<ParseTree> visit) {
        ArrayList<ParseTree> stack = new ArrayList<>(List.of(root));
        while (!stack.isEmpty()) {
            ParseTree t = stack.removeLast();
            if (t instanceof TerminalNode) {
                continue;
            }
            if (!visit.test(t)) {
                return;
            }
            for (int i = t.getChildCount() - 1; i >= 0; i--) {
                stack.add(t.getChild(i));
            }
        }
    }
}
