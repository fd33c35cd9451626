package dev.xps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.Timeout.ThreadMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The xpsc command line, run in-process through {@link Xpsc#run}: exit codes (0 ok, 1 errors in the
 * input, 2 usage), where output goes, and that no input produces a stack trace.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = ThreadMode.SEPARATE_THREAD)
class XpscTest {
    static final Pattern ERROR_LINE = Pattern.compile("(?m)^\\S+\\.xps:\\d+:\\d+: error: \\S.*$");

    static final String VALID = """
            map cache : hash<bytes[32], bytes[256]> capacity 1000;

            handler get on tcp port 6379 {
              decode {
                expect "GET ";
                key = until "\\r\\n" max 32;
              } else pass;
              value = lookup cache[key] else pass;
              encode { value "\\r\\n" }
              return tx;
            }

            test "hit" {
              cache["foo"] = "bar";
              send "GET foo\\r\\n";
              expect tx "bar\\r\\n";
            }

            test "miss" {
              send "GET nope\\r\\n";
              expect pass;
            }
            """;

    /** A syntax error: assignment without let. */
    static final String BROKEN = """
            map slots : array<u16, u32> capacity 1024;

            handler get on udp port 7000 {
              decode { magic = u16be; index = u16be; } else drop;
              require_ok = 1;
              return pass;
            }
            """;

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    static Run xpsc(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Xpsc.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(code, out.toString(), err.toString());
    }

    Path file(String name, String text) throws IOException {
        Path path = dir.resolve(name);
        Files.writeString(path, text, StandardCharsets.UTF_8);
        return path;
    }

    static void assertNoStackTrace(Run run) {
        String all = run.out() + run.err();
        assertFalse(all.contains("\tat "), () -> "stack trace in output:\n" + run);
        assertFalse(all.contains("Exception"), () -> "exception in output:\n" + run);
        assertFalse(all.contains("internal error"), () -> "internal error:\n" + run);
    }

    // ------------------------------------------------------------------ help, version, usage errors

    @Test
    void helpExitsZero() {
        Run run = xpsc("--help");
        assertEquals(0, run.code(), run::toString);
        assertTrue(run.out().contains("Usage: xpsc"), run::toString);
        for (String command : List.of("check", "compile", "test", "targets")) {
            assertTrue(run.out().contains(command), () -> "help does not mention " + command + ":\n" + run);
        }
    }

    @Test
    void subcommandHelpExitsZero() {
        for (String[] args : List.of(new String[] {"check", "--help"}, new String[] {"compile", "--help"},
                new String[] {"test", "--help"}, new String[] {"help", "compile"})) {
            Run run = xpsc(args);
            assertEquals(0, run.code(), () -> String.join(" ", args) + ": " + run);
            assertTrue(run.out().contains("Usage: xpsc"), () -> String.join(" ", args) + ": " + run);
        }
        assertTrue(xpsc("compile", "--help").out().contains("--target"));
    }

    @Test
    void versionExitsZero() {
        Run run = xpsc("--version");
        assertEquals(0, run.code(), run::toString);
        assertTrue(run.out().matches("(?s)xpsc \\d+\\.\\d+\\.\\d+.*"), run::toString);
        assertFalse(run.out().contains("unknown"), () -> "version.properties was not filtered:\n" + run);
    }

    @Test
    void noCommandIsAUsageError() {
        Run run = xpsc();
        assertEquals(2, run.code(), run::toString);
        assertTrue(run.err().contains("missing command"), run::toString);
        assertTrue(run.err().contains("xpsc --help"), run::toString);
    }

    @Test
    void unknownSubcommandIsAUsageError() {
        Run run = xpsc("frobnicate", "x.xps");
        assertEquals(2, run.code(), run::toString);
        assertTrue(run.err().contains("'frobnicate'"), run::toString);
        assertTrue(run.err().contains("xpsc --help"), run::toString);
        assertEquals("", run.out());
    }

    @Test
    void unknownOptionIsAUsageError() throws IOException {
        Run run = xpsc("check", "--frobnicate", file("ok.xps", VALID).toString());
        assertEquals(2, run.code(), run::toString);
        assertTrue(run.err().contains("Unknown option: '--frobnicate'"), run::toString);
    }

    @Test
    void missingFileArgumentsAreUsageErrors() {
        for (String command : List.of("check", "test")) {
            Run run = xpsc(command);
            assertEquals(2, run.code(), () -> command + ": " + run);
            assertTrue(run.err().contains("Missing required parameter: 'FILE'"), () -> command + ": " + run);
        }
        Run compile = xpsc("compile", "--target", "java", "-o", dir.toString());
        assertEquals(2, compile.code(), compile::toString);
        assertTrue(compile.err().contains("FILE"), compile::toString);
    }

