package dev.xps.compiler.diag;

/** One message for the user, anchored at a source position; {@code length} is the caret span. */
public record Diagnostic(Severity severity, SourceLocation location, int length, String message) {
    /** Messages quote the user's text; a pathological token must not make a megabyte-long message. */
    public static final int MAX_MESSAGE_CHARS = 1_000;

    public Diagnostic {
        length = Math.max(1, length);
        if (message.length() > MAX_MESSAGE_CHARS) {
            message = message.substring(0, MAX_MESSAGE_CHARS - 3) + "...";
        }
    }

    /** The first line of the rendered form: {@code file:line:col: error: message}. */
    public String headline() {
        return location + ": " + severity.label() + ": " + message;
    }
}
