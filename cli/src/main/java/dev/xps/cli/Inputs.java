package dev.xps.cli;

import dev.xps.compiler.diag.DiagnosticPrinter;
import dev.xps.compiler.diag.Diagnostics;
import dev.xps.compiler.diag.SourceFile;
import dev.xps.compiler.driver.Compiler;
import dev.xps.compiler.ir.IrModule;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** Reads input files and runs the front end on them, printing diagnostics to stderr. */
final class Inputs {
    private final PrintWriter err;
    private final Map<String, SourceFile> sources = new HashMap<>();
    private final Diagnostics diagnostics = new Diagnostics();

    Inputs(PrintWriter err) {
        this.err = err;
    }

    Diagnostics diagnostics() {
        return diagnostics;
    }

    /** The IR of one file, or empty (problems already recorded). */
    Optional<IrModule> compile(Path file) {
        Optional<SourceFile> source = read(file);
        return source.flatMap(s -> Compiler.compile(s, diagnostics));
    }

    Optional<SourceFile> read(Path file) {
        String name = file.toString();
        byte[] bytes;
        try {
            if (Files.isDirectory(file)) {
                diagnostics.error(new SourceFile(name, "").at(0, 0), "is a directory, not an .xps file");
                return Optional.empty();
            }
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            diagnostics.error(new SourceFile(name, "").at(0, 0), "no such file");
            return Optional.empty();
        } catch (IOException | OutOfMemoryError e) {
            diagnostics.error(new SourceFile(name, "").at(0, 0), "cannot read: " + e.getMessage());
            return Optional.empty();
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            SourceFile placeholder = new SourceFile(name, "");
            diagnostics.error(placeholder.at(1, 1), "file is not UTF-8 text");
            sources.put(name, placeholder);
            return Optional.empty();
        }
        SourceFile source = new SourceFile(name, text);
        sources.put(name, source);
        return Optional.of(source);
    }

    /** Prints and forgets the diagnostics so far; returns whether there were errors. */
    boolean flush() {
        err.print(new DiagnosticPrinter(sources).renderAll(diagnostics));
        err.flush();
        return diagnostics.hasErrors();
    }
}
