package dev.xps.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.compiler.diag.Severity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The error corpus, p4c style: every {@code src/test/resources/errors/NAME.xps} is a small program
 * with one mistake (or, for {@code multiple-errors.xps}, several), and {@code NAME.expected} holds
 * exactly what xpsc prints for it: {@code errors/NAME.xps:LINE:COL: error: MESSAGE}, the source line
 * and the caret line, for every diagnostic, warnings included.
 *
 * <p>A file must produce at least one error, except {@code warn-*.xps}, which must produce warnings
 * and no error.
 *
 * <p><b>Blessing.</b> After an intended change to a message, regenerate the goldens with
 * <pre>
 * ./mvnw -B -o -pl compiler test -Dtest=ErrorCorpusTest -Dxps.bless=true
 * </pre>
 * and read the diff before committing it: each diagnostic must still point at the right line and
 * column and read well. Blessing also writes the {@code .expected} of a new {@code .xps} file.
 */
class ErrorCorpusTest {
    static final String CORPUS = "errors";
    static final boolean BLESS = Boolean.getBoolean("xps.bless");
    static final String BLESS_HINT = "run: ./mvnw -B -o -pl compiler test -Dtest=ErrorCorpusTest -Dxps.bless=true"
            + " (then review the written .expected file)";

    static List<Path> programs() {
        return CorpusSupport.xpsFiles(CORPUS);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("programs")
    @Timeout(20)
    void diagnosticsMatchGolden(Path file) throws IOException {
        String name = file.getFileName().toString();
        CorpusSupport.Result result = CorpusSupport.compile(CORPUS, file);
        String actual = result.rendered();
        if (name.startsWith("warn-")) {
            assertEquals(0, result.count(Severity.ERROR), () -> name + " must compile without errors:\n" + actual);
            assertTrue(result.count(Severity.WARNING) > 0, () -> name + " must produce a warning:\n" + actual);
            assertTrue(result.module().isPresent(), name + " produced no IR");
        } else {
            assertTrue(result.count(Severity.ERROR) > 0, () -> name + " must produce an error, but got:\n" + actual);
            assertFalse(result.module().isPresent(), name + " has errors but still produced IR");
        }
        Path expectedFile = file.resolveSibling(name.replaceFirst("\\.xps$", ".expected"));
        if (BLESS) {
            Files.writeString(expectedFile, actual, StandardCharsets.UTF_8);
            return;
        }
        if (!Files.exists(expectedFile)) {
            fail("missing " + CORPUS + "/" + expectedFile.getFileName() + " for " + name + "; " + BLESS_HINT
                    + "\nIt would contain:\n" + actual);
        }
        String expected = Files.readString(expectedFile, StandardCharsets.UTF_8);
        assertEquals(expected, actual, () -> "diagnostics of " + name + " differ from " + expectedFile.getFileName()
                + "; if the change is intended, " + BLESS_HINT);
    }

    /** A golden without its program is a leftover from a rename. */
    @Test
    void everyGoldenHasAProgram() throws IOException {
        try (var files = Files.list(CorpusSupport.corpusDir(CORPUS))) {
            List<String> orphans = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".expected"))
                    .filter(n -> !Files.exists(CorpusSupport.corpusDir(CORPUS)
                            .resolve(n.replaceFirst("\\.expected$", ".xps"))))
                    .toList();
            assertEquals(List.of(), orphans, "golden files without a program");
        }
    }

    @Test
    void corpusIsLargeEnough() {
        assertTrue(programs().size() >= 45, "the error corpus should have at least 45 programs, has "
                + programs().size());
    }
}