    @Test
    void compileNeedsTargetAndOutput() throws IOException {
        Run run = xpsc("compile", file("ok.xps", VALID).toString());
        assertEquals(2, run.code(), run::toString);
        assertTrue(run.err().contains("--target") && run.err().contains("--output"), run::toString);
    }

    @Test
    void unknownTargetIsAUsageError() throws IOException {
        Path ok = file("ok.xps", VALID);
        Run run = xpsc("compile", "--target", "vax", "-o", dir.resolve("out").toString(), ok.toString());
        assertEquals(2, run.code(), run::toString);
        assertTrue(run.err().contains("unknown target 'vax'"), run::toString);
        for (String known : List.of("java", "ebpf", "p4-bmv2", "nfp")) {
            assertTrue(run.err().contains(known), () -> "the message should list " + known + ":\n" + run);
        }
        assertFalse(Files.exists(dir.resolve("out")), "nothing may be written on a usage error");
        Run test = xpsc("test", "--target", "vax", ok.toString());
        assertEquals(2, test.code(), test::toString);
    }

    // ------------------------------------------------------------------ inputs

    @Test
    void validFileChecksClean() throws IOException {
        Run run = xpsc("check", file("ok.xps", VALID).toString());
        assertEquals(0, run.code(), run::toString);
        assertFalse(run.err().contains("error:"), run::toString);
        assertTrue(run.err().contains("1 of 1 file checked without errors"), run::toString);
    }

    @Test
    void fileWithErrorsExitsOneWithPositionedDiagnostics() throws IOException {
        Path bad = file("bad.xps", VALID.replace("lookup cache[key]", "lookup cahce[key]"));
        Run run = xpsc("check", bad.toString());
        assertEquals(1, run.code(), run::toString);
        assertTrue(run.err().contains(bad + ":8:18: error: unknown map 'cahce' (did you mean 'cache'?)\n"
                + "      value = lookup cahce[key] else pass;\n"
                + "                     ^^^^^\n"), run::toString);
        assertTrue(ERROR_LINE.matcher(run.err()).find(), run::toString);
        assertEquals("", run.out(), "diagnostics go to stderr only");
        assertNoStackTrace(run);

        Path syntax = file("syntax.xps", VALID.replace("return tx;", "return tx"));
        Run syntaxRun = xpsc("check", syntax.toString());
        assertEquals(1, syntaxRun.code(), syntaxRun::toString);
        assertTrue(syntaxRun.err().contains(syntax + ":10:12: error: missing ';' after 'tx'"), syntaxRun::toString);
    }

    @Test
    void semanticErrorsAreAllReported() throws IOException {
        Path bad = file("sema.xps", VALID.replace("lookup cache[key]", "lookup cahce[key]")
                .replace("expect pass;", "expect pass \"x\";"));
        Run run = xpsc("check", bad.toString());
        assertEquals(1, run.code(), run::toString);
        assertEquals(2, ERROR_LINE.matcher(run.err()).results().count(), run::toString);
    }

    @Test
    void severalFilesAreAllChecked() throws IOException {
        Path ok = file("ok.xps", VALID);
        Path bad = file("bad.xps", "handler h on tcp port 1 { return tx }\n");
        Run run = xpsc("check", ok.toString(), bad.toString());
        assertEquals(1, run.code(), run::toString);
        assertTrue(run.err().contains("1 of 2 files checked without errors"), run::toString);
        assertTrue(run.err().contains(bad + ":1:"), run::toString);
        assertFalse(run.err().contains(ok + ":"), run::toString);
    }

    @Test
    void missingFileExitsOneWithAClearMessage() {
        Path missing = dir.resolve("nope.xps");
        Run run = xpsc("check", missing.toString());
        assertEquals(1, run.code(), run::toString);
        assertTrue(run.err().contains(missing + ": error: no such file"), run::toString);
        assertNoStackTrace(run);
    }

    @Test
    void directoryAsInputExitsOne() {
        Run run = xpsc("check", dir.toString());
        assertEquals(1, run.code(), run::toString);
        assertTrue(run.err().contains("is a directory"), run::toString);
        assertNoStackTrace(run);
    }

    @Test
    void aFileThatFailsToReadExitsOne() {
        // Permissions do not stop root, but reading /proc/self/mem from offset 0 fails (EIO) for
        // everyone: a real read error, whoever runs the tests.
        Run run = xpsc("check", "/proc/self/mem");
        assertEquals(1, run.code(), run::toString);
        assertTrue(run.err().contains("/proc/self/mem: error: cannot read"), run::toString);
        assertNoStackTrace(run);
    }

