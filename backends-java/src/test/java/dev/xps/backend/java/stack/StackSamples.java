package dev.xps.backend.java.stack;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import dev.xps.backend.java.JavaTestRunner;
import dev.xps.compiler.diag.DiagnosticPrinter;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.driver.Compiler;
import dev.xps.compiler.ir.IrMap;
import dev.xps.compiler.ir.IrModule;
import dev.xps.runtime.MapStore;
import dev.xps.runtime.XpsProgram;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Stream;

/** The repository's samples, compiled and loaded as the java target builds them. */
final class StackSamples {
    private StackSamples() {}

    static Path dir() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).toAbsolutePath()
                .resolve("../samples").normalize();
    }

    static List<Path> all() {
        try (Stream<Path> files = Files.list(dir())) {
            List<Path> samples = files.filter(p -> p.getFileName().toString().endsWith(".xps")).sorted().toList();
            assertFalse(samples.isEmpty(), "no .xps files in " + dir());
            return samples;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static IrModule compile(String name) {
        return compile(dir().resolve(name));
    }

    static IrModule compile(Path sample) {
        try {
            SourceFile source = new SourceFile(sample.getFileName().toString(), Files.readString(sample));
            Diagnostics diagnostics = new Diagnostics();
            Optional<IrModule> module = Compiler.compile(source, diagnostics);
            if (module.isEmpty() || diagnostics.hasErrors()) {
                fail("sample " + sample.getFileName() + " does not compile:\n"
                        + new DiagnosticPrinter(Map.of(source.name(), source)).renderAll(diagnostics));
            }
            return module.orElseThrow();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Function<MapStore, XpsProgram> load(IrModule module) {
        try {
            return JavaTestRunner.load(module, List.of());
        } catch (JavaTestRunner.GeneratedCodeException e) {
            throw new AssertionError(e.getMessage(), e);
        }
    }

    /** A store holding the module's maps, empty. */
    static MapStore store(IrModule module) {
        MapStore store = new MapStore();
        for (IrMap map : module.maps()) {
            store.open(StackTestRunner.mapSpec(map));
        }
        return store;
    }
}
