package dev.xps.backend.p4;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.opentest4j.AssertionFailedError;

/** Golden-file comparison with the bless switch (-Dxps.bless=true rewrites), as in backends-java. */
final class Golden {
    static final boolean BLESS = Boolean.getBoolean("xps.bless");
    static final String HOW_TO_BLESS = "./mvnw -B -o -pl backends-p4 test -Dxps.bless=true";

    private Golden() {}

    static Path dir() {
        return Samples.moduleDir().resolve("src/test/resources/golden");
    }

    static void compare(String relative, String actual) throws IOException {
        Path golden = dir().resolve(relative);
        if (BLESS) {
            Files.createDirectories(golden.getParent());
            Files.writeString(golden, actual, StandardCharsets.UTF_8);
            return;
        }
        if (!Files.exists(golden)) {
            fail("no golden file " + golden + "\nCreate it with: " + HOW_TO_BLESS + " (then review and commit it)");
        }
        String expected = Files.readString(golden, StandardCharsets.UTF_8);
        if (!expected.equals(actual)) {
            List<String> e = expected.lines().toList();
            List<String> a = actual.lines().toList();
            int line = 0;
            while (line < e.size() && line < a.size() && e.get(line).equals(a.get(line))) {
                line++;
            }
            throw new AssertionFailedError("generated output differs from " + golden + "\nfirst difference at line "
                    + (line + 1) + ":\n  golden:    " + (line < e.size() ? e.get(line) : "<end of file>")
                    + "\n  generated: " + (line < a.size() ? a.get(line) : "<end of file>") + "\nIf the change is "
                    + "intended: " + HOW_TO_BLESS + " and review the diff", expected, actual);
        }
    }

    /** Golden files that no sample produces any more: deleted when blessing, a failure otherwise. */
    static void noStale(Set<String> expected) throws IOException {
        List<Path> stale;
        try (Stream<Path> files = Files.list(dir())) {
            stale = files.filter(p -> !expected.contains(p.getFileName().toString())).toList();
        }
        if (BLESS) {
            for (Path p : stale) {
                Files.delete(p);
            }
            return;
        }
        if (!stale.isEmpty()) {
            fail("golden files without a sample: " + stale + "\nRemove them with: " + HOW_TO_BLESS);
        }
    }
}
