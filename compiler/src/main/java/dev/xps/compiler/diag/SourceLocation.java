package dev.xps.compiler.diag;

/** A 1-based line and column in a named source file. Every AST and IR node carries one. */
public record SourceLocation(String file, int line, int column) {
    public static final SourceLocation NONE = new SourceLocation("<none>", 0, 0);

    /** {@code file:line:col}, or just the file name for a problem with the whole file (line 0). */
    @Override
    public String toString() {
        return line > 0 ? file + ":" + line + ":" + column : file;
    }
}
