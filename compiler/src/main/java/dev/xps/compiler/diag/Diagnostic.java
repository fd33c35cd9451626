package dev.xps.compiler.diag;

/** One message for the user, anchored at a source position; {@code length} is the caret span. */
public record Diagnostic(Severity severity, SourceLocation location, int length, String message) {
    public Diagnostic {
        length = Math.max(1, length);
    }

    /** The first line of the rendered form: {@code file:line:col: error: message}. */
    public String headline() {
        return location + ": " + severity.label() + ": " + message;
    }
}
