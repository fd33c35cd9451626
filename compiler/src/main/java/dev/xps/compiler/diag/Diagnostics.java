package dev.xps.compiler.diag;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;

/**
 * Collects the diagnostics of one compilation. Passes keep going after an error so the user
 * sees several problems in one run; a pass that cannot continue checks {@link #hasErrors()}.
 */
public final class Diagnostics {
    /** Past this many errors the rest are counted but not kept: hostile inputs stay readable. */
    public static final int MAX_REPORTED_ERRORS = 50;

    private final List<Diagnostic> all = new ArrayList<>();
    private int errorCount;

    public void error(SourceLocation at, String message) {
        report(new Diagnostic(Severity.ERROR, at, 1, message));
    }

    public void error(SourceLocation at, int length, String message) {
        report(new Diagnostic(Severity.ERROR, at, length, message));
    }

    public void warning(SourceLocation at, String message) {
        report(new Diagnostic(Severity.WARNING, at, 1, message));
    }

    public void note(SourceLocation at, String message) {
        report(new Diagnostic(Severity.NOTE, at, 1, message));
    }

    public void report(Diagnostic d) {
        if (d.severity() == Severity.ERROR) {
            errorCount++;
            if (errorCount > MAX_REPORTED_ERRORS) {
                return;
            }
        }
        all.add(d);
    }

    public boolean hasErrors() {
        return errorCount > 0;
    }

    public int errorCount() {
        return errorCount;
    }

    public int suppressedErrors() {
        return Math.max(0, errorCount - MAX_REPORTED_ERRORS);
    }

    /** In source order, so the output reads top to bottom like the file. */
    public List<Diagnostic> sorted() {
        List<Diagnostic> copy = new ArrayList<>(all);
        copy.sort(Comparator.comparing((Diagnostic d) -> d.location().file())
                .thenComparingInt(d -> d.location().line())
                .thenComparingInt(d -> d.location().column()));
        return Collections.unmodifiableList(copy);
    }
}
