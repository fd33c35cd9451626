package dev.xps.backend.p4;

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

/** The repository's samples/*.xps, compiled by the real front end. */
final class Samples {
    private Samples() {}

    static Path moduleDir() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath();
    }

    static Path dir() {
        return moduleDir().resolve("../samples").normalize();
    }

    static List<Path> all() {
        Path dir = dir();
        assertTrue(Files.isDirectory(dir), "samples directory not found at " + dir);
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> samples = files.filter(p -> p.getFileName().toString().endsWith(".xps")).sorted().toList();
            assertFalse(samples.isEmpty(), "no .xps files in " + dir);
            return samples;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path named(String name) {
        return dir().resolve(name);
    }

    static IrModule compile(Path sample) {
        try {
            return compile(sample.getFileName().toString(), Files.readString(sample));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static IrModule compile(String name, String text) {
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
