package dev.xps.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.opentest4j.AssertionFailedError;

/**
 * Golden files: expected outputs checked into a directory, compared exactly. With
 * {@code -Dxps.bless=true} the comparison rewrites them instead (and removes the ones nothing
 * produces any more), so an intended change becomes a diff to review.
 */
public final class GoldenFiles {
    public static final boolean BLESS = Boolean.getBoolean("xps.bless");

    private final Path dir;
    private final String howToBless;

    /** Goldens under {@code dir}; {@code howToBless} is the command a failure tells the user to run. */
    public GoldenFiles(Path dir, String howToBless) {
        this.dir = dir;
        this.howToBless = howToBless;
    }

    /** The {@code src/test/resources/golden} directory of the running module. */
    public static GoldenFiles ofModule(String howToBless) {
        return new GoldenFiles(SampleFiles.moduleDir().resolve("src/test/resources/golden"), howToBless);
    }

    public Path dir() {
        return dir;
    }

    public void compare(String relative, String actual) throws IOException {
        Path golden = dir.resolve(relative);
        if (BLESS) {
            Files.createDirectories(golden.getParent());
            Files.writeString(golden, actual, StandardCharsets.UTF_8);
            return;
        }
        if (!Files.exists(golden)) {
            fail("no golden file " + golden + "\nCreate it with: " + howToBless + " (then review and commit it)");
        }
        String expected = Files.readString(golden, StandardCharsets.UTF_8);
        if (!expected.equals(actual)) {
            throw new AssertionFailedError("generated output differs from " + golden + "\n"
                    + firstDifference(expected, actual) + "If the change is intended: " + howToBless
                    + " and review the diff", expected, actual);
        }
    }

    /** Entries of the golden directory (files or directories) not in {@code expected}: removed when blessing, else a failure. */
    public void noStale(Set<String> expected) throws IOException {
        List<Path> stale;
        try (Stream<Path> entries = Files.list(dir)) {
            stale = entries.filter(p -> !expected.contains(p.getFileName().toString())).toList();
        }
        if (BLESS) {
            for (Path entry : stale) {
                try (Stream<Path> walk = Files.walk(entry)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(p);
                    }
                }
            }
            return;
        }
        if (!stale.isEmpty()) {
            fail("golden files without a source: " + stale + "\nRemove them with: " + howToBless);
        }
    }

    static String firstDifference(String expected, String actual) {
        List<String> e = expected.lines().toList();
        List<String> a = actual.lines().toList();
        int line = 0;
        while (line < e.size() && line < a.size() && e.get(line).equals(a.get(line))) {
            line++;
        }
        return "first difference at line " + (line + 1) + ":\n"
                + "  golden:    " + (line < e.size() ? e.get(line) : "<end of file>") + "\n"
                + "  generated: " + (line < a.size() ? a.get(line) : "<end of file>") + "\n";
    }
}
