package dev.xps.testing;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.compiler.diag.DiagnosticPrinter;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.driver.Compiler;
import dev.xps.compiler.ir.IrModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** The repository's {@code samples/*.xps}, and other .xps text, compiled by the real front end. */
public final class SampleFiles {
    private SampleFiles() {}

    /** The running module's directory: Surefire sets {@code basedir}; an IDE runs in the module directory. */
    public static Path moduleDir() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    }

    public static Path dir() {
        return moduleDir().resolve("../samples").normalize();
    }

    /** Every sample; none is skipped, and finding none is a failure rather than a silent pass. */
    public static List<Path> all() {
        return xpsFilesIn(dir());
    }

    /** The .xps files in {@code dir}, sorted; an empty or missing directory fails. */
    public static List<Path> xpsFilesIn(Path dir) {
        assertTrue(Files.isDirectory(dir), ".xps directory not found at " + dir);
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> found = files.filter(p -> p.getFileName().toString().endsWith(".xps")).sorted().toList();
            assertFalse(found.isEmpty(), "no .xps files in " + dir);
            return found;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path named(String fileName) {
        return dir().resolve(fileName);
    }

    /** "redis-get" for samples/redis-get.xps. */
    public static String base(Path sample) {
        return sample.getFileName().toString().replaceFirst("\\.xps$", "");
    }

    /** The file's IR, named by file name only (as xpsc users see it, so outputs do not depend on where the repo is). */
    public static IrModule compile(Path sample) {
        try {
            return compile(sample.getFileName().toString(), Files.readString(sample));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code text} as a file named {@code name}; it must compile without errors. */
    public static IrModule compile(String name, String text) {
        SourceFile source = new SourceFile(name, text);
        Diagnostics diagnostics = new Diagnostics();
        Optional<IrModule> module = Compiler.compile(source, diagnostics);
        if (module.isEmpty() || diagnostics.hasErrors()) {
            fail(name + " does not compile:\n" + new DiagnosticPrinter(Map.of(source.name(), source))
                    .renderAll(diagnostics));
        }
        return module.orElseThrow();
    }
}
