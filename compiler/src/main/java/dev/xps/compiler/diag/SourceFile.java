package dev.xps.compiler.diag;

import java.util.List;

/** The text of one input file, split into lines so diagnostics can quote the offending line. */
public record SourceFile(String name, String text) {
    public List<String> lines() {
        return text.lines().toList();
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
