package dev.xps.backend.p4;

import dev.xps.compiler.ir.IrModule;
import dev.xps.testing.SampleFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Hand-written programs under src/test/resources/programs that use what p4-bmv2 accepts. */
final class Bmv2Programs {
    private Bmv2Programs() {}

    static Path dir() {
        return SampleFiles.moduleDir().resolve("src/test/resources/programs");
    }

    static List<IrModule> all() {
        try (Stream<Path> files = Files.list(dir())) {
            return files.filter(p -> p.toString().endsWith(".xps")).sorted().map(SampleFiles::compile).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
