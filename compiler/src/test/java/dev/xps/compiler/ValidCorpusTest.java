package dev.xps.compiler;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every {@code src/test/resources/valid/ok-*.xps} compiles without a single diagnostic. */
class ValidCorpusTest {
    static final String CORPUS = "valid";

    static List<Path> programs() {
        return CorpusSupport.xpsFiles(CORPUS);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("programs")
    @Timeout(20)
    void compilesCleanly(Path file) {
        assertTrue(file.getFileName().toString().startsWith("ok-"), "valid programs are named ok-*.xps: " + file);
        CorpusSupport.Result result = CorpusSupport.compile(CORPUS, file);
        assertEquals("", result.rendered(), "a valid program must compile without errors or warnings");
        assertTrue(result.module().isPresent(), "no IR for " + file);
    }
}
