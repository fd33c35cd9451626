package dev.xps.compiler.diag;

/** A 1-based line and column in a named source file. Every AST and IR node carries one. */
public record SourceLocation(String file, int line, int column) {
    public static final SourceLocation NONE = new SourceLocation("<none>", 0, 0);

    @Override
    public String toString() {
        return file + ":" + line + ":" + column;
    }
}