    @Test
    void garbageInputExitsOneWithoutStackTrace() throws IOException {
        Random random = new Random(0x5eed_c11L);
        for (int i = 0; i < 20; i++) {
            byte[] bytes = new byte[1 + random.nextInt(4_000)];
            random.nextBytes(bytes);
            Path binary = dir.resolve("binary" + i + ".xps");
            Files.write(binary, bytes);
            StringBuilder ascii = new StringBuilder();
            for (int j = 0; j < bytes.length; j++) {
                ascii.append((char) (random.nextInt(10) == 0 ? '\n' : 0x20 + random.nextInt(0x5f)));
            }
            Path text = file("ascii" + i + ".xps", ascii.toString());
            for (Path p : List.of(binary, text)) {
                Run run = xpsc("check", p.toString());
                assertEquals(1, run.code(), () -> p + ": " + run);
                assertNoStackTrace(run);
                assertTrue(run.err().contains(p + ":"), () -> p + ": " + run);
            }
        }
    }

    @Test
    void notUtf8ExitsOne() throws IOException {
        Path latin1 = dir.resolve("latin1.xps");
        Files.write(latin1, "handler caf\u00e9 on tcp port 1 { return pass; }".getBytes(StandardCharsets.ISO_8859_1));
        Run run = xpsc("check", latin1.toString());
        assertEquals(1, run.code(), run::toString);
        assertTrue(run.err().contains(latin1 + ":1:1: error: file is not UTF-8 text"), run::toString);
        assertNoStackTrace(run);
    }

    @Test
    void pathologicalInputsExitOneWithoutStackTrace() throws IOException {
        List<String> inputs = List.of(
                "handler h on tcp port 1 { decode { n = u8; } else pass; let x = " + "(".repeat(10_000) + "1"
                        + ")".repeat(10_000) + "; return pass; }",
                ";".repeat(1_000_001),
                "\0".repeat(1_000),
                "#" + "x".repeat((4 << 20) + 1),
                "{".repeat(100_000));
        for (int i = 0; i < inputs.size(); i++) {
            Path p = file("pathological" + i + ".xps", inputs.get(i));
            Run run = xpsc("check", p.toString());
            assertEquals(1, run.code(), () -> p + ": " + run.err().lines().limit(5).toList());
            assertNoStackTrace(run);
            assertTrue(ERROR_LINE.matcher(run.err()).find(), () -> p + ": " + run.err().lines().limit(5).toList());
        }
    }

    @Test
    void deepButLegalExpressionsCompile() throws IOException {
        // The CLI runs the front end on a big stack: these are legal, and must neither crash nor take long
        // (the timeout is part of the check: a 200,000-term sum was once quadratic).
        List<String> expressions = List.of("let x = 1" + "+1".repeat(199_999) + ";",
                "if " + "not ".repeat(100_000) + "true { return drop; }");
        for (String expression : expressions) {
            Path p = file("deep.xps", "handler h on tcp port 1 {\n  decode { n = u8; } else pass;\n  " + expression
                    + "\n  return pass;\n}\n");
            Run run = xpsc("check", p.toString());
            assertNoStackTrace(run);
            assertTrue(run.code() == 0 || run.err().contains("nested too deeply"), run::toString);
        }
    }

    // ------------------------------------------------------------------ targets

    @Test
    void targetsListsEveryTarget() {
        Run run = xpsc("targets");
        assertEquals(0, run.code(), run::toString);
        for (String target : List.of("java", "ebpf", "p4-bmv2", "nfp")) {
            assertTrue(Pattern.compile("(?m)^" + Pattern.quote(target) + " - ").matcher(run.out()).find(),
                    () -> "target " + target + " is not listed:\n" + run);
        }
    }

    @Test
    void ebpfWritesCTheManifestAndTheObject() throws IOException {
        Path out = dir.resolve("out");
        Path ok = file("ok.xps", VALID);
        Run run = xpsc("compile", "--target", "ebpf", "-o", out.toString(), ok.toString());
        assertEquals(0, run.code(), run::toString);
        // clang is part of this project's machines (.ci/run installs it), so the object is built too.
        for (String name : List.of("ok.bpf.c", "xps_runtime.h", "ok.manifest.json", "ok.bpf.o")) {
            assertTrue(Files.isRegularFile(out.resolve("ebpf/ok/" + name)), () -> name + " missing\n" + run);
        }
    }

