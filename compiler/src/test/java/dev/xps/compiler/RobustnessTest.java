package dev.xps.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.compiler.diag.Diagnostic;
import dev.xps.compiler.diag.DiagnosticPrinter;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.Severity;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.driver.Compiler;
import dev.xps.compiler.ir.IrModule;
import dev.xps.compiler.parse.SourceParser;
import dev.xps.grammar.XpsLexer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;

/**
 * Hostile input never escapes the front end as an exception and never hangs: whatever the bytes,
 * {@link Compiler#compile} returns, with error diagnostics that point inside the file, or with IR
 * and no error. Every test runs under a timeout in its own thread, so a hang fails instead of
 * blocking the build. Random inputs use fixed seeds: a failure reproduces.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = ThreadMode.SEPARATE_THREAD)
class RobustnessTest {
    /** A valid program of about sixty lines touching most of the grammar; every prefix of it is compiled. */
    static final String VALID = """
            # Truncation target: a realistic file with maps, handlers, dispatch, consensus and tests.
            map cache : hash<bytes[32], bytes[256]> capacity 2_000_000 with stats;
            map slots : array<u16, u32> capacity 1024;
            map journal : log<bytes[64]> capacity 4096;

            handler get on tcp port 6379 from 10.0.0.0/8 {
              decode {
                expect "*2\\r\\n$3\\r\\n"; expect_ci "GET"; expect "\\r\\n$";
                klen = decimal max 2 digits; expect "\\r\\n";
                key = bytes(klen) max 32; expect "\\r\\n";
              } else pass;
              value = lookup cache[key] else pass;
              encode { "$" decimal(len(value)) "\\r\\n" value "\\r\\n" }
              return tx;
            }

            handler bin on udp port 7000..7010 sport 1024..65535 {
              decode {
                magic = u16be at 0; id = u32le at 2; tag = bytes[4] at 6;
                require magic == 0xCAFE and (id & 1 == 0 or not (tag != "ABCD"));
              } else drop;
              n = lookup slots[id & 1023] else pass;
              if n > 10 {
                return reset;
              } else if n << 2 >= 3 {
                i = append journal tag else drop;
                encode { u32be(n * 2 + 1) u64le(i) x"0d 0a" }
              } else {
                encode { "small" }
              }
              return tx;
            }

            handler ping {
              decode { expect "PING"; } else pass;
              encode { "PONG" }
              return tx;
            }

            dispatch bus on tcp port 9000 at offset 0 length 4 {
              "PING" => ping;
              "QUIT" => reset;
              _ => pass;
            }

            consensus kv on udp port 6000 {
              replicas 3;
              log capacity 1_048_576 entry 1500;
              order when u8 at 0 in { 1, 2 };
              failure_threshold 8;
            }

            test "hit" {
              cache["foo"] = "bar";
              send to get "*2\\r\\n$3\\r\\nGET\\r\\n$3\\r\\nfoo\\r\\n";
              expect tx "$3\\r\\nbar\\r\\n";
            }

            test "ping" {
              send to bus "PING";
              expect tx "PONG";
            }
            """;

    // ------------------------------------------------------------------ the invariant

    /** What one compilation produced. */
    record Outcome(SourceFile source, Diagnostics diagnostics, Optional<IrModule> module, String rendered) {
        boolean hasErrors() {
            return diagnostics.hasErrors();
        }
    }

    /**
     * Compiles {@code text} and checks the invariant every input must satisfy: no Throwable escapes,
     * errors and IR exclude each other, every diagnostic points inside the file, and the rendering is
     * bounded (at most {@link Diagnostics#MAX_REPORTED_ERRORS} errors, source lines cut at 200 chars).
     */
    static Outcome compile(String what, String text) {
        return compile(what, text, 300);
    }

    /** As {@link #compile(String, String)}, with a bound on message length (user text in messages is cut). */
    static Outcome compile(String what, String text, int maxMessageChars) {
        SourceFile source = new SourceFile("fuzz.xps", text);
        Diagnostics diagnostics = new Diagnostics();
        Optional<IrModule> module;
        String rendered;
        try {
            module = Compiler.compile(source, diagnostics);
            rendered = new DiagnosticPrinter(Map.of(source.name(), source)).renderAll(diagnostics);
        } catch (Throwable t) {
            throw new AssertionError(what + ": the front end threw " + t + " for input " + preview(text), t);
        }
        if (diagnostics.hasErrors() == module.isPresent()) {
            fail(what + ": errors=" + diagnostics.errorCount() + " but IR " + (module.isPresent() ? "present" : "absent")
                    + " for input " + preview(text) + "\n" + rendered);
        }
        int lines = (int) text.chars().filter(c -> c == '\n').count() + 1;
        for (Diagnostic d : diagnostics.sorted()) {
            assertEquals("fuzz.xps", d.location().file(), what + ": " + d.headline());
            assertTrue(d.location().line() >= 1 && d.location().line() <= lines, () -> what
                    + ": line out of the file: " + d.headline() + " for input " + preview(text));
            assertTrue(d.location().column() >= 1, () -> what + ": column < 1: " + d.headline());
            assertFalse(d.message().contains("\n"), () -> what + ": multi-line message: " + d.headline());
            assertFalse(d.message().isBlank(), what + ": empty message");
            assertTrue(d.message().length() <= maxMessageChars, () -> what + ": a " + d.message().length()
                    + "-char message: " + d.headline().substring(0, 300));
        }
        assertTrue(diagnostics.sorted().stream().filter(d -> d.severity() == Severity.ERROR).count()
                <= Diagnostics.MAX_REPORTED_ERRORS, what + ": too many errors kept");
        // Each diagnostic renders as a bounded headline, a source line cut at 200 chars and a caret line.
        long bound = 100 + diagnostics.sorted().size() * (long) (Diagnostic.MAX_MESSAGE_CHARS + 600);
        assertTrue(rendered.length() <= bound, () -> what + ": rendering is " + rendered.length() + " chars");
        return new Outcome(source, diagnostics, module, rendered);
    }

    static Outcome compileExpectingErrors(String what, String text) {
        return compileExpectingErrors(what, text, 300);
    }

    static Outcome compileExpectingErrors(String what, String text, int maxMessageChars) {
        Outcome outcome = compile(what, text, maxMessageChars);
        assertTrue(outcome.hasErrors(), () -> what + ": expected errors for input " + preview(text));
        return outcome;
    }

    static String preview(String text) {
        String cut = text.length() > 300 ? text.substring(0, 300) + "...(" + text.length() + " chars)" : text;
        StringBuilder out = new StringBuilder("\"");
        cut.codePoints().forEach(c -> out.append(c < 0x20 && c != '\n' ? String.format("\\x%02x", c)
                : Character.toString(c)));
        return out.append('"').toString();
    }

    // ------------------------------------------------------------------ random input

    @Test
    void randomBytes() {
        Random random = new Random(0x5eed_0001L);
        for (int i = 0; i < 300; i++) {
            byte[] bytes = new byte[random.nextInt(2_000)];
            random.nextBytes(bytes);
            // As a lenient reader would decode them (invalid sequences become U+FFFD) ...
            compile("random bytes #" + i + " as UTF-8", new String(bytes, StandardCharsets.UTF_8));
            // ... and byte for byte, so every value 0..255, NUL included, reaches the lexer.
            compile("random bytes #" + i + " as Latin-1", new String(bytes, StandardCharsets.ISO_8859_1));
        }
    }

    @Test
    void randomPrintableAscii() {
        Random random = new Random(0x5eed_0002L);
        int withErrors = 0;
        for (int i = 0; i < 500; i++) {
            StringBuilder text = new StringBuilder();
            int length = 1 + random.nextInt(1_500);
            for (int j = 0; j < length; j++) {
                int r = random.nextInt(100);
                text.append(r < 5 ? '\n' : r < 8 ? '\t' : (char) (0x20 + random.nextInt(0x5f)));
            }
            if (compile("random ASCII #" + i, text.toString()).hasErrors()) {
                withErrors++;
            }
        }
        assertTrue(withErrors >= 490, "random ASCII should almost always be an error, was for " + withErrors);
    }

    /** Every keyword and punctuation of the grammar, plus a sample of each literal kind. */
    static List<String> tokenPool() {
        List<String> pool = new ArrayList<>();
        for (int type = 1; type <= XpsLexer.VOCABULARY.getMaxTokenType(); type++) {
            String literal = XpsLexer.VOCABULARY.getLiteralName(type);
            if (literal != null) {
                pool.add(literal.substring(1, literal.length() - 1));
            }
        }
        pool.addAll(List.of("cache", "key", "value", "x", "h", "0", "1", "7", "65535", "65536", "0xFF", "2_000",
                "18446744073709551616", "\"GET\"", "\"\\r\\n\"", "\"\\q\"", "\"\"", "x\"0a0b\"", "x\"0\"", "x\"\"",
                "10.0.0.0/8", "1.2.3.4", "300.1.1.1", "1.2.3.4/40", "\"unterminated", "#comment\n", "@", "$", "\u00e9"));
        return pool;
    }

    @Test
    void randomTokenSoup() {
        Random random = new Random(0x5eed_0003L);
        List<String> pool = tokenPool();
        for (int i = 0; i < 2_000; i++) {
            StringBuilder text = new StringBuilder();
            int length = 1 + random.nextInt(200);
            for (int j = 0; j < length; j++) {
                text.append(pool.get(random.nextInt(pool.size()))).append(random.nextInt(8) == 0 ? "\n" : " ");
            }
            compile("token soup #" + i, text.toString());
        }
    }

    /** Token soup that starts like a real declaration, so the parser gets deeper before it fails. */
    @Test
    void randomTokenSoupInsideDeclarations() {
        Random random = new Random(0x5eed_0004L);
        List<String> pool = tokenPool();
        List<String> openings = List.of("handler h on tcp port 1 { ", "handler h on tcp port 1 { decode { ",
                "map m : hash<", "dispatch d on tcp port 1 at offset 0 length 4 { ", "consensus c on udp port 2 { ",
                "test \"t\" { ", "handler h on tcp port 1 { decode { n = u8; } else pass; let x = ",
                "handler h on tcp port 1 { decode { n = u8; } else pass; encode { ");
        for (int i = 0; i < 2_000; i++) {
            StringBuilder text = new StringBuilder(openings.get(random.nextInt(openings.size())));
            int length = random.nextInt(40);
            for (int j = 0; j < length; j++) {
                text.append(pool.get(random.nextInt(pool.size()))).append(' ');
            }
            if (random.nextBoolean()) {
                text.append("; } ");
            }
            compile("declaration soup #" + i, text.toString());
        }
    }

    /** Mutations of the valid program: one character deleted, duplicated or replaced. */
    @Test
    void randomSingleCharacterMutations() {
        Random random = new Random(0x5eed_0005L);
        String alphabet = "{}()[];:,=<>!&|^+-*\"x_0123456789 \n.#/\\abz";
        for (int i = 0; i < 3_000; i++) {
            int at = random.nextInt(VALID.length());
            String mutated = switch (random.nextInt(3)) {
                case 0 -> VALID.substring(0, at) + VALID.substring(at + 1);
                case 1 -> VALID.substring(0, at) + VALID.charAt(at) + VALID.substring(at);
                default -> VALID.substring(0, at) + alphabet.charAt(random.nextInt(alphabet.length()))
                        + VALID.substring(at + 1);
            };
            compile("mutation #" + i + " at " + at, mutated);
        }
    }

    // ------------------------------------------------------------------ truncation

    @Test
    void validProgramIsValid() {
        Outcome outcome = compile("the valid program", VALID);
        assertEquals("", outcome.rendered(), "the truncation target itself must compile cleanly");
        assertTrue(VALID.lines().count() >= 55, "the truncation target should be about sixty lines");
    }

    @Test
    void everyPrefixOfAValidProgram() {
        int withErrors = 0;
        for (int cut = 0; cut < VALID.length(); cut++) {
            if (compile("prefix of " + cut + " chars", VALID.substring(0, cut)).hasErrors()) {
                withErrors++;
            }
        }
        // Only prefixes that end between declarations (or in the first comment) can be valid.
        assertTrue(withErrors > VALID.length() * 9 / 10, "only " + withErrors + " of " + VALID.length()
                + " prefixes had errors");
    }

    @Test
    void everySuffixOfAValidProgram() {
        for (int cut = 1; cut < VALID.length(); cut += 3) {
            compile("suffix from " + cut, VALID.substring(cut));
        }
    }

    // ------------------------------------------------------------------ pathological shapes

    @Test
    void tenThousandNestedParentheses() {
        String deep = "(".repeat(10_000) + "1" + ")".repeat(10_000);
        Outcome outcome = compileExpectingErrors("nested parentheses",
                "handler h on tcp port 1 {\n  decode { n = u8; } else pass;\n  let x = " + deep + ";\n  return pass;\n}\n");
        assertTrue(outcome.rendered().contains("nested more than"), outcome.rendered());
    }

    @Test
    void tenThousandNestedBraces() {
        compileExpectingErrors("nested braces", "{".repeat(10_000) + "}".repeat(10_000));
        StringBuilder ifs = new StringBuilder("handler h on tcp port 1 {\n decode { n = u8; } else pass;\n");
        ifs.append("if true { ".repeat(10_000)).append("return pass; ").append("} ".repeat(10_000));
        ifs.append("\nreturn pass;\n}\n");
        compileExpectingErrors("nested ifs", ifs.toString());
        compileExpectingErrors("unclosed brackets", "handler h on tcp port 1 " + "{[(".repeat(5_000));
        compileExpectingErrors("unopened brackets", "}])".repeat(10_000));
    }

    @Test
    void moderateNestingStillCompiles() {
        String nested = "(".repeat(40) + "n" + ")".repeat(40);
        Outcome outcome = compile("40 nested parentheses", "handler h on tcp port 1 {\n decode { n = u8; } else pass;\n"
                + " let x = " + nested + " + 1;\n encode { u8(x) }\n return tx;\n}\n");
        assertEquals("", outcome.rendered());
    }

    @Test
    void longExpressionChain() {
        String chain = "1" + "+1".repeat(199_999);
        Outcome outcome = compile("200,000-term sum", "handler h on tcp port 1 {\n  decode { n = u8; } else pass;\n"
                + "  let x = " + chain + ";\n  encode { u64be(x) }\n  return tx;\n}\n");
        // Legal syntax: it compiles if the stack allows, otherwise it is a diagnostic (never an exception).
        if (outcome.hasErrors()) {
            assertTrue(outcome.rendered().contains("nested too deeply"), outcome.rendered());
        }
    }

    @Test
    void longChainsOfEveryOperator() {
        for (String op : List.of("*", "-", "<<", ">>", "&", "^", "|")) {
            String chain = "n" + (" " + op + " n").repeat(20_000);
            compile("chain of " + op, "handler h on tcp port 1 {\n decode { n = u8; } else pass;\n let x = " + chain
                    + ";\n encode { u64be(x) }\n return tx;\n}\n");
        }
        String conditions = "n == 1" + " and n == 1 or n != 2".repeat(10_000);
        compile("chain of and/or", "handler h on tcp port 1 {\n decode { n = u8; } else pass;\n if " + conditions
                + " { return drop; }\n return pass;\n}\n");
        compile("right-nested not", "handler h on tcp port 1 {\n decode { n = u8; } else pass;\n if "
                + "not ".repeat(100_000) + "true { return drop; }\n return pass;\n}\n");
        compile("comparison chain", "handler h on tcp port 1 {\n decode { n = u8; } else pass;\n if n"
                + " < n".repeat(10_000) + " { return drop; }\n return pass;\n}\n");
    }

    @Test
    void hugeFileOverTheSizeLimit() {
        String huge = VALID + "#" + "x".repeat(SourceParser.MAX_SOURCE_CHARS) + "\n";
        assertTrue(huge.length() > 4 << 20);
        Outcome outcome = compileExpectingErrors("file over 4 MiB", huge);
        assertTrue(outcome.rendered().contains("file is too large"), outcome.rendered());
    }

    @Test
    void largeFileJustUnderTheSizeLimit() {
        // ~4 MiB of comments and valid code: must compile, and quickly (the timeout is the check).
        StringBuilder text = new StringBuilder(VALID);
        String comment = "# " + "padding ".repeat(12) + "\n";
        while (text.length() + comment.length() < SourceParser.MAX_SOURCE_CHARS - 1_000) {
            text.append(comment);
        }
        assertEquals("", compile("file just under 4 MiB", text.toString()).rendered());
    }

    @Test
    void manyDeclarations() {
        StringBuilder text = new StringBuilder();
        for (int i = 1; i <= 20_000; i++) {
            text.append("map m").append(i).append(" : hash<u32, u32> capacity 1;\n");
        }
        // Legal, each map unused: warnings only, which must stay cheap to produce and render.
        Outcome outcome = compile("20,000 maps", text.toString());
        assertFalse(outcome.hasErrors(), outcome.rendered().lines().limit(5).toList().toString());
        assertEquals(20_000, outcome.diagnostics().sorted().size());
        StringBuilder handlers = new StringBuilder();
        for (int i = 1; i <= 20_000; i++) {
            handlers.append("handler h").append(i).append(" on tcp port ").append(i)
                    .append(" { decode { n = u8; } else pass; return pass; }\n");
        }
        assertEquals("", compile("20,000 handlers", handlers.toString()).rendered());
    }

    @Test
    void manyPredicateConflicts() {
        // Every handler conflicts with every other: the pairwise check must stay bounded and the output capped.
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < 2_000; i++) {
            text.append("handler h").append(i).append(" on tcp port 80 { decode { n = u8; } else pass; return pass; }\n");
        }
        Outcome outcome = compileExpectingErrors("2,000 handlers on one port", text.toString());
        assertTrue(outcome.rendered().contains("more errors not shown"), "errors are capped");
    }

    @Test
    void aMillionSemicolons() {
        Outcome outcome = compileExpectingErrors("a million ';'", ";".repeat(1_000_000));
        assertTrue(outcome.rendered().contains("too many tokens"), outcome.rendered());
        compileExpectingErrors("a million ';' on their own lines", ";\n".repeat(1_000_000));
        // Just under the token limit: every one is a syntax error, reported at most once a line.
        compileExpectingErrors("999,000 ';'", ";".repeat(999_000));
        compileExpectingErrors("300,000 ';' lines", ";\n".repeat(300_000));
    }

    @Test
    void manyErrorsOnManyLines() {
        String text = "handler h on tcp port 1 {\n" + "  let = ;\n".repeat(100_000) + "}\n";
        Outcome outcome = compileExpectingErrors("100,000 bad statements", text);
        assertTrue(outcome.rendered().contains("more errors not shown"), "errors are capped");
    }

    @Test
    void nulBytes() {
        compileExpectingErrors("NULs only", "\0".repeat(10_000));
        compileExpectingErrors("NUL between declarations", VALID.replace("\nhandler ping", "\n\0handler ping"));
        compileExpectingErrors("NUL in a name", VALID.replace("handler ping", "handler pi\0ng"));
        // Inside a string a NUL is just a byte (as \0 would be).
        compile("NUL in a string", VALID.replace("\"PONG\"", "\"PO\0NG\""));
    }

    @Test
    void invalidUtf8() {
        byte[][] samples = {
            {(byte) 0xC3, 0x28}, {(byte) 0xFF, (byte) 0xFE}, {(byte) 0xE2, (byte) 0x82}, {(byte) 0xC0, (byte) 0xAF},
            {(byte) 0xED, (byte) 0xA0, (byte) 0x80}, {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
        };
        for (byte[] bad : samples) {
            byte[] valid = VALID.getBytes(StandardCharsets.UTF_8);
            byte[] text = new byte[valid.length + bad.length];
            int at = VALID.indexOf("handler ping");
            System.arraycopy(valid, 0, text, 0, at);
            System.arraycopy(bad, 0, text, at, bad.length);
            System.arraycopy(valid, at, text, at + bad.length, valid.length - at);
            compileExpectingErrors("invalid UTF-8 decoded leniently", decodeLeniently(text));
            compileExpectingErrors("invalid UTF-8 alone", decodeLeniently(bad));
        }
        // Unpaired surrogates can reach the front end through any String API.
        compileExpectingErrors("lone surrogate", "handler \uD800 on tcp port 1 {}");
        compile("lone surrogate in a string", VALID.replace("\"PONG\"", "\"P\uDC00NG\""));
        compile("supplementary character in a string", VALID.replace("\"PONG\"", "\"P\uD83D\uDE00NG\""));
        compileExpectingErrors("supplementary character outside", "handler \uD83D\uDE00 on tcp port 1 {}");
    }

    static String decodeLeniently(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE)
                    .onUnmappableCharacter(CodingErrorAction.REPLACE).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void lineEndingsAndWhitespace() {
        assertEquals("", compile("CRLF", VALID.replace("\n", "\r\n")).rendered());
        assertEquals("", compile("tabs", VALID.replace("  ", "\t")).rendered());
        compile("CR only", VALID.replace("\n", "\r"));
        // The lexer counts lines at '\n' only; the quoted line must be the one it means.
        Outcome cr = compileExpectingErrors("CR only with an error", "handler h on tcp port 1 {\r decode { n = u8; }"
                + " else pass;\r return tx;\r}\r");
        assertTrue(cr.rendered().startsWith("fuzz.xps:1:"), cr.rendered());
        assertTrue(cr.rendered().contains("return tx;"), "the quoted line holds the error:\n" + cr.rendered());
        assertEquals(3, cr.rendered().lines().count(), "a CR in the quoted line must not split it:\n" + cr.rendered());
        compile("form feeds", VALID.replace("\n", "\f\n"));
        compile("empty", "");
        compile("only whitespace", " \n\t\r\n ");
        compile("only a comment", "# nothing here");
        compileExpectingErrors("CRLF with an error", VALID.replace("\n", "\r\n").replace("return tx;", "return tx"));
    }

    @Test
    void veryLongLinesAndTokens() {
        compileExpectingErrors("a 1 MB name", "handler " + "a".repeat(1 << 20) + " on tcp port 1 { return tx; }");
        compileExpectingErrors("a 1 MB unknown name", "handler h on tcp port 1 { decode { n = u8; } else pass; let x = "
                + "a".repeat(1 << 20) + "; return pass; }", Diagnostic.MAX_MESSAGE_CHARS);
        compileExpectingErrors("a 1 MB unexpected name", "handler h on tcp port 1 " + "a".repeat(1 << 20));
        compileExpectingErrors("a 1 MB IPv4 octet", "handler h on tcp port 1 from 1." + "2".repeat(1 << 20)
                + ".3.4 { decode { n = u8; } else pass; return pass; }");
        Outcome number = compileExpectingErrors("a 1 MB number", "map m : hash<u32, u32> capacity "
                + "9".repeat(1 << 20) + ";");
        assertTrue(number.rendered().contains("(1048576 characters) does not fit in 64 bits"), number.rendered());
        compileExpectingErrors("a 1 MB bad escape string", "test \"" + "\\q".repeat(1 << 19) + "\" { }");
        compileExpectingErrors("a 1 MB odd hex string", "handler h on tcp port 1 { decode { expect x\""
                + "a".repeat((1 << 20) + 1) + "\"; } else pass; return pass; }");
        compileExpectingErrors("a 1 MB unterminated string", "handler h on tcp port 1 { decode { expect \""
                + "a".repeat(1 << 20));
        Outcome outcome = compileExpectingErrors("one long garbage line", "@".repeat(1 << 20));
        assertTrue(outcome.rendered().length() < 1_000, "a long line is cut in the rendering");
    }

    @Test
    void extremeNumbers() {
        for (String n : List.of("0", "18446744073709551615", "18446744073709551616", "0xFFFFFFFFFFFFFFFF",
                "0x10000000000000000", "9223372036854775808", "0_0", "1__________0")) {
            String text = VALID.replace("capacity 4096", "capacity " + n).replace("length 4 {", "length " + n + " {")
                    .replace("replicas 3", "replicas " + n).replace("at 0;", "at " + n + ";")
                    .replace("max 32;", "max " + n + ";").replace("port 6379", "port " + n)
                    .replace("max 2 digits", "max " + n + " digits");
            compile("extreme number " + n, text);
        }
    }

    @Test
    void corpusFilesSurviveTruncation() throws IOException {
        // The error corpus is a second source of near-miss inputs.
        for (var file : CorpusSupport.xpsFiles(ErrorCorpusTest.CORPUS)) {
            String text = Files.readString(file);
            for (int cut = 0; cut < text.length(); cut += 7) {
                compile(file.getFileName() + " cut at " + cut, text.substring(0, cut));
            }
        }
    }
}
