package dev.xps.compiler;

import dev.xps.compiler.diag.DiagnosticPrinter;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.driver.Compiler;
import dev.xps.compiler.ir.IrModule;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/** Shared helpers of the corpus tests: where the corpora live and how a file is compiled and rendered. */
final class CorpusSupport {
    private CorpusSupport() {}

    /** The module directory: surefire sets {@code basedir}; an IDE usually runs tests from the module. */
    static Path moduleDir() {
        String basedir = System.getProperty("basedir");
        if (basedir != null) {
            return Path.of(basedir);
        }
        Path cwd = Path.of("").toAbsolutePath();
        return Files.isDirectory(cwd.resolve("src/test/resources/errors")) ? cwd : cwd.resolve("compiler");
    }

    /** The source (not target/) directory of a corpus, so blessing rewrites the checked-in files. */
    static Path corpusDir(String name) {
        return moduleDir().resolve("src/test/resources").resolve(name);
    }

    /** The {@code .xps} files of a corpus, sorted by name. */
    static List<Path> xpsFiles(String corpus) {
        try (Stream<Path> files = Files.list(corpusDir(corpus))) {
            return files.filter(p -> p.getFileName().toString().endsWith(".xps")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The result of compiling one corpus file. */
    record Result(SourceFile source, Diagnostics diagnostics, Optional<IrModule> module) {
        /** Exactly what xpsc prints for this file. */
        String rendered() {
            return new DiagnosticPrinter(Map.of(source.name(), source)).renderAll(diagnostics);
        }

        long count(dev.xps.compiler.diag.Severity severity) {
            return diagnostics.sorted().stream().filter(d -> d.severity() == severity).count();
        }
    }

    /**
     * Compiles {@code file} under the stable name {@code corpus/<file name>}, so rendered diagnostics never
     * contain a machine-specific path.
     */
    static Result compile(String corpus, Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SourceFile source = new SourceFile(corpus + "/" + file.getFileName(), text);
        Diagnostics diagnostics = new Diagnostics();
        Optional<IrModule> module = Compiler.compile(source, diagnostics);
        return new Result(source, diagnostics, module);
    }
}
