package dev.xps.compiler.target;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.compiler.diag.DiagnosticPrinter;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.Severity;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.driver.Compiler;
import dev.xps.compiler.ir.IrModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The capability corpus: every {@code src/test/resources/capabilities/NAME.xps} is a valid program
 * checked against a target {@code 't'} that lacks the features named on its {@code # lacks:} line
 * (and explains the ones on {@code # reason FEATURE: text} lines); {@code NAME.expected} holds exactly
 * what xpsc prints, {@code capabilities/NAME.xps:LINE:COL: error: target 't' cannot express ...},
 * source line and caret included. A program whose name starts with {@code ok-} must pass the check.
 *
 * <p>Bless after an intended change (then read the diff):
 * <pre>
 * ./mvnw -B -o -pl compiler test -Dtest=CapabilityCorpusTest -Dxps.bless=true
 * </pre>
 */
class CapabilityCorpusTest {
    static final String CORPUS = "capabilities";
    static final boolean BLESS = Boolean.getBoolean("xps.bless");
    private static final Pattern LACKS = Pattern.compile("(?m)^# lacks:(.*)$");
    private static final Pattern REASON = Pattern.compile("(?m)^# reason ([A-Z0-9_]+): (.*)$");

    static Path dir() {
        String basedir = System.getProperty("basedir");
        Path module = basedir != null ? Path.of(basedir) : Path.of("").toAbsolutePath();
        if (!Files.isDirectory(module.resolve("src/test/resources/" + CORPUS))) {
            module = module.resolve("compiler");
        }
        return module.resolve("src/test/resources/" + CORPUS);
    }

    static List<Path> programs() {
        try (Stream<Path> files = Files.list(dir())) {
            return files.filter(p -> p.toString().endsWith(".xps")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A target named 't' that lacks what the program's header says. */
    record TestTarget(Capabilities capabilities) implements Backend {
        @Override
        public String name() {
            return "t";
        }

        @Override
        public String description() {
            return "test target";
        }

        @Override
        public List<GeneratedFile> generate(IrModule module, Diagnostics diagnostics) {
            return List.of();
        }
    }

    static TestTarget target(String text) {
        Matcher m = LACKS.matcher(text);
        if (!m.find()) {
            throw new IllegalArgumentException("no '# lacks: FEATURE, ...' line");
        }
        List<Feature> lacks = new ArrayList<>();
        for (String name : m.group(1).split(",")) {
            if (!name.isBlank()) {
                lacks.add(Feature.valueOf(name.strip()));
            }
        }
        Capabilities caps = Capabilities.allExcept(lacks.toArray(Feature[]::new));
        Matcher r = REASON.matcher(text);
        while (r.find()) {
            caps = caps.because(Feature.valueOf(r.group(1)), r.group(2).strip());
        }
        return new TestTarget(caps);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("programs")
    void diagnosticsMatchGolden(Path file) throws IOException {
        String name = file.getFileName().toString();
        String text = Files.readString(file, StandardCharsets.UTF_8);
        SourceFile source = new SourceFile(CORPUS + "/" + name, text);
        Diagnostics front = new Diagnostics();
        Optional<IrModule> module = Compiler.compile(source, front);
        assertTrue(module.isPresent() && !front.hasErrors() && front.sorted().isEmpty(), () -> name
                + " must compile cleanly before the capability check:\n"
                + new DiagnosticPrinter(Map.of(source.name(), source)).renderAll(front));
        Diagnostics d = new Diagnostics();
        boolean fits = CapabilityChecker.check(module.get(), target(text), d);
        String actual = new DiagnosticPrinter(Map.of(source.name(), source)).renderAll(d);
        if (name.startsWith("ok-")) {
            assertTrue(fits, () -> name + " must fit the target:\n" + actual);
        } else {
            assertFalse(fits, () -> name + " must be refused");
            assertTrue(d.sorted().stream().allMatch(x -> x.severity() == Severity.ERROR), actual);
        }
        Path expectedFile = file.resolveSibling(name.replaceFirst("\\.xps$", ".expected"));
        if (BLESS) {
            Files.writeString(expectedFile, actual, StandardCharsets.UTF_8);
            return;
        }
        if (!Files.exists(expectedFile)) {
            fail("missing " + CORPUS + "/" + expectedFile.getFileName() + "; run ./mvnw -B -o -pl compiler test "
                    + "-Dtest=CapabilityCorpusTest -Dxps.bless=true\nIt would contain:\n" + actual);
        }
        assertEquals(Files.readString(expectedFile, StandardCharsets.UTF_8), actual,
                () -> "diagnostics of " + name + " differ from its .expected");
    }

    /** The features this corpus is about each have a program whose golden shows the refusal. */
    @Test
    void theFinerFeaturesAreEachRefusedSomewhere() throws IOException {
        EnumSet<Feature> covered = EnumSet.noneOf(Feature.class);
        for (Path p : programs()) {
            Path expected = p.resolveSibling(p.getFileName().toString().replaceFirst("\\.xps$", ".expected"));
            if (p.getFileName().toString().startsWith("ok-") || !Files.exists(expected)) {
                continue;
            }
            String golden = Files.readString(expected, StandardCharsets.UTF_8);
            for (Feature f : Feature.values()) {
                if (golden.contains("cannot express " + f.construct())) {
                    covered.add(f);
                }
            }
        }
        EnumSet<Feature> wanted = EnumSet.of(Feature.TCP, Feature.HASH_MAP_WRITES, Feature.BYTES_MAP_VALUES,
                Feature.BYTES_KEYS_OF_OTHER_LENGTHS, Feature.ENCODE_AT_VARIABLE_POSITION);
        wanted.removeAll(covered);
        assertEquals(EnumSet.noneOf(Feature.class), wanted, "features no capability golden refuses");
    }

    @Test
    void aReasonForASupportedFeatureIsABug() {
        try {
            Capabilities.allExcept().because(Feature.TCP, "no");
            fail("accepted a reason for a supported feature");
        } catch (IllegalArgumentException expected) {
            // a reason explains a refusal; there is none for a supported feature
        }
    }

    @Test
    void limitsKeepTheReasons() {
        Capabilities c = Capabilities.allExcept(Feature.TCP).because(Feature.TCP, "why").withLimits(1, 2, 3, 4, 5);
        assertEquals(Optional.of("why"), c.reason(Feature.TCP));
        assertEquals(Optional.empty(), c.reason(Feature.UDP));
    }
}
