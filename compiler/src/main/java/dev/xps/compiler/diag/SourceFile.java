package dev.xps.compiler.diag;

import java.util.List;

/** The text of one input file, split into lines so diagnostics can quote the offending line. */
public record SourceFile(String name, String text) {
    /**
     * The lines as the lexer counts them: split at '\n' only (a CRLF's '\r' is dropped), so that line
     * N of a diagnostic is line N here even in a file with stray or old-Mac '\r' line ends.
     */
    public List<String> lines() {
        return text.isEmpty() ? List.of() : java.util.Arrays.stream(text.split("\n", -1))
                .map(l -> l.endsWith("\r") ? l.substring(0, l.length() - 1) : l).toList();
    }

    /** The text of a 1-based line, or "" when the line does not exist (e.g. an error at EOF). */
    public String line(int number) {
        List<String> lines = lines();
        return number >= 1 && number <= lines.size() ? lines.get(number - 1) : "";
    }

    public SourceLocation at(int line, int column) {
        return new SourceLocation(name, line, column);
    }
}
