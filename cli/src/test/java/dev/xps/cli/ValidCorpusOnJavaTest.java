package dev.xps.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The valid corpus of the compiler ({@code compiler/src/test/resources/valid/ok-*.xps}) carries its
 * own in-language tests; {@code xpsc test --target java} must pass all of them. This checks the
 * expectations written in the corpus and runs every construct of the language end to end.
 */
class ValidCorpusOnJavaTest {
    static List<Path> programs() throws IOException {
        Path module = Path.of(System.getProperty("basedir", Path.of("").toAbsolutePath().toString()));
        Path valid = module.resolveSibling("compiler").resolve("src/test/resources/valid");
        try (Stream<Path> files = Files.list(valid)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".xps")).sorted().toList();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("programs")
    @Timeout(60)
    void inLanguageTestsPass(Path file) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Xpsc.run(new String[] {"test", "--target", "java", file.toString()}, new PrintWriter(out),
                new PrintWriter(err));
        String report = "exit " + code + "\n" + out + err;
        assertEquals(0, code, report);
        Matcher summary = Pattern.compile("(?m)^(\\d+) passed, 0 failed$").matcher(out.toString());
        assertTrue(summary.find(), report);
        assertTrue(Integer.parseInt(summary.group(1)) > 0, "no test ran:\n" + report);
        assertFalse(err.toString().contains("error:"), report);
    }
}