    @Test
    void p4RefusesTextParsingWithACapabilityDiagnostic() throws IOException {
        Path out = dir.resolve("out");
        Path text = file("count.xps", """
                handler count on tcp port 7000 {
                  decode {
                    n = decimal max 3 digits;
                    expect " ";
                    word = until "\\n" max 16;
                  } else pass;
                  encode { "ok" }
                  return tx;
                }
                """);
        Run run = xpsc("compile", "--target", "p4-bmv2", "-o", out.toString(), text.toString());
        assertEquals(1, run.code(), run::toString);
        assertTrue(run.err().contains(text + ":3:5: error: target 'p4-bmv2' cannot express ASCII decimal numbers "
                + "(decimal)"), run::toString);
        assertTrue(run.err().contains(text + ":5:5: error: target 'p4-bmv2' cannot express a variable-length field "
                + "(bytes(n), until, skip(n), skip_until)"), run::toString);
        assertTrue(run.err().contains("0 files written"), run::toString);
        assertNoFilesUnder(out);
        assertNoStackTrace(run);
    }

    @Test
    void checkDoesNotApplyTargetCapabilities() throws IOException {
        // 'check' is the target-independent front end: the same file is fine there.
        Path text = file("count.xps", "handler count on tcp port 7000 {\n  decode { n = decimal max 3 digits; } "
                + "else pass;\n  encode { decimal(n) }\n  return tx;\n}\n");
        assertEquals(0, xpsc("check", text.toString()).code());
    }

    @Test
    void javaTargetWritesSources() throws IOException {
        Path out = dir.resolve("out");
        Path ok = file("ok.xps", VALID);
        Run run = xpsc("compile", "--target", "java", "-o", out.toString(), ok.toString());
        assertEquals(0, run.code(), run::toString);
        try (Stream<Path> files = Files.walk(out)) {
            List<Path> written = files.filter(Files::isRegularFile).toList();
            assertFalse(written.isEmpty(), run::toString);
            for (Path p : written) {
                assertTrue(run.out().contains("wrote " + p), () -> "not announced: " + p + "\n" + run);
                assertFalse(p.getFileName().toString().startsWith(".xpsc-"), "temporary file left behind: " + p);
            }
        }
    }

    @Test
    void compileWritesNothingForAFileWithErrors() throws IOException {
        Path out = dir.resolve("out");
        Path bad = file("bad.xps", VALID.replace("capacity 1000", "capacity 0"));
        Run run = xpsc("compile", "--target", "java", "-o", out.toString(), bad.toString());
        assertEquals(1, run.code(), run::toString);
        assertNoFilesUnder(out);
        // A malformed literal is an error too: the front end must not hand IR to a backend.
        Path literal = file("literal.xps", VALID.replace("port 6379", "port 6379 from 10.0.0.1/8"));
        Run literalRun = xpsc("compile", "--target", "java", "-o", out.toString(), literal.toString());
        assertEquals(1, literalRun.code(), literalRun::toString);
        assertTrue(literalRun.err().contains("has host bits set"), literalRun::toString);
        assertNoFilesUnder(out);
    }

    @Test
    void targetAllCompilesForEveryTargetThatGeneratesCodeAndSkipsNone() throws IOException {
        Path out = dir.resolve("all");
        Run run = xpsc("compile", "--target", "all", "-o", out.toString(), file("ok.xps", VALID).toString());
        assertEquals(0, run.code(), run::toString);
        assertTrue(Files.exists(out.resolve("java/xps/generated/Ok.java")), run::toString);
        // Naming a target that cannot express the file stays an error (see the p4-bmv2 test);
        // with 'all' a refusing target is only noted, so the run cannot fail for that reason.
        assertFalse(run.err().contains("error:"), run::toString);
    }

    @Test
    void inLanguageTestsRunOnJava() throws IOException {
        Run pass = xpsc("test", "--target", "java", file("ok.xps", VALID).toString());
        assertEquals(0, pass.code(), pass::toString);
        assertTrue(pass.out().contains("2 passed, 0 failed"), pass::toString);

        Path wrong = file("wrong.xps", VALID.replace("expect tx \"bar\\r\\n\";", "expect tx \"baz\\r\\n\";"));
        Run fail = xpsc("test", "--target", "java", wrong.toString());
        assertEquals(1, fail.code(), fail::toString);
        assertTrue(fail.out().contains("FAIL " + wrong + ":13:1 \"hit\" [java]"), fail::toString);
        assertTrue(fail.out().contains("1 passed, 1 failed"), fail::toString);
    }

    @Test
    void testCommandOnAFileWithErrorsExitsOne() throws IOException {
        Run run = xpsc("test", "--target", "java", file("bad.xps", BROKEN).toString());
        assertEquals(1, run.code(), run::toString);
        assertTrue(ERROR_LINE.matcher(run.err()).find(), run::toString);
    }

    static void assertNoFilesUnder(Path out) throws IOException {
        if (!Files.exists(out)) {
            return;
        }
        try (Stream<Path> files = Files.walk(out)) {
            List<Path> written = files.filter(Files::isRegularFile).toList();
            assertEquals(List.of(), written, "no file may be written for input with errors");
        }
    }
}
